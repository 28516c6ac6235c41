// A cartoon face drawn from ARKit blendshape weights (PROTOCOL.md §1.3 names).
// The avatar faces the viewer, so the subject's Left side (eyeBlinkLeft, mouthSmileLeft…) is
// drawn on the viewer's right, as in a mirror-free camera image.
// Geometry is in a 400×400 logical space; the caller scales the context.
//
// The one drawing of the built-in avatar: the demo page draws it in the browser, and the video
// dialects' renderer imports this same file on the server (src/video/face-drawing.ts, through
// @napi-rs/canvas), so both show the same face. Plain JS with no imports, so that both can load it.

export const FACE_SIZE = 400;
const CX = 200;

const SKIN = '#f1c6a2';
const SKIN_SHADE = '#e2ab86';
const HAIR = '#3a2a24';
const LIP_UPPER = '#b8555e';
const LIP_LOWER = '#c9666d';
const MOUTH_INSIDE = '#4a1a22';
const IRIS = '#4d79ad';
const INK = '#3b2620';

const clamp01 = (v) => (v < 0 ? 0 : v > 1 ? 1 : v);

/** Weight lookup that tolerates missing names (a partial or empty `weights` object), or a lookup function. */
function reader(weights) {
  if (typeof weights === 'function') return (name) => clamp01(weights(name));
  return (name) => clamp01(weights?.[name] ?? 0);
}

/**
 * Idle life added by the server's video renderer (the demo page blinks through the weights):
 * head pose (offsets in face units, roll in radians, breathing scale), an extra blink 0..1 and a
 * gaze drift −1..1 (x: viewer's right, y: down).
 */
export const NO_IDLE = Object.freeze({ pose: Object.freeze({ x: 0, y: 0, roll: 0, scale: 1 }), blink: 0, gazeX: 0, gazeY: 0 });

/** Side-specific values: index 0 = subject's Right (viewer's left), 1 = subject's Left. */
function sides(w, stem) {
  return [w(`${stem}Right`), w(`${stem}Left`)];
}

/**
 * @param {CanvasRenderingContext2D} ctx  scaled so that the face is FACE_SIZE units square
 * @param {Record<string, number> | ((name: string) => number)} weights  by ARKit name
 * @param {typeof NO_IDLE} [idle]
 */
export function drawFace(ctx, weights, idle = NO_IDLE) {
  const read = reader(weights);
  const w = idle.blink > 0 ? (name) => (name.startsWith('eyeBlink') ? Math.max(read(name), idle.blink) : read(name)) : read;
  const jawOpen = w('jawOpen') * (1 - 0.85 * w('mouthClose'));
  const jawDropPx = jawOpen * 30;
  const jawShiftPx = (w('jawLeft') - w('jawRight')) * 10;

  drawBackground(ctx);
  const { pose } = idle;
  const posed = pose.x !== 0 || pose.y !== 0 || pose.roll !== 0 || pose.scale !== 1;
  if (posed) {
    // Head pose: roll about the neck, breathing scale about the chin.
    ctx.save();
    ctx.translate(CX + pose.x, 330 + pose.y);
    ctx.rotate(pose.roll);
    ctx.scale(pose.scale, pose.scale);
    ctx.translate(-CX, -330);
  }
  drawHead(ctx, jawDropPx, jawShiftPx, w('cheekPuff'));
  drawCheeks(ctx, w);
  drawEyes(ctx, w, idle);
  drawBrows(ctx, w);
  drawNose(ctx, w);
  drawMouth(ctx, w, jawOpen, jawShiftPx);
  if (posed) ctx.restore();
}

function drawBackground(ctx) {
  const g = ctx.createLinearGradient(0, 0, 0, FACE_SIZE);
  g.addColorStop(0, '#dfe8f3');
  g.addColorStop(1, '#b9c8da');
  ctx.fillStyle = g;
  // Wider than the square: the server's renderer letterboxes it into non-square frames.
  ctx.fillRect(-FACE_SIZE, -FACE_SIZE / 4, 3 * FACE_SIZE, 1.5 * FACE_SIZE);
}

function headPath(ctx, jawDropPx, jawShiftPx, puff) {
  const chinY = 352 + jawDropPx;
  const chinX = CX + jawShiftPx;
  const cheekX = 128 + puff * 14;
  const jawY = 300 + jawDropPx * 0.6;
  ctx.beginPath();
  ctx.moveTo(CX, 52);
  ctx.bezierCurveTo(CX + 95, 52, CX + 135, 105, CX + 134, 185);
  ctx.bezierCurveTo(CX + 133, 230, CX + cheekX, 262, CX + 104 + jawShiftPx * 0.5, jawY);
  ctx.bezierCurveTo(CX + 80 + jawShiftPx, chinY - 14, chinX + 42, chinY, chinX, chinY);
  ctx.bezierCurveTo(chinX - 42, chinY, CX - 80 + jawShiftPx, chinY - 14, CX - 104 + jawShiftPx * 0.5, jawY);
  ctx.bezierCurveTo(CX - cheekX, 262, CX - 133, 230, CX - 134, 185);
  ctx.bezierCurveTo(CX - 135, 105, CX - 95, 52, CX, 52);
  ctx.closePath();
}

function drawHead(ctx, jawDropPx, jawShiftPx, puff) {
  // Neck and ears sit behind the head outline.
  ctx.fillStyle = SKIN_SHADE;
  ctx.fillRect(CX - 52, 300, 104, 110);
  for (const side of [-1, 1]) {
    ctx.beginPath();
    ctx.ellipse(CX + side * 134, 200, 16, 30, 0, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.fillStyle = '#5d6f86';
  ctx.beginPath();
  ctx.moveTo(CX - 150, FACE_SIZE);
  ctx.quadraticCurveTo(CX - 140, 372, CX - 52, 368);
  ctx.lineTo(CX + 52, 368);
  ctx.quadraticCurveTo(CX + 140, 372, CX + 150, FACE_SIZE);
  ctx.closePath();
  ctx.fill();

  headPath(ctx, jawDropPx, jawShiftPx, puff);
  const g = ctx.createRadialGradient(CX - 30, 170, 30, CX, 210, 190);
  g.addColorStop(0, '#f7d3b4');
  g.addColorStop(1, SKIN_SHADE);
  ctx.fillStyle = g;
  ctx.fill();

  // Hair: a cap over the forehead with a side-swept fringe.
  ctx.fillStyle = HAIR;
  ctx.beginPath();
  ctx.moveTo(CX - 138, 190);
  ctx.bezierCurveTo(CX - 150, 70, CX - 60, 30, CX + 10, 34);
  ctx.bezierCurveTo(CX + 100, 36, CX + 152, 90, CX + 138, 190);
  ctx.bezierCurveTo(CX + 128, 150, CX + 118, 120, CX + 96, 104);
  ctx.bezierCurveTo(CX + 40, 118, CX - 30, 112, CX - 70, 92);
  ctx.bezierCurveTo(CX - 100, 112, CX - 124, 140, CX - 138, 190);
  ctx.closePath();
  ctx.fill();
}

function drawCheeks(ctx, w) {
  const squint = sides(w, 'cheekSquint');
  const smile = sides(w, 'mouthSmile');
  for (const i of [0, 1]) {
    const side = i === 0 ? -1 : 1;
    const alpha = 0.16 + 0.3 * squint[i] + 0.12 * smile[i] + 0.1 * w('cheekPuff');
    ctx.fillStyle = `rgba(226, 110, 110, ${alpha.toFixed(3)})`;
    ctx.beginPath();
    ctx.ellipse(CX + side * (84 + 8 * w('cheekPuff')), 252 - 7 * squint[i] - 3 * smile[i], 26 + 6 * w('cheekPuff'), 15, 0, 0, Math.PI * 2);
    ctx.fill();
  }
}

function drawEyes(ctx, w, idle) {
  const blink = sides(w, 'eyeBlink');
  const wide = sides(w, 'eyeWide');
  const squint = sides(w, 'eyeSquint');
  const cheekSquint = sides(w, 'cheekSquint');
  const lookIn = sides(w, 'eyeLookIn');
  const lookOut = sides(w, 'eyeLookOut');
  const lookUp = sides(w, 'eyeLookUp');
  const lookDown = sides(w, 'eyeLookDown');
  for (const i of [0, 1]) {
    const side = i === 0 ? -1 : 1;
    const ex = CX + side * 58;
    const ey = 190;
    const halfW = 27;
    // Openness of the upper lid (1 = normal) and how far the lower lid rises.
    const upper = Math.max(0, 1 - blink[i] + 0.45 * wide[i] - 0.35 * squint[i]);
    const lowerLift = 0.45 * squint[i] + 0.25 * cheekSquint[i];
    // A closed lid bows downwards; the lower curve collapses onto it so no white shows.
    const upperY = ey - 30 * upper + 7 * Math.max(0, 1 - 2 * upper);
    const lowerOpenY = ey + 22 * (1 - lowerLift);
    const lowerY = upperY + (lowerOpenY - upperY) * Math.min(1, 2 * upper);

    ctx.save();
    ctx.beginPath();
    ctx.moveTo(ex - halfW, ey);
    ctx.quadraticCurveTo(ex, upperY, ex + halfW, ey);
    ctx.quadraticCurveTo(ex, lowerY, ex - halfW, ey);
    ctx.closePath();
    ctx.fillStyle = '#fbfbf8';
    ctx.fill();
    ctx.clip();
    // Outward gaze moves the eye towards its own side of the face.
    const gazeX = (side * (lookOut[i] - lookIn[i]) + idle.gazeX) * 11;
    const gazeY = (lookDown[i] - lookUp[i] + idle.gazeY) * 7;
    ctx.fillStyle = IRIS;
    ctx.beginPath();
    ctx.arc(ex + gazeX, ey + gazeY, 11.5, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = '#15171c';
    ctx.beginPath();
    ctx.arc(ex + gazeX, ey + gazeY, 5.5, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = 'rgba(255,255,255,0.85)';
    ctx.beginPath();
    ctx.arc(ex + gazeX + 3.5, ey + gazeY - 4, 2.4, 0, Math.PI * 2);
    ctx.fill();
    ctx.restore();

    // Upper lid line with lashes; it meets the lower curve when the eye is closed.
    ctx.strokeStyle = INK;
    ctx.lineCap = 'round';
    ctx.lineWidth = 3.2;
    ctx.beginPath();
    ctx.moveTo(ex - halfW - 2, ey + 1);
    ctx.quadraticCurveTo(ex, upperY - 1, ex + halfW + 2, ey + 1);
    ctx.stroke();
    // Lid crease: follows the lid, fading as the eye closes.
    ctx.strokeStyle = `rgba(120, 70, 50, ${(0.35 * Math.min(1, upper)).toFixed(3)})`;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    ctx.moveTo(ex - halfW + 4, ey - 8);
    ctx.quadraticCurveTo(ex, ey - 20 - 16 * upper, ex + halfW - 2, ey - 8);
    ctx.stroke();
  }
}

function drawBrows(ctx, w) {
  const down = sides(w, 'browDown');
  const outerUp = sides(w, 'browOuterUp');
  const innerUp = w('browInnerUp');
  ctx.strokeStyle = HAIR;
  ctx.lineCap = 'round';
  ctx.lineWidth = 8;
  for (const i of [0, 1]) {
    const side = i === 0 ? -1 : 1;
    const innerX = CX + side * (24 - 6 * down[i]);
    const innerY = 146 - 18 * innerUp + 11 * down[i];
    const outerX = CX + side * 90;
    const outerY = 150 - 16 * outerUp[i] + 5 * down[i];
    const peakY = Math.min(innerY, outerY) - 12 + 6 * down[i];
    ctx.beginPath();
    ctx.moveTo(innerX, innerY);
    ctx.quadraticCurveTo(CX + side * 56, peakY, outerX, outerY);
    ctx.stroke();
  }
}

function drawNose(ctx, w) {
  const sneer = sides(w, 'noseSneer');
  ctx.strokeStyle = 'rgba(150, 90, 65, 0.55)';
  ctx.lineCap = 'round';
  ctx.lineWidth = 2.4;
  ctx.beginPath();
  ctx.moveTo(CX - 6, 200);
  ctx.quadraticCurveTo(CX - 12, 236, CX - 4, 246);
  ctx.stroke();
  for (const i of [0, 1]) {
    const side = i === 0 ? -1 : 1;
    const y = 250 - 5 * sneer[i];
    ctx.beginPath();
    ctx.arc(CX + side * (13 + 2 * sneer[i]), y, 7, side < 0 ? 0.2 * Math.PI : 0.1 * Math.PI, side < 0 ? 0.9 * Math.PI : 0.8 * Math.PI);
    ctx.stroke();
  }
}

/** Cubic from a to b whose middle reaches `midY`; roundness 1 puts the controls above the ends (an "O"). */
function lipCurve(ctx, a, b, midY, roundness, first) {
  const ends = (a.y + b.y) / 2;
  const controlY = (midY - 0.25 * ends) / 0.75;
  const inset = (1 - roundness) * 0.32 * (b.x - a.x);
  if (first) ctx.moveTo(a.x, a.y);
  ctx.bezierCurveTo(a.x + inset, controlY, b.x - inset, controlY, b.x, b.y);
}

function drawMouth(ctx, w, jawOpen, jawShiftPx) {
  const smile = sides(w, 'mouthSmile');
  const frown = sides(w, 'mouthFrown');
  const stretch = sides(w, 'mouthStretch');
  const dimple = sides(w, 'mouthDimple');
  const press = (w('mouthPressLeft') + w('mouthPressRight')) / 2;
  const lowerDown = (w('mouthLowerDownLeft') + w('mouthLowerDownRight')) / 2;
  const upperUp = (w('mouthUpperUpLeft') + w('mouthUpperUpRight')) / 2;
  const funnel = w('mouthFunnel');
  const pucker = w('mouthPucker');

  const midY = 298 + jawOpen * 4;
  const shiftX = (w('mouthLeft') - w('mouthRight')) * 14 + jawShiftPx * 0.6;
  const corners = [0, 1].map((i) => {
    const side = i === 0 ? -1 : 1;
    const spread = 14 * smile[i] + 16 * stretch[i] + 4 * dimple[i] - 20 * pucker - 13 * funnel - 4 * jawOpen;
    return {
      x: CX + shiftX + side * (40 + spread),
      y: midY - 13 * smile[i] + 11 * frown[i] + 3 * stretch[i] + 6 * jawOpen * (1 - funnel),
    };
  });
  const [left, right] = corners;
  const width = right.x - left.x;
  const roundness = clamp01(funnel + 0.7 * pucker);

  // The opening: the lower lip follows the jaw; funnel rounds and opens both lips.
  const upperInnerY = midY - 7 * upperUp - 6 * funnel - 3 * w('mouthShrugUpper');
  const lowerInnerY = midY + 34 * jawOpen + 9 * lowerDown + 7 * funnel - 4 * w('mouthShrugLower');
  const upperThickness = 9 * (1 - 0.55 * press - 0.6 * w('mouthRollUpper')) + 4 * pucker + 2 * funnel;
  const lowerThickness = 11 * (1 - 0.55 * press - 0.6 * w('mouthRollLower')) + 5 * pucker + 3 * funnel;
  const open = lowerInnerY - upperInnerY > 1.2;

  if (open) {
    ctx.save();
    ctx.beginPath();
    lipCurve(ctx, left, right, upperInnerY, roundness, true);
    lipCurve(ctx, right, left, lowerInnerY, roundness, false);
    ctx.closePath();
    ctx.fillStyle = MOUTH_INSIDE;
    ctx.fill();
    ctx.clip();
    // Upper teeth just under the lip; a rounded "O" hides most of them.
    const teethHalf = width * (0.27 - 0.1 * roundness);
    ctx.fillStyle = '#f4f1ea';
    ctx.beginPath();
    ctx.moveTo(CX + shiftX - teethHalf, upperInnerY - 4);
    ctx.lineTo(CX + shiftX + teethHalf, upperInnerY - 4);
    ctx.quadraticCurveTo(CX + shiftX + teethHalf, upperInnerY + 6, CX + shiftX, upperInnerY + 6);
    ctx.quadraticCurveTo(CX + shiftX - teethHalf, upperInnerY + 6, CX + shiftX - teethHalf, upperInnerY - 4);
    ctx.fill();
    ctx.fillStyle = '#d9727e';
    ctx.beginPath();
    ctx.ellipse(CX + shiftX, lowerInnerY + 4 - 10 * w('tongueOut'), width * 0.3, 10, 0, 0, Math.PI * 2);
    ctx.fill();
    ctx.restore();
  }

  // Upper lip: cupid's bow on top, the opening's upper edge below.
  const topY = upperInnerY - upperThickness;
  const bowHalf = Math.max(6, width * 0.13);
  ctx.beginPath();
  ctx.moveTo(left.x, left.y);
  ctx.quadraticCurveTo(left.x + width * 0.18, topY + 2, CX + shiftX - bowHalf, topY);
  ctx.quadraticCurveTo(CX + shiftX - bowHalf * 0.4, topY, CX + shiftX, topY + 3);
  ctx.quadraticCurveTo(CX + shiftX + bowHalf * 0.4, topY, CX + shiftX + bowHalf, topY);
  ctx.quadraticCurveTo(right.x - width * 0.18, topY + 2, right.x, right.y);
  lipCurve(ctx, right, left, upperInnerY, roundness, false);
  ctx.closePath();
  ctx.fillStyle = LIP_UPPER;
  ctx.fill();

  // Lower lip: the opening's lower edge, then a fuller outer curve.
  ctx.beginPath();
  lipCurve(ctx, left, right, lowerInnerY, roundness, true);
  lipCurve(ctx, right, left, lowerInnerY + lowerThickness, Math.max(roundness, 0.35), false);
  ctx.closePath();
  ctx.fillStyle = LIP_LOWER;
  ctx.fill();
  ctx.fillStyle = 'rgba(255,255,255,0.18)';
  ctx.beginPath();
  ctx.ellipse(CX + shiftX, lowerInnerY + lowerThickness * 0.45, width * 0.16, lowerThickness * 0.22, 0, 0, Math.PI * 2);
  ctx.fill();

  // Where the lips meet: a dark line when closed, a pressed crease when pressed.
  if (!open) {
    ctx.strokeStyle = `rgba(90, 30, 35, ${(0.75 + 0.25 * press).toFixed(3)})`;
    ctx.lineWidth = 2 + press;
    ctx.beginPath();
    lipCurve(ctx, left, right, (upperInnerY + lowerInnerY) / 2, roundness, true);
    ctx.stroke();
  }
  // Corner dimples deepen with a smile.
  ctx.lineWidth = 1.6;
  for (const i of [0, 1]) {
    const depth = Math.min(1, smile[i] + dimple[i]);
    if (depth < 0.15) continue;
    const c = corners[i];
    const side = i === 0 ? -1 : 1;
    ctx.strokeStyle = `rgba(150, 85, 65, ${(0.45 * depth).toFixed(3)})`;
    ctx.beginPath();
    ctx.moveTo(c.x + side * 2, c.y - 5);
    ctx.quadraticCurveTo(c.x + side * 6, c.y, c.x + side * 3, c.y + 5);
    ctx.stroke();
  }
}
