import * as ort from 'onnxruntime-node';
import { createWorkerSession } from '../../src/inference/ort-session.js';
import { PcmRing } from '../../src/audio/pcm-ring.js';
import { PolyphaseResampler } from '../../src/audio/resampler.js';
import { MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../../src/audio/constants.js';
import { framesAt30Fps } from '../../src/inference/frame-rate.js';
import { SyncFrameEncoder } from '../../src/inference/frame-encoder.js';
import { ARKIT_COUNT } from '../../src/protocol/arkit.js';
import type { WindowTask } from '../../src/inference/tasks.js';

/**
 * The ablation's "inference on the main thread": the steps of workers/inference.ts runWindow
 * (ring read, 24→16 kHz, ONNX with the same session options, 30 FPS frames, sync_frame encoding),
 * with the same modules, on the calling thread. onnxruntime-node's run() is synchronous inside a
 * setImmediate, so the event loop is blocked for the whole model call, as it would be in a server
 * that did this.
 */
const MIN_MODEL_SAMPLES = MODEL_SAMPLE_RATE / 5;

export class MainThreadInference {
  private readonly resampler = new PolyphaseResampler(OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE);
  private readonly encoder = new SyncFrameEncoder();
  private readonly rings = new Map<SharedArrayBuffer, PcmRing>();
  private input24 = new Float32Array(OUTPUT_SAMPLE_RATE * 4);
  private input16 = new Float32Array(MODEL_SAMPLE_RATE * 4);

  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(modelPath: string): Promise<MainThreadInference> {
    const session = await createWorkerSession(modelPath);
    const runner = new MainThreadInference(session);
    runner.input16.fill(0, 0, MODEL_SAMPLE_RATE / 2);
    await runner.model(MODEL_SAMPLE_RATE / 2);
    return runner;
  }

  private async model(samples16: number): Promise<Float32Array> {
    const n = Math.max(samples16, MIN_MODEL_SAMPLES);
    if (n > samples16) this.input16.fill(0, samples16, n);
    const tensor = new ort.Tensor('float32', this.input16.subarray(0, n), [1, n]);
    const out = await this.session.run({ [this.session.inputNames[0]!]: tensor });
    const y = out[this.session.outputNames[0]!]!;
    const frames = y.dims.length === 3 ? Number(y.dims[1]) : Math.floor(y.data.length / ARKIT_COUNT);
    return framesAt30Fps(y.data as Float32Array, frames, n);
  }

  /** One window task, as the worker does it; returns the task's wall time in ms. */
  async run(task: WindowTask): Promise<number> {
    const t0 = performance.now();
    let ring = this.rings.get(task.ring);
    if (!ring) this.rings.set(task.ring, (ring = new PcmRing(task.ring)));
    const frameCount = Math.ceil((task.end - task.start) / SAMPLES_PER_FRAME);
    const pcm = new Int16Array(task.end - task.start);
    ring.readPcm(task.start, task.end, pcm);
    const n24 = task.end - task.contextStart;
    if (this.input24.length < n24) this.input24 = new Float32Array(n24);
    ring.readFloat(task.contextStart, task.end, this.input24);
    const n16 = this.resampler.coveringLength(n24);
    if (this.input16.length < Math.max(n16, MIN_MODEL_SAMPLES)) this.input16 = new Float32Array(Math.max(n16, MIN_MODEL_SAMPLES));
    this.resampler.process(this.input24, n24, this.input16, n16);
    const all = await this.model(n16);
    const available = Math.floor(all.length / ARKIT_COUNT);
    const offset = (task.start - task.contextStart) / SAMPLES_PER_FRAME;
    const weights = new Float32Array(frameCount * ARKIT_COUNT);
    for (let f = 0; f < frameCount; f++) {
      const src = Math.min(offset + f, available - 1);
      if (src >= 0) weights.set(all.subarray(src * ARKIT_COUNT, (src + 1) * ARKIT_COUNT), f * ARKIT_COUNT);
    }
    const encoded = this.encoder.encode(task, task.firstFrameIndex, weights, pcm, frameCount);
    if (encoded.lengths.length !== frameCount) throw new Error('main-thread encoder lost frames');
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
