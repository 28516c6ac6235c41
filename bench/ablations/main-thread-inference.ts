import { SyncFrameEncoder } from '../../src/inference/frame-encoder.js';
import { WindowModel } from '../../src/inference/window-model.js';
import { WindowIo } from '../../src/inference/window-io.js';
import type { WindowTask } from '../../src/inference/tasks.js';

/**
 * The ablation's "inference on the main thread": what workers/inference.ts does for a window (ring
 * read, 24→16 kHz, ONNX with the same session options, 30 FPS frames, sync_frame encoding) with
 * the same classes (WindowIo, WindowModel), on the calling thread. onnxruntime-node's run() is
 * synchronous inside a setImmediate, so the event loop is blocked for the whole model call, as it
 * would be in a server that did this.
 */
export class MainThreadInference {
  private readonly io = new WindowIo(new SyncFrameEncoder());

  private constructor(private readonly model: WindowModel) {}

  static async create(modelPath: string): Promise<MainThreadInference> {
    return new MainThreadInference(await WindowModel.create(modelPath));
  }

  /** One window task, as the worker does it; returns the task's wall time in ms. */
  async run(task: WindowTask): Promise<number> {
    const t0 = performance.now();
    const { pcm, frameCount } = this.io.readPcm(task);
    const w = await this.model.weights(this.io.ring(task.ring), task, frameCount);
    const r = this.io.finish(task, w.weights, pcm, frameCount, w.inferMs, t0, 0);
    if (r.lengths.length !== frameCount) throw new Error('main-thread encoder lost frames');
    return performance.now() - t0;
  }

  close(): Promise<void> {
    return this.model.release();
  }
}
