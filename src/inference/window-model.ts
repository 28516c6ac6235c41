import * as ort from 'onnxruntime-node';
import { createWorkerSession } from './ort-session.js';
import { PolyphaseResampler } from '../audio/resampler.js';
import { MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import { framesAt30Fps } from './frame-rate.js';
import { ARKIT_COUNT } from '../protocol/arkit.js';
import type { PcmRing } from '../audio/pcm-ring.js';
import type { WindowTask } from './tasks.js';

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
 * A window's audio → its frames' weights, on the calling thread: the window and its context from
 * the session's ring, 24 → 16 kHz, the ONNX model (one session with the pool workers' options),
 * 30 FPS frames, the window's own frames cut out. The inference worker runs this; so does the
 * bench's "inference on the main thread" ablation, so both time the same steps.
 */
export class WindowModel {
  private readonly resampler = new PolyphaseResampler(OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE);
  private input24 = new Float32Array(OUTPUT_SAMPLE_RATE * 4);
  private input16 = new Float32Array(MODEL_SAMPLE_RATE * 4);
  /**
   * The previous window's 16 kHz input, kept for the next window of the same turn: its context
   * is the end of this one, already resampled (see `resample`). Swapped with `input16` each window.
   */
  private previous16 = new Float32Array(MODEL_SAMPLE_RATE * 4);
  private previous: { turn: string; contextStart: number; length24: number } | null = null;
  /** 16 kHz samples taken from the previous window instead of resampled (bench and tests). */
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
    if (this.input16.length < MIN_MODEL_SAMPLES) this.input16 = new Float32Array(MIN_MODEL_SAMPLES);
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
    const n24 = task.end - task.contextStart;
    if (this.input24.length < n24) this.input24 = new Float32Array(n24);
    ring.readFloat(task.contextStart, task.end, this.input24);
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
   * context (400 ms of every 900): where the previous window on this worker was the same turn's
   * and the shift between them is a whole number of 16 kHz samples, the 16 kHz samples whose
   * filter span lies inside both windows' audio are copied from it — the same values, bit for
   * bit, as resampling them again (each depends only on those input samples and its phase) — and
   * only the rest is resampled. Otherwise (another turn, another worker ran the window before,
   * a shift of a partial sample) all of it is resampled.
   */
  private resample(task: WindowTask, n24: number, n16: number): void {
    const prev = this.previous;
    [this.input16, this.previous16] = [this.previous16, this.input16];
    if (this.input16.length < n16) this.input16 = new Float32Array(Math.max(n16, MIN_MODEL_SAMPLES));
    const turn = `${task.sessionId}\u0000${task.turnId}`;
    this.previous = { turn, contextStart: task.contextStart, length24: n24 };
    const shift24 = prev && prev.turn === turn ? task.contextStart - prev.contextStart : -1;
    const shiftUp = shift24 * this.resampler.up;
    if (prev && shift24 >= 0 && shiftUp % this.resampler.down === 0) {
      const shift16 = shiftUp / this.resampler.down;
      const [lo, hi] = this.resampler.interiorOutputs(Math.min(n24, prev.length24 - shift24));
      const end = Math.min(hi, n16);
      if (end > lo) {
        this.resampler.processRange(this.input24, n24, this.input16, 0, lo);
        this.input16.set(this.previous16.subarray(lo + shift16, end + shift16), lo);
        this.resampler.processRange(this.input24, n24, this.input16, end, n16);
        this.reusedSamples += end - lo;
        return;
      }
    }
    this.resampler.process(this.input24, n24, this.input16, n16);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
