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
    const n24 = task.end - task.contextStart;
    if (this.input24.length < n24) this.input24 = new Float32Array(n24);
    ring.readFloat(task.contextStart, task.end, this.input24);
    const t1 = performance.now();
    // Every 24 kHz sample is covered: 25 frames of 800 samples are 13 333⅓ samples at 16 kHz, and
    // a model that makes one frame per 533⅓ samples gives 25 frames only for 13 334 of them.
    const n16 = this.resampler.coveringLength(n24);
    if (this.input16.length < Math.max(n16, MIN_MODEL_SAMPLES)) this.input16 = new Float32Array(Math.max(n16, MIN_MODEL_SAMPLES));
    this.resampler.process(this.input24, n24, this.input16, n16);
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

  release(): Promise<void> {
    return this.session.release();
  }
}
