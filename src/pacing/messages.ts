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
    }
  /** The turn has exactly `totalFrames` frames: report `turnDone` after the last is handed over. */
  | { op: 'end'; session: number; turn: number; totalFrames: number }
  /** Interrupt: forget the turn's queued frames now. */
  | { op: 'drop'; session: number; turn: number }
  | { op: 'close'; session: number }
  | { op: 'stop' };

export interface OutgoingFrame {
  session: number;
  turn: number;
  frameIndex: number;
  bytes: ArrayBuffer;
}

export interface PacingStats {
  /** Lateness of frames that were queued before their deadline, ms. */
  latenessP50: number;
  latenessP99: number;
  latenessMax: number;
  /** Frames sent since the last report. */
  frames: number;
  /** Frames that arrived after their deadline (inference or agent behind real time). */
  underruns: number;
  queuedFrames: number;
  latenessBuckets: number[];
  latenessBounds: readonly number[];
  latenessSum: number;
  latenessCount: number;
}

export type FromPacer =
  | { op: 'send'; frames: OutgoingFrame[] }
  /**
   * The turn's clock started or was re-anchored: its origin as `performance.timeOrigin + now()`
   * of the pacing thread (a time base every thread shares), so the main thread knows when each
   * frame is due (the deadlines of in-flight inference windows).
   */
  | { op: 'clock'; session: number; turn: number; originEpochMs: number }
  | { op: 'turnDone'; session: number; turn: number }
  | { op: 'stats'; stats: PacingStats };

export interface PacingWorkerData {
  control: SharedArrayBuffer;
  leadFrames: number;
  port: MessagePort;
}
