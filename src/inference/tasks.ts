/**
 * The typed protocol between the main thread and the inference workers (workers/inference.ts).
 * Positions are absolute sample indices of the session's 24 kHz PcmRing.
 */

/** Where a window lies in the ring: what every producer of windows (widget turns, video speech) fills in. */
export interface WindowSpan {
  /** First sample fed to the model (earlier audio of the same turn, as context). */
  contextStart: number;
  /** First sample whose frames this task produces; (start − contextStart) is a whole number of frames. */
  start: number;
  /** End of the window (exclusive). Whole frames unless `final`. */
  end: number;
  /**
   * Audio after the window that is already in the ring, up to here (exclusive; absent: `end`): fed to
   * the model as right context, so the window's last frames see the sound that follows as the
   * model's lookahead expects (INFERENCE_RIGHT_CONTEXT_MS). It yields no frames of its own; it is
   * never released by this task.
   */
  readEnd?: number;
  firstFrameIndex: number;
  /** The turn's last window: a short last frame is zero-padded. */
  final: boolean;
  /** Everything before this position may be overwritten once the task has read the ring. */
  releaseTo: number;
}

export interface WindowTask extends WindowSpan {
  kind: 'window';
  ring: SharedArrayBuffer;
  sessionId: string;
  turnId: string;
  /**
   * One Int32 the main thread sets to 1 once the result is no longer wanted (a hedge or a neutral
   * fill was used instead): a worker that only now picks the task up returns at once, untouched.
   */
  abandoned?: SharedArrayBuffer;
  /** The window's place in its turn (0 = first), for the late-window statistics. */
  windowIndex?: number;
  /**
   * What the task returns: finished widget `sync_frame` bytes (default), or only the 30 FPS
   * weights (video dialects render their own frames; `bytes` is then empty).
   */
  output?: 'sync_frames' | 'weights';
}

export interface WindowResult {
  bytes: Uint8Array;
  lengths: number[];
  timestampOffsets: number[];
  frameCount: number;
  /** With `output: 'weights'`: frameCount × 52 values at 30 FPS, canonical order. */
  weights?: Float32Array;
  /** Wall time of the model call, ms. */
  inferMs: number;
  /** Wall time of the whole task in the worker (read, resample, infer, encode), ms. */
  taskMs: number;
  /** When the worker started the task: performance.timeOrigin + performance.now() in the worker (ms since the epoch, sub-ms). */
  startedAtEpochMs?: number;
  /** Where the task's wall time went, ms (model windows only). */
  stages?: WindowStages;
  /**
   * The worker thread's CPU time since it started, read as the task ends, ms (Linux:
   * /proc/thread-self/schedstat; absent elsewhere). A running total, not a per-task difference:
   * see src/inference/thread-cpu.ts for why only differences over many tasks are exact.
   */
  cpuTotalMs?: number;
  /** Audio length of the window, ms. */
  audioMs: number;
  threadId: number;
  /** The task was abandoned before a worker started it: no frames, nothing read. */
  abandoned?: boolean;
}

export interface WindowStages {
  /** Reading the window and its context out of the ring. */
  readMs: number;
  /** 24 kHz → the model's 16 kHz. */
  resampleMs: number;
  /** The ONNX session run. */
  modelMs: number;
  /** Weights → finished sync_frame bytes (base64 + JSON). */
  encodeMs: number;
}

export interface PingTask {
  kind: 'ping';
}

export interface PingResult {
  threadId: number;
  inputName: string;
  outputName: string;
  warmupMs: number;
}

/**
 * Several windows in one hand-off (INFERENCE_TASK_WINDOWS, deadline-queue.ts `BatchStarter`),
 * earliest due first. Before each window after the first the worker reads word `yieldSlot` of
 * `InferenceWorkerData.yieldWords`: once the main thread has set it (a more urgent window waits),
 * it returns the results it has and the rest is queued again.
 */
export interface WindowsTask {
  kind: 'windows';
  tasks: WindowTask[];
  yieldSlot: number;
}

/** The results of a `WindowsTask`'s first `results.length` windows, in its order. */
export interface WindowsResult {
  results: WindowResult[];
}

export type InferenceTask = WindowTask | WindowsTask | PingTask;

export interface InferenceWorkerData {
  modelPath: string;
  /** Shared one-shot flag for fault injection (testing aid): 0 = not yet crashed. */
  faultFlag: SharedArrayBuffer;
  /** Fail on this task number of a worker (0 = never). */
  crashOnTask: number;
  /** How: exit the thread, or spin forever. */
  faultKind: 'crash' | 'hang';
  /** One Int32 per batch slot: set by the main thread to make that batch yield (see `WindowsTask`). */
  yieldWords: SharedArrayBuffer;
}
