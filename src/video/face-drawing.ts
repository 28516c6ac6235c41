import type { SKRSContext2D } from '@napi-rs/canvas';
import { ARKIT_INDEX, type ArkitName } from '../protocol/arkit.js';
import type { IdleState } from './idle-motion.js';

/**
 * The built-in avatar: a clean 2D face drawn from the 52 ARKit weights, in a 400-unit square
 * (the caller scales the context). The subject's Left side (eyeBlinkLeft, mouthSmileLeft…) is
 * drawn on the viewer's right, as a camera would see it.
 */
export const FACE_UNITS = 400;
const CX = 200;

const COLORS = {
  backgroundTop: '#dde6f1',
  backgroundBottom: '#b4c4d8',
  skin: '#f0c4a0',
  skinShade: '#dba683',
  hair: '#35261f',
  shirt: '#4f6580',
  lipUpper: '#b5525c',
  lipLower: '#c8646b',
  mouthInside: '#45161f',
  teeth: '#f6f1ea',
  tongue: '#d9747c',
  iris: '#4a78ab',
  ink: '#3a251f',
  blush: '#e88f8f',
};

/** Weight reader over a frame of 52 values in canonical order, clamped to 0..1. */
export type WeightReader = (name: ArkitName) => number;

export function weightReader(frame: Float32Array, offset = 0): WeightReader {
  return (name) => {
    const v = frame[offset + ARKIT_INDEX[name]]!;
    return v > 0 ? (v < 1 ? v : 1) : 0;
  };
}

export interface MouthShape {
  /** Half width of the mouth, face units. */
  halfWidth: number;
  /** Opening between the lips, face units. */
  open: number;
  /** Corner lift (smile > 0, frown < 0), face units. */
  cornerLift: number;
  /** Lip thickness factor (press/roll thin the lips). */
  lipScale: number;
  /** 0..1, how round the opening is (funnel/pucker). */
  round: number;
  /** Horizontal shift of the mouth (mouthLeft/Right, jaw), face units. */
  shift: number;
  /** Jaw drop, face units. */
  jawDrop: number;
}

/** The mouth geometry the weights ask for: shared by the drawn face and the pack's viseme choice. */
export function mouthShape(w: WeightReader): MouthShape {
  const jawOpen = w('jawOpen') * (1 - 0.8 * w('mouthClose'));
  const smile = (w('mouthSmileLeft') + w('mouthSmileRight')) / 2;
  const stretch = (w('mouthStretchLeft') + w('mouthStretchRight')) / 2;
  const frown = (w('mouthFrownLeft') + w('mouthFrownRight')) / 2;
  const press = (w('mouthPressLeft') + w('mouthPressRight')) / 2;
  const round = Math.min(1, 0.6 * w('mouthPucker') + 0.8 * w('mouthFunnel'));
  const lowerDown = (w('mouthLowerDownLeft') + w('mouthLowerDownRight')) / 2;
  const upperUp = (w('mouthUpperUpLeft') + w('mouthUpperUpRight')) / 2;
  const open = Math.max(0, jawOpen * 46 + lowerDown * 10 + upperUp * 6 + w('mouthFunnel') * 8 - press * 6 - w('mouthClose') * 4);
  return {
    halfWidth: 38 + smile * 14 + stretch * 12 - round * 18 - w('mouthPucker') * 6 + w('mouthDimpleLeft') * 2 + w('mouthDimpleRight') * 2,
    open,
    cornerLift: smile * 12 - frown * 9 - stretch * 2,
    lipScale: Math.max(0.35, 1 - 0.6 * press - 0.4 * (w('mouthRollLower') + w('mouthRollUpper')) / 2 + 0.25 * w('mouthPucker')),
    round,
    shift: (w('mouthLeft') - w('mouthRight')) * 12 + (w('jawLeft') - w('jawRight')) * 8,
    jawDrop: jawOpen * 26,
  };
}

/** Draw the built-in face into `ctx`, already scaled to the 400-unit square. */
export function drawFace(ctx: SKRSContext2D, w: WeightReader, idle: IdleState): void {
  const mouth = mouthShape(w);
  drawBackground(ctx);
  ctx.save();
  // Head pose: roll about the neck, breathing scale about the chin.
  ctx.translate(CX + idle.pose.x, 330 + idle.pose.y);
  ctx.rotate(idle.pose.roll);
  ctx.scale(idle.pose.scale, idle.pose.scale);
  ctx.translate(-CX, -330);
  drawHead(ctx, mouth, w('cheekPuff'));
  drawCheeks(ctx, w);
  drawEyes(ctx, w, idle);
  drawBrows(ctx, w);
  drawNose(ctx, w);
  drawMouth(ctx, mouth, w);
  ctx.restore();
}

function drawBackground(ctx: SKRSContext2D): void {
  const g = ctx.createLinearGradient(0, 0, 0, FACE_UNITS);
  g.addColorStop(0, COLORS.backgroundTop);
  g.addColorStop(1, COLORS.backgroundBottom);
  ctx.fillStyle = g;
  // Wider than the square: the caller may letterbox a non-square canvas.
  ctx.fillRect(-400, -100, FACE_UNITS + 800, FACE_UNITS + 200);
}

function drawHead(ctx: SKRSContext2D, m: MouthShape, puff: number): void {
  ctx.fillStyle = COLORS.shirt;
  ctx.beginPath();
  ctx.moveTo(CX - 160, 420);
  ctx.bezierCurveTo(CX - 150, 360, CX - 90, 350, CX - 50, 345);
  ctx.lineTo(CX + 50, 345);
  ctx.bezierCurveTo(CX + 90, 350, CX + 150, 360, CX + 160, 420);
  ctx.closePath();
  ctx.fill();
  ctx.fillStyle = COLORS.skinShade;
  ctx.fillRect(CX - 48, 290, 96, 70);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.ellipse(CX + side * 132, 200, 15, 28, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  // Face outline: the chin follows the jaw.
  const chinY = 345 + m.jawDrop;
  const chinX = CX + m.shift * 0.5;
  const cheekX = 126 + puff * 14;
  ctx.fillStyle = COLORS.skin;
  ctx.beginPath();
  ctx.moveTo(CX, 55);
  ctx.bezierCurveTo(CX + 92, 55, CX + 132, 108, CX + 131, 185);
  ctx.bezierCurveTo(CX + 130, 232, CX + cheekX, 262, CX + 100, 298 + m.jawDrop * 0.6);
  ctx.bezierCurveTo(CX + 78, chinY - 12, chinX + 40, chinY, chinX, chinY);
  ctx.bezierCurveTo(chinX - 40, chinY, CX - 78, chinY - 12, CX - 100, 298 + m.jawDrop * 0.6);
  ctx.bezierCurveTo(CX - cheekX, 262, CX - 130, 232, CX - 131, 185);
  ctx.bezierCurveTo(CX - 132, 108, CX - 92, 55, CX, 55);
  ctx.closePath();
  ctx.fill();
  // Hair cap.
  ctx.fillStyle = COLORS.hair;
  ctx.beginPath();
  ctx.moveTo(CX - 136, 175);
  ctx.bezierCurveTo(CX - 150, 60, CX - 60, 28, CX, 34);
  ctx.bezierCurveTo(CX + 70, 28, CX + 152, 62, CX + 136, 175);
  ctx.bezierCurveTo(CX + 120, 120, CX + 90, 98, CX + 30, 96);
  ctx.bezierCurveTo(CX - 40, 94, CX - 110, 110, CX - 136, 175);
  ctx.closePath();
  ctx.fill();
}

function drawCheeks(ctx: SKRSContext2D, w: WeightReader): void {
  for (const [side, squint] of [[-1, w('cheekSquintRight')], [1, w('cheekSquintLeft')]] as const) {
    ctx.globalAlpha = 0.18 + 0.35 * squint + 0.2 * w('cheekPuff');
    ctx.fillStyle = COLORS.blush;
    ctx.beginPath();
    ctx.ellipse(CX + side * (78 + w('cheekPuff') * 8), 250 - squint * 6, 24 + w('cheekPuff') * 6, 14, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}

function drawEyes(ctx: SKRSContext2D, w: WeightReader, idle: IdleState): void {
  // side −1: subject's Right (viewer's left); +1: subject's Left.
  for (const side of [-1, 1] as const) {
    const s = side < 0 ? 'Right' : 'Left';
    const cx = CX + side * 48;
    const cy = 192;
    const blink = Math.max(w(`eyeBlink${s}`), idle.blink);
    const wide = w(`eyeWide${s}`);
    const squint = w(`eyeSquint${s}`);
    const halfH = Math.max(0, 13 * (1 - blink) * (1 + 0.45 * wide - 0.35 * squint));
    // Gaze: "Out" looks away from the nose, "In" towards it.
    const lookX = (w(`eyeLookOut${s}`) - w(`eyeLookIn${s}`)) * side + idle.gazeX;
    const lookY = w(`eyeLookDown${s}`) - w(`eyeLookUp${s}`) + idle.gazeY;
    ctx.save();
    ctx.beginPath();
    ctx.ellipse(cx, cy, 22, Math.max(halfH, 0.01), 0, 0, Math.PI * 2);
    if (halfH > 0.8) {
      ctx.fillStyle = '#ffffff';
      ctx.fill();
      ctx.clip();
      ctx.fillStyle = COLORS.iris;
      ctx.beginPath();
      ctx.arc(cx + lookX * 10, cy + lookY * 7, 10, 0, Math.PI * 2);
      ctx.fill();
      ctx.fillStyle = '#111111';
      ctx.beginPath();
      ctx.arc(cx + lookX * 10, cy + lookY * 7, 4.5, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.restore();
    // Upper lid line (also the closed eye).
    ctx.strokeStyle = COLORS.ink;
    ctx.lineWidth = 3;
    ctx.beginPath();
    ctx.moveTo(cx - 23, cy);
    ctx.quadraticCurveTo(cx, cy - halfH * 2 - 1, cx + 23, cy);
    ctx.stroke();
  }
}

function drawBrows(ctx: SKRSContext2D, w: WeightReader): void {
  ctx.strokeStyle = COLORS.hair;
  ctx.lineWidth = 6;
  ctx.lineCap = 'round';
  for (const side of [-1, 1] as const) {
    const s = side < 0 ? 'Right' : 'Left';
    const down = w(`browDown${s}`);
    const inner = 152 - w('browInnerUp') * 14 + down * 8;
    const outer = 156 - w(`browOuterUp${s}`) * 14 + down * 4;
    ctx.beginPath();
    ctx.moveTo(CX + side * 26, inner);
    ctx.quadraticCurveTo(CX + side * 50, Math.min(inner, outer) - 8, CX + side * 74, outer + 4);
    ctx.stroke();
  }
}

function drawNose(ctx: SKRSContext2D, w: WeightReader): void {
  const sneer = (w('noseSneerLeft') + w('noseSneerRight')) / 2;
  ctx.strokeStyle = COLORS.skinShade;
  ctx.lineWidth = 3;
  ctx.beginPath();
  ctx.moveTo(CX - 4, 205);
  ctx.quadraticCurveTo(CX - 14, 240 - sneer * 4, CX - 12 - sneer * 3, 250 - sneer * 4);
  ctx.quadraticCurveTo(CX, 258 - sneer * 5, CX + 12 + sneer * 3, 250 - sneer * 4);
  ctx.stroke();
}

function drawMouth(ctx: SKRSContext2D, m: MouthShape, w: WeightReader): void {
  const cx = CX + m.shift;
  const cy = 292 + m.jawDrop * 0.35;
  const hw = m.halfWidth;
  const lip = 7 * m.lipScale;
  const open = m.open;
  const lift = m.cornerLift;
  const top = cy - open * 0.35;
  const bottom = cy + open * 0.65;
  // Round mouths pull the corners in towards the middle of the opening.
  const cornerY = cy - lift + (open * 0.15) * m.round;
  const bulge = 0.55 + 0.4 * m.round;

  if (open > 1) {
    ctx.fillStyle = COLORS.mouthInside;
    ctx.beginPath();
    ctx.moveTo(cx - hw, cornerY);
    ctx.bezierCurveTo(cx - hw * bulge, top, cx + hw * bulge, top, cx + hw, cornerY);
    ctx.bezierCurveTo(cx + hw * bulge, bottom, cx - hw * bulge, bottom, cx - hw, cornerY);
    ctx.closePath();
    ctx.fill();
    ctx.save();
    ctx.clip();
    ctx.fillStyle = COLORS.teeth;
    ctx.fillRect(cx - hw, top - 2, hw * 2, Math.min(9, open * 0.35));
    if (w('tongueOut') > 0.05 || open > 14) {
      ctx.fillStyle = COLORS.tongue;
      ctx.beginPath();
      ctx.ellipse(cx, bottom - 2 + w('tongueOut') * 10, hw * 0.55, 6 + w('tongueOut') * 10, 0, 0, Math.PI * 2);
      ctx.fill();
    }
    ctx.restore();
  }
  // Upper lip: a band above the opening, with a cupid's bow.
  ctx.fillStyle = COLORS.lipUpper;
  ctx.beginPath();
  ctx.moveTo(cx - hw - 2, cornerY);
  ctx.bezierCurveTo(cx - hw * 0.6, top - lip * 1.2, cx - hw * 0.25, top - lip * 1.6, cx, top - lip * 1.1);
  ctx.bezierCurveTo(cx + hw * 0.25, top - lip * 1.6, cx + hw * 0.6, top - lip * 1.2, cx + hw + 2, cornerY);
  ctx.bezierCurveTo(cx + hw * bulge, top + 1, cx - hw * bulge, top + 1, cx - hw - 2, cornerY);
  ctx.closePath();
  ctx.fill();
  // Lower lip.
  ctx.fillStyle = COLORS.lipLower;
  ctx.beginPath();
  ctx.moveTo(cx - hw - 2, cornerY);
  ctx.bezierCurveTo(cx - hw * bulge, bottom - 1, cx + hw * bulge, bottom - 1, cx + hw + 2, cornerY);
  ctx.bezierCurveTo(cx + hw * 0.7, bottom + lip * 1.9, cx - hw * 0.7, bottom + lip * 1.9, cx - hw - 2, cornerY);
  ctx.closePath();
  ctx.fill();
  if (open <= 1) {
    ctx.strokeStyle = COLORS.mouthInside;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.moveTo(cx - hw, cornerY);
    ctx.bezierCurveTo(cx - hw * 0.5, cy + 1, cx + hw * 0.5, cy + 1, cx + hw, cornerY);
    ctx.stroke();
  }
}
