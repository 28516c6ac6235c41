// Turns "the weights being heard now" into canvas frames: follows speech exactly, eases back to
// the neutral face when speech stops, and blinks on its own so a silent face looks alive.

import { drawFace, FACE_SIZE } from './face.js';

/** Time constant of the ease back to neutral: quick, but not a snap. */
const RELAX_TAU_MS = 90;
/** Below this a weight is drawn as 0, so "neutral" is exactly the neutral picture. */
const SNAP_BELOW = 0.004;
const BLINK_CLOSE_MS = 70;
const BLINK_OPEN_MS = 110;

export class FaceAnimator {
  /**
   * @param {HTMLCanvasElement} canvas
   * @param {{ idleAnimation: boolean }} options  idleAnimation=false: no client-side blinks
   *   (tests compare pixels of the neutral face)
   */
  constructor(canvas, { idleAnimation }) {
    this.canvas = canvas;
    this.idleAnimation = idleAnimation;
    this.shown = {};
    this.lastMs = 0;
    this.lastKey = null;
    this.blinkStartMs = -1;
    this.nextBlinkMs = performance.now() + 1500;
    this.speaking = false;
    const scale = Math.min(2, Math.max(1, window.devicePixelRatio || 1));
    canvas.width = Math.round(FACE_SIZE * scale);
    canvas.height = Math.round(FACE_SIZE * scale);
    this.ctx = canvas.getContext('2d');
    this.ctx.setTransform(scale, 0, 0, scale, 0, 0);
    this.draw();
  }

  /** True when every weight is 0 and no blink is under way. */
  get isNeutral() {
    return Object.keys(this.shown).length === 0 && this.blinkStartMs < 0;
  }

  /** @param {Record<string, number> | null} target  weights being heard, or null in silence */
  update(nowMs, target) {
    const dtMs = this.lastMs ? Math.min(100, nowMs - this.lastMs) : 16;
    this.lastMs = nowMs;
    this.speaking = target !== null;
    if (target) {
      // In speech the player already picked the audible frame: show it as it is, no lag.
      this.shown = {};
      for (const name in target) if (target[name] >= SNAP_BELOW) this.shown[name] = target[name];
    } else {
      const keep = Math.exp(-dtMs / RELAX_TAU_MS);
      for (const name in this.shown) {
        const v = this.shown[name] * keep;
        if (v < SNAP_BELOW) delete this.shown[name];
        else this.shown[name] = v;
      }
    }
    this.draw(this.withBlink(nowMs));
  }

  /** Client-side blinks every few seconds, unless the model is blinking by itself. */
  withBlink(nowMs) {
    if (!this.idleAnimation) return this.shown;
    const modelBlinks = (this.shown.eyeBlinkLeft ?? 0) > 0.3 || (this.shown.eyeBlinkRight ?? 0) > 0.3;
    if (this.blinkStartMs < 0 && nowMs >= this.nextBlinkMs && !modelBlinks) this.blinkStartMs = nowMs;
    if (this.blinkStartMs < 0) return this.shown;
    const t = nowMs - this.blinkStartMs;
    if (t >= BLINK_CLOSE_MS + BLINK_OPEN_MS) {
      this.blinkStartMs = -1;
      // Irregular intervals look natural; a double blink now and then too.
      this.nextBlinkMs = nowMs + (Math.random() < 0.15 ? 180 : 2200 + Math.random() * 3800);
      return this.shown;
    }
    const closed = t < BLINK_CLOSE_MS ? t / BLINK_CLOSE_MS : 1 - (t - BLINK_CLOSE_MS) / BLINK_OPEN_MS;
    return {
      ...this.shown,
      eyeBlinkLeft: Math.max(this.shown.eyeBlinkLeft ?? 0, closed),
      eyeBlinkRight: Math.max(this.shown.eyeBlinkRight ?? 0, closed),
    };
  }

  /** Redraw only when the picture would change: a still face costs nothing. */
  draw(weights = this.shown) {
    let key = '';
    for (const name in weights) key += `${name}${weights[name].toFixed(3)}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    drawFace(this.ctx, weights);
  }
}
