import * as ort from 'onnxruntime-node';
import { createWorkerSession } from './ort-session.js';
import { PolyphaseResampler } from '../audio/resampler.js';
import { MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import { framesAt30Fps } from './frame-rate.js';
import { ARKIT_COUNT } from '../protocol/arkit.js';
import type { PcmRing } from '../audio/pcm-ring.js';
import type { WindowTask } from './tasks.js';

/**
 * What a turn's window leaves for its next one on the same worker: the 16 kHz samples of its last
 * TAIL_SECONDS (the next window's context: 400 ms by default, INFERENCE_CONTEXT_MS).
 */
interface TurnTail {
  /** The window's first 24 kHz sample (ring position) and how many it read. */
  contextStart: number;
  length24: number;
  /** Index, in that window's 16 kHz input, of `samples[0]`; `used` samples are valid. */
  from16: number;
  used: number;
  samples: Float32Array;
}
const TAIL_SECONDS = 0.6;
const TAIL_SAMPLES_16 = Math.round(MODEL_SAMPLE_RATE * TAIL_SECONDS);
/** Turns remembered per worker (at most ~10 MB): more than that many sessions speaking, and the oldest resample in full. */
const MAX_TAIL_TURNS = 256;

/** Models need a minimum input; shorter windows are zero-padded at the end and the extra frames dropped. */
const MIN_MODEL_SAMPLES = MODEL_SAMPLE_RATE / 5;

export interface WindowWeights {
  /** 52 ARKit weights per frame of the window (not its context), frame after frame. */
  weights: Float32Array;
  readMs: number;
  resampleMs: number;
  inferMs: number;
}

/**
 * A window's audio → its frames' weights, on the calling thread: the window, its context before it
 * and any right context after it (`readEnd`) from the session's ring, 24 → 16 kHz, the ONNX model
 * (one session with the pool workers' options), 30 FPS frames, the window's own frames cut out. The
 * inference worker runs this; so does the bench's "inference on the main thread" ablation, so both
 * time the same steps.
 */
export class WindowModel {
  private readonly resampler = new PolyphaseResampler(OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE);
  private input24 = new Float32Array(OUTPUT_SAMPLE_RATE * 4);
  private input16 = new Float32Array(MODEL_SAMPLE_RATE * 4);
  /**
   * Per turn, what its last window on this worker left for the next: the 16 kHz samples of its
   * last TAIL_SECONDS of audio (see `resample`). Least recently used first; a turn's final window
   * removes its entry.
   */
  private readonly tails = new Map<string, TurnTail>();
  private spareTails: Float32Array[] = [];
  /** 16 kHz samples taken from a turn's previous window instead of resampled (bench and tests). */
  reusedSamples = 0;
  readonly inputName: string;
  readonly outputName: string;
  /** The warm-up run's wall time, ms (half a second of silence, before the first task). */
  warmupMs = 0;

  private constructor(private readonly session: ort.InferenceSession) {
    this.inputName = session.inputNames[0]!;
    this.outputName = session.outputNames[0]!;
  }

  static async create(modelPath: string): Promise<WindowModel> {
    const m = new WindowModel(await createWorkerSession(modelPath));
    const t0 = performance.now();
    m.input16.fill(0, 0, MODEL_SAMPLE_RATE / 2);
    await m.run(MODEL_SAMPLE_RATE / 2);
    m.warmupMs = performance.now() - t0;
    return m;
  }

  private async run(samples16: number): Promise<{ weights: Float32Array; inferMs: number }> {
    const n = Math.max(samples16, MIN_MODEL_SAMPLES);
    if (n > samples16) this.input16.fill(0, samples16, n);
    // onnxruntime-node wants its own (non-shared) memory: input16 is a private Float32Array.
    const tensor = new ort.Tensor('float32', this.input16.subarray(0, n), [1, n]);
    const t0 = performance.now();
    const out = await this.session.run({ [this.inputName]: tensor });
    const inferMs = performance.now() - t0;
    const y = out[this.outputName]!;
    const frames = y.dims.length === 3 ? Number(y.dims[1]) : Math.floor(y.data.length / ARKIT_COUNT);
    return { weights: framesAt30Fps(y.data as Float32Array, frames, n), inferMs };
  }

  async weights(ring: PcmRing, task: WindowTask, frameCount: number): Promise<WindowWeights> {
    const t0 = performance.now();
    const readEnd = Math.max(task.end, task.readEnd ?? task.end);
    const n24 = readEnd - task.contextStart;
    if (this.input24.length < n24) this.input24 = new Float32Array(n24);
    ring.readFloat(task.contextStart, readEnd, this.input24);
    const t1 = performance.now();
    // Every 24 kHz sample is covered: 25 frames of 800 samples are 13 333⅓ samples at 16 kHz, and
    // a model that makes one frame per 533⅓ samples gives 25 frames only for 13 334 of them.
    const n16 = this.resampler.coveringLength(n24);
    this.resample(task, n24, n16);
    const t2 = performance.now();
    const model = await this.run(n16);
    const available = Math.floor(model.weights.length / ARKIT_COUNT);
    const offset = (task.start - task.contextStart) / SAMPLES_PER_FRAME;
    const weights = new Float32Array(frameCount * ARKIT_COUNT);
    for (let f = 0; f < frameCount; f++) {
      const src = Math.min(offset + f, available - 1);
      if (src >= 0) weights.set(model.weights.subarray(src * ARKIT_COUNT, (src + 1) * ARKIT_COUNT), f * ARKIT_COUNT);
    }
    return { weights, readMs: t1 - t0, resampleMs: t2 - t1, inferMs: model.inferMs };
  }

  /**
   * 24 → 16 kHz into `input16`. A turn's next window re-reads the end of the one before as its
   * context (400 ms of every 900): where this worker ran the turn's previous window and the shift
   * between them is a whole number of 16 kHz samples, the 16 kHz samples whose filter span lies
   * inside both windows' audio are copied from what that window left — the same values, bit for
   * bit, as resampling them again (each depends only on those input samples and its phase) — and
   * only the rest is resampled. Otherwise (a turn's first window, the one before ran on another
   * worker or was evicted, a shift of a partial sample) all of it is resampled.
   */
  private resample(task: WindowTask, n24: number, n16: number): void {
    if (this.input16.length < n16) this.input16 = new Float32Array(Math.max(n16, MIN_MODEL_SAMPLES));
    const key = `${task.sessionId}\u0000${task.turnId}`;
    const prev = this.tails.get(key);
    const { up, down } = this.resampler;
    const shift24 = prev ? task.contextStart - prev.contextStart : -1;
    let reused = 0;
    if (prev && shift24 >= 0 && (shift24 * up) % down === 0) {
      const shift16 = (shift24 * up) / down;
      const [interiorLo, hi] = this.resampler.interiorOutputs(Math.min(n24, prev.length24 - shift24));
      // Only what the previous window kept: its outputs from `from16` on, here index − shift16.
      const lo = Math.max(interiorLo, prev.from16 - shift16);
      const end = Math.min(hi, n16, prev.from16 + prev.used - shift16);
      if (end > lo) {
        this.resampler.processRange(this.input24, n24, this.input16, 0, lo);
        this.input16.set(prev.samples.subarray(lo + shift16 - prev.from16, end + shift16 - prev.from16), lo);
        this.resampler.processRange(this.input24, n24, this.input16, end, n16);
        reused = end - lo;
      }
    }
    if (reused === 0) this.resampler.process(this.input24, n24, this.input16, n16);
    this.reusedSamples += reused;
    this.keepTail(key, task, n24, n16, prev);
  }

  /** Keep this window's last TAIL_SECONDS at 16 kHz for the turn's next window (or forget the turn after its last). */
  private keepTail(key: string, task: WindowTask, n24: number, n16: number, prev: TurnTail | undefined): void {
    if (prev) this.tails.delete(key);
    if (task.final) {
      if (prev) this.spareTails.push(prev.samples);
      return;
    }
    const tail = prev ?? { contextStart: 0, length24: 0, from16: 0, used: 0, samples: this.spareTails.pop() ?? new Float32Array(TAIL_SAMPLES_16) };
    const used = Math.min(n16, tail.samples.length);
    tail.contextStart = task.contextStart;
    tail.length24 = n24;
    tail.from16 = n16 - used;
    tail.used = used;
    tail.samples.set(this.input16.subarray(n16 - used, n16));
    this.tails.set(key, tail);
    if (this.tails.size > MAX_TAIL_TURNS) {
      const [oldest, t] = this.tails.entries().next().value as [string, TurnTail];
      this.tails.delete(oldest);
      this.spareTails.push(t.samples);
    }
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
