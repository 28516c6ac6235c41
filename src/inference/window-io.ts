import { PcmRing } from '../audio/pcm-ring.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import type { SyncFrameEncoder } from './frame-encoder.js';
import type { WindowResult, WindowTask } from './tasks.js';
import { threadCpuMs } from './thread-cpu.js';

/** What a model worker measured of a task before `finish` (which times the encode itself). */
export interface TaskTiming {
  readMs: number;
  resampleMs: number;
}

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

  /**
   * Release the ring and shape the result; `startedAt` is the task's performance.now() start,
   * `timing` what the caller measured before (the encode stage is timed here).
   */
  finish(task: WindowTask, weights: Float32Array, pcm: Int16Array, frameCount: number, inferMs: number, startedAt: number, threadId: number, timing?: TaskTiming): WindowResult {
    this.ring(task.ring).release(task.releaseTo);
    const audioMs = ((task.end - task.start) / OUTPUT_SAMPLE_RATE) * 1000;
    const encodeStart = performance.now();
    const encoded = task.output === 'weights'
      ? { bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], weights }
      : this.encoder.encode(task, task.firstFrameIndex, weights, pcm, frameCount);
    const end = performance.now();
    const result: WindowResult = { ...encoded, frameCount, inferMs, taskMs: end - startedAt, audioMs, threadId, startedAtEpochMs: performance.timeOrigin + startedAt };
    if (timing) {
      result.stages = { readMs: timing.readMs, resampleMs: timing.resampleMs, modelMs: inferMs, encodeMs: end - encodeStart };
      const cpu = threadCpuMs();
      if (cpu !== undefined) result.cpuTotalMs = cpu;
    }
    return result;
  }
}

/** A task's `abandoned` flag, read by a worker before it starts and by the pool before a retry: true once its result is no longer wanted. */
export function isAbandoned(task: WindowTask): boolean {
  return task.abandoned !== undefined && Atomics.load(new Int32Array(task.abandoned), 0) !== 0;
}

/** The result a worker returns for an abandoned task: no frames, the ring untouched. */
export function abandonedResult(threadId: number): WindowResult {
  return { bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], frameCount: 0, inferMs: 0, taskMs: 0, audioMs: 0, threadId, abandoned: true };
}
