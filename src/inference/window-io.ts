import { PcmRing } from '../audio/pcm-ring.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import type { SyncFrameEncoder } from './frame-encoder.js';
import type { WindowResult, WindowTask } from './tasks.js';

/**
 * What every thread that serves a window task does around the weights (the inference workers,
 * and the fill worker that serves late windows with neutral weights): read the window's PCM from
 * the session's ring, release the ring, and shape the result — finished `sync_frame` bytes or
 * bare weights. One place, so a filled window carries exactly the audio a model window would.
 */
export class WindowIo {
  private readonly rings = new Map<SharedArrayBuffer, PcmRing>();

  constructor(private readonly encoder: SyncFrameEncoder) {}

  ring(sab: SharedArrayBuffer): PcmRing {
    let ring = this.rings.get(sab);
    if (!ring) {
      ring = new PcmRing(sab);
      this.rings.set(sab, ring);
      // Sessions come and go; a small cache is plenty since each task brings its SAB anyway.
      if (this.rings.size > 256) this.rings.delete(this.rings.keys().next().value!);
    }
    return ring;
  }

  /** The window's own samples (not its context), and how many frames they make. */
  readPcm(task: WindowTask): { pcm: Int16Array; frameCount: number } {
    const pcm = new Int16Array(task.end - task.start);
    this.ring(task.ring).readPcm(task.start, task.end, pcm);
    return { pcm, frameCount: Math.ceil((task.end - task.start) / SAMPLES_PER_FRAME) };
  }

  /** Release the ring and shape the result; `startedAt` is the task's performance.now() start. */
  finish(task: WindowTask, weights: Float32Array, pcm: Int16Array, frameCount: number, inferMs: number, startedAt: number, threadId: number): WindowResult {
    this.ring(task.ring).release(task.releaseTo);
    const audioMs = ((task.end - task.start) / OUTPUT_SAMPLE_RATE) * 1000;
    if (task.output === 'weights') {
      return { bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], frameCount, weights, inferMs, taskMs: performance.now() - startedAt, audioMs, threadId };
    }
    const encoded = this.encoder.encode(task, task.firstFrameIndex, weights, pcm, frameCount);
    return { ...encoded, frameCount, inferMs, taskMs: performance.now() - startedAt, audioMs, threadId };
  }
}

/** The worker-side check of a task's `abandoned` flag: true once its result is no longer wanted. */
export function isAbandoned(task: WindowTask): boolean {
  return task.abandoned !== undefined && Atomics.load(new Int32Array(task.abandoned), 0) !== 0;
}

/** The result a worker returns for an abandoned task: no frames, the ring untouched. */
export function abandonedResult(threadId: number): WindowResult {
  return { bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], frameCount: 0, inferMs: 0, taskMs: 0, audioMs: 0, threadId, abandoned: true };
}
