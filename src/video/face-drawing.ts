import type { SKRSContext2D } from '@napi-rs/canvas';
import { ARKIT_INDEX, type ArkitName } from '../protocol/arkit.js';
import type { IdleState } from './idle-motion.js';

/**
 * The built-in avatar of the video dialects: the demo page's face (public/face.js), drawn from the
 * 52 ARKit weights in a 400-unit square (the caller scales the context). One drawing for both: this
 * module loads that same file, so the browser and the video frames cannot drift apart.
 */
interface SharedFace {
  FACE_SIZE: number;
  drawFace(ctx: SKRSContext2D, weights: WeightReader, idle: IdleState): void;
}

// Compiled layout: dist/src/video/face-drawing.js → public/face.js (as the demo page serves it).
const face = (await import(new URL('../../../public/face.js', import.meta.url).href)) as SharedFace;

export const FACE_UNITS = face.FACE_SIZE;

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

/** The mouth geometry the weights ask for, in face units: what an avatar pack's viseme image is chosen by. */
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
  face.drawFace(ctx, w, idle);
}
