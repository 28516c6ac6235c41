/**
 * Idle life for the rendered avatar: blinks, breathing, small head motion and gaze drift, as a
 * pure function of time. Deterministic per seed, so a session's idle animation is reproducible
 * and two sessions do not blink in lock-step. Periodic (IDLE_LOOP_S): every frequency is a whole
 * number of cycles per period and no blink spans its end, so the idle animation can be encoded
 * once as a seamless loop that idle MuseTalk sessions share (src/video/musetalk-idle-loop.ts).
 */
export interface HeadPose {
  /** Offsets in face units (the face is drawn in a 400-unit square). */
  x: number;
  y: number;
  /** Roll, radians. */
  roll: number;
  /** Breathing scale, ~1. */
  scale: number;
}

export interface IdleState {
  pose: HeadPose;
  /** 0 open … 1 closed. */
  blink: number;
  /** Gaze, −1..1 (right = viewer's right), −1..1 (down positive). */
  gazeX: number;
  gazeY: number;
}

/** Small deterministic PRNG (mulberry32) → 0..1. */
function hash01(seed: number, k: number): number {
  let a = (seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0;
  a = (a + 0x6d2b79f5) >>> 0;
  let t = Math.imul(a ^ (a >>> 15), 1 | a);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const BLINK_S = 0.16;
/** The idle animation's period, seconds (a whole number of 1 s keyframe intervals). */
export const IDLE_LOOP_S = 20;
/** Cycles per IDLE_LOOP_S: `hz(k)` is k cycles per period. */
const hz = (k: number): number => k / IDLE_LOOP_S;

export class IdleMotion {
  private k = 0;
  private current = 0.8;
  private next = 0.8;

  constructor(private readonly seed: number) {
    this.next = this.current + this.gap(0);
  }

  private gap(k: number): number {
    return 2.2 + 3.5 * hash01(this.seed, k);
  }

  /** Blink amount at `t` seconds of the period. Calls are expected in increasing `t` (O(1) each). */
  blinkAt(t: number): number {
    if (t < this.current) {
      this.k = 0;
      this.current = 0.8;
      this.next = this.current + this.gap(0);
    }
    while (this.next <= t) {
      this.current = this.next;
      this.next = this.current + this.gap(++this.k);
    }
    const dt = t - this.current;
    if (dt < 0 || dt > BLINK_S || this.current + BLINK_S > IDLE_LOOP_S) return 0;
    // Fast close, slower open.
    const x = dt / BLINK_S;
    return x < 0.4 ? x / 0.4 : 1 - (x - 0.4) / 0.6;
  }

  at(time: number, liveliness = 1): IdleState {
    const t = ((time % IDLE_LOOP_S) + IDLE_LOOP_S) % IDLE_LOOP_S;
    const s = this.seed % 1000;
    const breath = Math.sin(2 * Math.PI * hz(5) * t + s);
    const pose: HeadPose = {
      x: liveliness * (3 * Math.sin(2 * Math.PI * hz(1) * t + s) + 1.2 * Math.sin(2 * Math.PI * hz(6) * t)),
      y: liveliness * (2 * Math.sin(2 * Math.PI * hz(2) * t + 2 * s)) + 1.5 * breath,
      roll: liveliness * (0.02 * Math.sin(2 * Math.PI * hz(2) * t + s) + 0.008 * Math.sin(2 * Math.PI * hz(7) * t)),
      scale: 1 + 0.004 * breath,
    };
    return {
      pose,
      blink: this.blinkAt(t),
      gazeX: 0.25 * Math.sin(2 * Math.PI * hz(1) * t + 3 * s) * liveliness,
      gazeY: 0.1 * Math.sin(2 * Math.PI * hz(2) * t + s),
    };
  }
}
