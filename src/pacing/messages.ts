import type { MessagePort } from 'node:worker_threads';
/** The typed protocol between the main thread and the pacing worker (workers/pacing.ts). */
export type ToPacer =
  | {
      op: 'frames';
      session: number;
      turn: number;
      firstFrameIndex: number;
      bytes: Uint8Array;
      lengths: number[];
      timestampOffsets: number[];
      /**
       * When the last of these frames' agent audio reached the session, as `performance.timeOrigin
       * + now()` (the time base every thread shares); absent when not known. If the frames come
       * after their deadline, it tells an inference tail (audio in time: the clock keeps its
       * schedule) from a source behind real time (the clock is re-anchored): TurnClock.late.
       */
      audioReadyEpochMs?: number;
    }
  /** The turn has exactly `totalFrames` frames: report `turnDone` after the last is handed over. */
  | { op: 'end'; session: number; turn: number; totalFrames: number }
  /** Interrupt: forget the turn's queued frames now. */
  | { op: 'drop'; session: number; turn: number }
  | { op: 'close'; session: number }
  | { op: 'stop' };

/**
 * One batch of due frames from the pacer, in one transferred buffer: frame i is
 * `bytes[offset_i, offset_i + meta[4i + 3])` (offsets add up in order) of session `meta[4i]`,
 * turn `meta[4i + 1]`, frame index `meta[4i + 2]`. One buffer and one index instead of an object
 * and a transferred ArrayBuffer per frame: receiving 3-frame batches cost the main thread ~1.4
 * instead of ~3 µs a frame in a micro-benchmark (no difference measurable in the 50-session bench).
 */
export interface FrameBatch {
  bytes: ArrayBuffer;
  meta: Int32Array;
}

/** Ints per frame in `FrameBatch.meta`. */
export const FRAME_META_INTS = 4;

export interface PacingStats {
  /**
   * Lateness (send time minus deadline, ms) of the frames that were queued before their deadline:
   * the pacing thread's own precision. Lead frames (sent on arrival by design) and late frames
   * (counted in `underruns`) are not in it, so every other frame is in exactly one of the two.
   * The latenessBuckets/Bounds/Sum/Count below are the same histogram, cumulative since start.
   */
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** Frames sent since the last report. */
  frames: number;
  /**
   * Frames that arrived after their deadline, since start: every one, whether the clock kept its
   * schedule (an inference tail: all late frames of the window count) or was re-anchored (the
   * source behind real time: the first late frame counts, the ones after it are no longer late).
   */
  underruns: number;
  /** Times a turn's clock was re-anchored later because its agent audio came late, since start. */
  reanchors: number;
  queuedFrames: number;
  latenessBuckets: number[];
  latenessBounds: readonly number[];
  latenessSum: number;
  latenessCount: number;
}

export type FromPacer =
  | { op: 'send'; batch: FrameBatch }
  /**
   * The turn's clock started or was re-anchored: its origin as `performance.timeOrigin + now()`
   * of the pacing thread (a time base every thread shares), so the main thread knows when each
   * frame is due (the deadlines of in-flight inference windows). An inference tail does not move
   * the clock, so it sends none: the main thread's mirror stays right as it is.
   */
  | { op: 'clock'; session: number; turn: number; originEpochMs: number }
  | { op: 'turnDone'; session: number; turn: number }
  | { op: 'stats'; stats: PacingStats }
  /** Sent once at start: the pacing thread's kernel thread id (null off Linux), for its scheduling. */
  | { op: 'thread'; tid: number | null };

export interface PacingWorkerData {
  control: SharedArrayBuffer;
  /**
   * One BigInt64: when the pacer will wake on its own, as µs of `performance.timeOrigin + now()`
   * (the time base every thread shares), written just before it sleeps; 0 while it is awake. The
   * main thread wakes it (Atomics.notify) only for a message that must be handled sooner.
   */
  wake: SharedArrayBuffer;
  leadFrames: number;
  /**
   * PACING_BATCH_MS: the worker wakes on a grid of this many ms and sends at each point every frame
   * due before the next, so a frame goes out up to this much early and never late for it; 0 or
   * absent: one wake-up per deadline. Sessions' clocks start at arbitrary moments, so at 100
   * sessions exact deadlines are ~3000 wake-ups a second, each waking the main thread too.
   */
  batchMs?: number;
  port: MessagePort;
}
