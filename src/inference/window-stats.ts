import { Histogram } from '../metrics/histogram.js';
import type { WindowResult, WindowStages } from './tasks.js';

const WAIT_BOUNDS_MS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];
const STAGE_BOUNDS_MS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50, 100];
/** Windows are counted by their index in the turn: 0, 1, 2, and the rest together. */
export const WINDOW_INDEX_LABELS = ['0', '1', '2', '3+'] as const;

/**
 * Where a window's time goes, seen from the main thread: queued (dispatch → a worker starts it),
 * the worker's stages, the whole round trip, worker-thread CPU against wall time, and which
 * window of a turn came back after its first frame was due. Fed by the inference pool, read by
 * /metrics and the bench.
 */
export class WindowStats {
  readonly queueWaitMs = new Histogram(WAIT_BOUNDS_MS);
  readonly roundTripMs = new Histogram(WAIT_BOUNDS_MS);
  readonly stageMs: Record<keyof WindowStages, Histogram> = {
    readMs: new Histogram(STAGE_BOUNDS_MS),
    resampleMs: new Histogram(STAGE_BOUNDS_MS),
    modelMs: new Histogram(STAGE_BOUNDS_MS),
    encodeMs: new Histogram(STAGE_BOUNDS_MS),
  };
  /**
   * Worker-thread CPU, ms: the growth of each worker thread's running total between its results
   * (the windows and the pool's hand-offs between them), exact to one scheduler tick per thread.
   * `workerWallMs`: the wall time of the same threads' tasks after their first result.
   */
  workerCpuMs = 0;
  workerWallMs = 0;
  private readonly lastCpuTotal = new Map<number, number>();
  readonly byIndex = [0, 0, 0, 0];
  readonly lateByIndex = [0, 0, 0, 0];

  /**
   * One model window's result. `dispatchedAtEpochMs` is when the main thread handed it to the
   * pool; `dueAtMs` (performance.now() clock) its first frame's due time when the result arrived,
   * if the turn's clock runs; `windowIndex` its place in the turn, if known.
   */
  observe(r: WindowResult, dispatchedAtEpochMs: number, arrivedAtMs: number, dueAtMs: number | undefined, windowIndex: number | undefined): void {
    const arrivedAtEpochMs = performance.timeOrigin + arrivedAtMs;
    this.roundTripMs.observe(arrivedAtEpochMs - dispatchedAtEpochMs);
    if (r.startedAtEpochMs !== undefined) this.queueWaitMs.observe(Math.max(0, r.startedAtEpochMs - dispatchedAtEpochMs));
    if (r.stages) {
      for (const k of Object.keys(this.stageMs) as Array<keyof WindowStages>) this.stageMs[k].observe(r.stages[k]);
    }
    if (r.cpuTotalMs !== undefined) {
      // The first result of a thread (a new or a replaced worker) sets its baseline.
      const last = this.lastCpuTotal.get(r.threadId);
      if (last !== undefined && r.cpuTotalMs >= last) {
        this.workerCpuMs += r.cpuTotalMs - last;
        this.workerWallMs += r.taskMs;
      }
      this.lastCpuTotal.set(r.threadId, r.cpuTotalMs);
      if (this.lastCpuTotal.size > 64) this.lastCpuTotal.delete(this.lastCpuTotal.keys().next().value!);
    }
    if (windowIndex !== undefined) {
      const i = Math.min(windowIndex, 3);
      this.byIndex[i]!++;
      if (dueAtMs !== undefined && arrivedAtMs > dueAtMs) this.lateByIndex[i]!++;
    }
  }
}
