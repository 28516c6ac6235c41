import { createCanvas, loadImage, type Canvas, type Image, type SKRSContext2D } from '@napi-rs/canvas';
import { ARKIT_COUNT, ARKIT_INDEX } from '../protocol/arkit.js';
import { drawFace, FACE_UNITS, mouthShape, weightReader } from './face-drawing.js';
import { IdleMotion, type IdleState } from './idle-motion.js';
import { visemeFor, type AvatarPackManifest, type Viseme, type VideoState } from './avatar-pack.js';

/**
 * Draws avatar frames from ARKit weights on a canvas of a fixed size. Worker threads only: a
 * frame costs a few milliseconds of CPU (drawing, JPEG or pixel read-back).
 *
 * Each frame = model weights (or silence) + idle life at time `t` + the current state/action.
 */
export interface FrameInput {
  /** 52 weights in canonical order at `offset` (null: silence, neutral face). */
  weights: Float32Array | null;
  offset?: number;
  /** Seconds since the stream began (drives actions; and idle life unless `idleT` is given). */
  t: number;
  /** Seconds into the idle animation (blinks, breathing, head motion), when it runs on its own phase. */
  idleT?: number;
}

interface LoadedPack {
  base: Image;
  mouths: Partial<Record<Viseme, Image>>;
  eyesClosed: Image | null;
  eyesHalf: Image | null;
}

const ACTION_S = 1.6;

export class AvatarRenderer {
  readonly canvas: Canvas;
  private readonly ctx: SKRSContext2D;
  private readonly idle: IdleMotion;
  private readonly frame = new Float32Array(ARKIT_COUNT);
  private pack: LoadedPack | null = null;
  private state: VideoState = 'idle';
  private action: { index: number; startT: number } | null = null;

  constructor(readonly width: number, readonly height: number, seed = 1) {
    this.canvas = createCanvas(width, height);
    this.ctx = this.canvas.getContext('2d');
    this.idle = new IdleMotion(seed);
  }

  /** Use an avatar pack (null: the built-in face). */
  async usePack(manifest: AvatarPackManifest | null): Promise<void> {
    if (!manifest) {
      this.pack = null;
      return;
    }
    const mouths: LoadedPack['mouths'] = {};
    for (const [v, file] of Object.entries(manifest.mouths)) mouths[v as Viseme] = await loadImage(file);
    this.pack = {
      base: await loadImage(manifest.base),
      mouths,
      eyesClosed: manifest.eyes.closed ? await loadImage(manifest.eyes.closed) : null,
      eyesHalf: manifest.eyes.half ? await loadImage(manifest.eyes.half) : null,
    };
  }

  setState(state: VideoState): void {
    this.state = state;
  }

  /** Insert a short gesture (1: nod and smile, 2: head tilt with raised brows) starting at `t`. */
  triggerAction(index: number, t: number): void {
    this.action = { index, startT: t };
  }

  /** Draw one frame onto the canvas. */
  draw(input: FrameInput): void {
    const w = this.frame;
    if (input.weights) w.set(input.weights.subarray(input.offset ?? 0, (input.offset ?? 0) + ARKIT_COUNT));
    else w.fill(0);
    const speaking = input.weights !== null;
    const idle = this.idle.at(input.idleT ?? input.t, speaking || this.state === 'speaking' ? 0.6 : 1);
    this.applyGesture(w, idle, input.t);
    const ctx = this.ctx;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    const scale = Math.min(this.width, this.height) / FACE_UNITS;
    ctx.translate((this.width - FACE_UNITS * scale) / 2, (this.height - FACE_UNITS * scale) / 2);
    ctx.scale(scale, scale);
    if (this.pack) this.drawPack(idle);
    else drawFace(ctx, weightReader(w), idle);
  }

  private applyGesture(w: Float32Array, idle: IdleState, t: number): void {
    const a = this.action;
    let amount = 0;
    let index = 0;
    if (a) {
      const x = (t - a.startT) / ACTION_S;
      if (x >= 0 && x <= 1) {
        amount = Math.sin(Math.PI * x);
        index = a.index;
      } else if (x > 1) {
        this.action = null;
      }
    }
    if (!a && this.state === 'action') {
      amount = 0.5 + 0.5 * Math.sin(2 * Math.PI * 0.5 * t);
      index = 1;
    }
    if (amount === 0) return;
    const raise = (name: keyof typeof ARKIT_INDEX, v: number) => {
      const i = ARKIT_INDEX[name];
      w[i] = Math.max(w[i]!, v);
    };
    if (index === 1) {
      idle.pose.y += 10 * amount * Math.sin(4 * Math.PI * Math.min(1, amount));
      raise('mouthSmileLeft', 0.8 * amount);
      raise('mouthSmileRight', 0.8 * amount);
      raise('cheekSquintLeft', 0.5 * amount);
      raise('cheekSquintRight', 0.5 * amount);
    } else {
      idle.pose.roll += 0.12 * amount;
      raise('browInnerUp', 0.9 * amount);
      raise('browOuterUpLeft', 0.8 * amount);
      raise('browOuterUpRight', 0.8 * amount);
      raise('eyeWideLeft', 0.5 * amount);
      raise('eyeWideRight', 0.5 * amount);
    }
  }

  private drawPack(idle: IdleState): void {
    const pack = this.pack!;
    const ctx = this.ctx;
    const r = weightReader(this.frame);
    ctx.save();
    ctx.translate(FACE_UNITS / 2 + idle.pose.x, FACE_UNITS * 0.8 + idle.pose.y);
    ctx.rotate(idle.pose.roll * 0.5);
    ctx.scale(idle.pose.scale, idle.pose.scale);
    ctx.translate(-FACE_UNITS / 2, -FACE_UNITS * 0.8);
    // Cover the square with the portrait; layers share its placement.
    const img = pack.base;
    const s = Math.max(FACE_UNITS / img.width, FACE_UNITS / img.height);
    const dw = img.width * s;
    const dh = img.height * s;
    const dx = (FACE_UNITS - dw) / 2;
    const dy = (FACE_UNITS - dh) / 2;
    ctx.drawImage(img, dx, dy, dw, dh);
    const viseme = visemeFor(mouthShape(r));
    const mouth = pack.mouths[viseme] ?? pack.mouths.rest;
    if (mouth) ctx.drawImage(mouth, dx, dy, dw, dh);
    const blink = Math.max(idle.blink, (r('eyeBlinkLeft') + r('eyeBlinkRight')) / 2);
    const eyes = blink > 0.7 ? pack.eyesClosed : blink > 0.3 ? (pack.eyesHalf ?? pack.eyesClosed) : null;
    if (eyes) ctx.drawImage(eyes, dx, dy, dw, dh);
    ctx.restore();
  }

  /** The current canvas as a JPEG. */
  jpeg(quality = 80): Buffer {
    return this.canvas.encodeSync('jpeg', quality);
  }

  /** The current canvas as RGBA bytes (width × height × 4), for the video encoder. */
  rgba(): Uint8ClampedArray {
    return this.ctx.getImageData(0, 0, this.width, this.height).data as Uint8ClampedArray;
  }
}
