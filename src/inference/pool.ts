import type { Piscina } from 'piscina';
import { createWorkerPool } from './worker-pool.js';
import type { Logger } from 'pino';
import type { InferenceTask, InferenceWorkerData, PingResult, WindowResult, WindowsResult, WindowsTask, WindowTask } from './tasks.js';
import { Histogram } from '../metrics/histogram.js';
import { DeadlineWatch, type WindowCallback, type WindowDeadline } from './window-deadline.js';
import { DeadlineDispatcher } from './deadline-queue.js';
import { WindowStats } from './window-stats.js';
import { OUTPUT_SAMPLE_RATE } from '../audio/constants.js';
import { TaskWatchdog } from './task-watchdog.js';
import { isAbandoned } from './window-io.js';

/**
 * How windows wait for a worker: `deadline` (earliest due first, see deadline-queue.ts) or
 * `fifo` (arrival order, the scheduler before issue 20; kept for the bench's ablation).
 */
export type InferenceQueueOrder = 'deadline' | 'fifo';

export interface InferencePoolOptions {
  modelPath: string;
  workers: number;
  /** `crash:<k>` / `hang:<k>` (testing aid): one worker exits / spins on its k-th window task, once per process. */
  faultInjection?: string;
  /** A window task running longer than this is aborted: Piscina ends that worker and starts another. */
  taskTimeoutMs?: number;
  /** Queue order (default `deadline`). */
  queue?: InferenceQueueOrder;
  /**
   * Most windows handed to a worker in one task when windows wait for a worker
   * (INFERENCE_TASK_WINDOWS; deadline queue only; default 4, 1 = one window per task).
   */
  taskWindows?: number;
  logger: Logger;
}

/**
 * The Piscina pool of inference workers, seen from the main thread. Turns a window task into
 * finished frames; survives a worker crash (the task is retried once on a fresh worker, then
 * served with neutral weights) so a turn always completes with all of its audio; and, given the
 * window's deadline, never lets a stuck or slow worker stall playback (window-deadline.ts: hedge
 * on a free worker, else neutral weights from the fill worker, in time).
 */
export class InferencePool {
  private readonly piscina: Piscina;
  private readonly logger: Logger;
  readonly size: number;
  readonly queueOrder: InferenceQueueOrder;
  /** Queue wait, stages, round trip, late windows by index. */
  readonly stats = new WindowStats();
  readonly rtf = new Histogram([0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  readonly windowMs = new Histogram([1, 2, 5, 10, 20, 50, 100, 200, 500, 1000]);
  windows = 0;
  failures = 0;
  neutralWindows = 0;
  /** Windows run a second time on another worker because the first run missed its hedge point. */
  hedges = 0;
  /** Windows served with neutral weights because no result was back by their fill point. */
  deadlineFills = 0;
  /** Results that came back after another copy of their window had been used. */
  lateResultsDiscarded = 0;
  audioMsTotal = 0;
  inferMsTotal = 0;
  info: PingResult | null = null;
  private readonly watchdog: TaskWatchdog;
  private readonly startedAtMs = performance.now();
  /** With INFERENCE_SCHEDULER=deadline: what runs next when a worker frees up (null: Piscina's FIFO). */
  private readonly dispatcher: DeadlineDispatcher<WindowTask, WindowResult> | null;
  /**
   * One small thread without a model that encodes neutral windows: the fallback must not wait
   * for the inference workers (they may all be busy or stuck) nor put base64/JSON on the main thread.
   */
  private readonly filler: Piscina;
  /** Races windows against their due times: hedge, fill (one timer for all of them). */
  private readonly deadlines: DeadlineWatch;
  /** Pool tasks in flight (windows, retries, hedges), to know whether a worker is free (FIFO queue). */
  private inflight = 0;
  /** One word per batch slot, shared with the workers: set, it makes that batch yield (WindowsTask). */
  private readonly yieldWords: Int32Array;
  /** Decaying peak of dispatch → result time of model windows, ms. */
  private slowestRoundTripMs = 0;

  constructor(opts: InferencePoolOptions) {
    this.logger = opts.logger;
    this.size = opts.workers;
    const fault = /^(crash|hang):(\d+)$/.exec(opts.faultInjection ?? '');
    this.yieldWords = new Int32Array(new SharedArrayBuffer(4 * opts.workers));
    const workerData: InferenceWorkerData = {
      yieldWords: this.yieldWords.buffer as SharedArrayBuffer,
      modelPath: opts.modelPath,
      faultFlag: new SharedArrayBuffer(4),
      crashOnTask: fault ? Number(fault[2]) : 0,
      faultKind: fault?.[1] === 'hang' ? 'hang' : 'crash',
    };
    this.watchdog = new TaskWatchdog(opts.taskTimeoutMs ?? 5000);
    this.queueOrder = opts.queue ?? 'deadline';
    this.piscina = createWorkerPool({
      worker: 'inference',
      threads: opts.workers,
      // Each session has at most one window in flight, so the queue is bounded by MAX_SESSIONS
      // already; a Piscina cap ('auto' = workers², 1 on a 2-core host) would reject windows and
      // stall turns under ordinary load.
      maxQueue: Infinity,
      workerData,
      logger: this.logger,
      errorMessage: 'inference pool error',
    });
    const taskWindows = opts.taskWindows ?? 4;
    this.dispatcher = this.queueOrder === 'deadline'
      ? new DeadlineDispatcher<WindowTask, WindowResult>(() => this.size, (t, done) => this.runTimed(t, done), taskWindows > 1 ? {
        maxTasks: taskWindows,
        maxBatches: this.size,
        start: (tasks, slot, done) => this.runBatch(tasks, slot, done),
        requestYield: (slot) => Atomics.store(this.yieldWords, slot, 1),
      } : undefined)
      : null;
    this.filler = createWorkerPool({ worker: 'neutral-fill', threads: 1, maxQueue: Infinity, logger: this.logger, errorMessage: 'fill worker error' });
    this.deadlines = new DeadlineWatch({
      original: (t, key, done) => this.runReliably(t, key, done),
      hasIdleWorker: () => (this.dispatcher ? this.dispatcher.idle : this.inflight < this.size),
      hedge: (t, key, done) => this.attempt(t, key, done),
      fill: (t, done) => this.fill(t, done),
      recentSlowestMs: () => this.slowestRoundTripMs,
      onHedge: () => this.hedges++,
      onFill: () => this.deadlineFills++,
      onLateDiscarded: () => this.lateResultsDiscarded++,
      logger: this.logger,
    });
  }

  /** Load the model in every worker (each warms up before answering) and check that all answer. */
  async start(): Promise<PingResult> {
    const pings = await Promise.all(Array.from({ length: this.size }, () => this.ping()));
    this.info = pings[0]!;
    // Until windows have been timed, the warm-up run is the best guess of this host's speed.
    this.slowestRoundTripMs = Math.max(...pings.map((p) => p.warmupMs));
    this.logger.info({ workers: this.size, input: this.info.inputName, output: this.info.outputName, warmupMs: Math.round(this.info.warmupMs) }, 'inference pool ready');
    return this.info;
  }

  ping(timeoutMs?: number): Promise<PingResult> {
    return this.piscina.run({ kind: 'ping' }, timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) as Promise<PingResult>;
  }

  /**
   * Every worker answers: one ping per worker, concurrently, each within `timeoutMs` (a busy
   * worker answers after its current window, a stuck one does not).
   */
  async health(timeoutMs = 1000): Promise<{ healthy: boolean; workers: number; answered: number; expected: number }> {
    const results = await Promise.allSettled(Array.from({ length: this.size }, () => this.ping(timeoutMs)));
    const answered = results.filter((r) => r.status === 'fulfilled').length;
    const workers = this.threads;
    return { healthy: this.info !== null && answered === this.size && workers === this.size, workers, answered, expected: this.size };
  }

  get threads(): number {
    return this.piscina.threads.length;
  }

  /**
   * Tasks handed to workers (one window or a batch; deadline queue: FIFO counts none), windows
   * started in batches (a yielded batch's rest counts again in the task that runs it), batches,
   * and batches asked to yield.
   */
  get batching(): { tasks: number; windows: number; batches: number; yields: number } {
    const d = this.dispatcher;
    return { tasks: d?.handOffs ?? 0, windows: d?.batchedTasks ?? 0, batches: d?.batchesStarted ?? 0, yields: d?.yieldsAsked ?? 0 };
  }

  get queueSize(): number {
    return this.piscina.queueSize + (this.dispatcher?.queued ?? 0);
  }

  /**
   * The pool's busy share since it started (0..1): the workers' time on windows (`inferMsTotal`,
   * the counter the readiness check's 5 s busy ratio samples) over the wall time of all workers.
   * Computed here: Piscina's own figure builds a summary of its run-time histogram, percentiles
   * included, at every read (/stats, /metrics).
   */
  get utilization(): number {
    const elapsed = performance.now() - this.startedAtMs;
    return elapsed > 0 ? Math.min(1, this.inferMsTotal / (elapsed * this.size)) : 0;
  }

  /**
   * Finished frames (or weights) for one window. With a `deadline`, the result is back by the
   * time its frames are needed even if the worker running it is stuck (see window-deadline.ts);
   * without one (the video dialects pace themselves), it is the plain retry-then-neutral path.
   * In the queue a window is ordered by its first frame's due time; before its turn's clock has
   * started, by the earliest that can be (`orderAtMs`: a turn's first window, which the viewer
   * is waiting for, is due now). The task object is the pool's from here on (it gets the
   * window's `abandoned` flag).
   *
   * One promise per window: inside, the steps call back (dispatch, retry, hedge, fill), since
   * each promise a window passes through is main-thread work for every window of every session.
   */
  runWindow(task: WindowTask, deadline?: WindowDeadline): Promise<WindowResult> {
    const dispatchedAt = performance.now();
    const key = deadline ? deadline.orderAtMs?.() ?? deadline.dueAtMs() ?? dispatchedAt : dispatchedAt;
    return new Promise((resolve, reject) => {
      if (!deadline) {
        this.runReliably(task, key, (err, result) => {
          if (!result) return reject(err);
          this.record(task, result, dispatchedAt, undefined);
          resolve(result);
        });
        return;
      }
      this.deadlines.run(task, deadline, key, (err, result, source) => {
        if (!result) return reject(err);
        if (source !== 'fill') {
          this.slowestRoundTripMs = Math.max(performance.now() - dispatchedAt, this.slowestRoundTripMs * 0.95);
          this.record(task, result, dispatchedAt, deadline);
        }
        resolve(result);
      });
    });
  }

  /** The window on the pool; on failure once more on a fresh worker, then neutral weights. */
  private runReliably(task: WindowTask, key: number, done: WindowCallback): void {
    this.attempt(task, key, (first, result) => {
      if (result) return done(null, result);
      this.failures++;
      if (isAbandoned(task)) {
        // Another copy (a hedge or a fill) already served this window: nothing to retry.
        this.logger.warn({ err: first, sessionId: task.sessionId, turnId: task.turnId }, 'abandoned inference task failed (its window was already served)');
        return done(first);
      }
      this.logger.error({ err: first, sessionId: task.sessionId, turnId: task.turnId }, 'inference task failed; retrying once');
      this.attempt(task, key, (second, again) => {
        if (again) return done(null, again);
        this.failures++;
        this.neutralWindows++;
        this.logger.error({ err: second, sessionId: task.sessionId, turnId: task.turnId }, 'inference failed twice; sending neutral weights for this window');
        this.fill(task, done);
      });
    });
  }

  /** Neutral weights for the window's exact audio, from the fill worker. */
  private fill(task: WindowTask, done: WindowCallback): void {
    settle(this.filler.run(task) as Promise<WindowResult>, done);
  }

  private record(task: WindowTask, result: WindowResult, dispatchedAt: number, deadline: WindowDeadline | undefined): void {
    this.stats.observe(result, performance.timeOrigin + dispatchedAt, performance.now(), deadline?.dueAtMs(), task.windowIndex);
    this.windows++;
    this.audioMsTotal += result.audioMs;
    this.inferMsTotal += result.taskMs;
    this.windowMs.observe(result.taskMs);
    this.rtf.observe(result.taskMs / result.audioMs);
    if (!this.logger.isLevelEnabled('debug')) return; // built per window: only when it is written
    this.logger.debug({ sessionId: task.sessionId, frames: result.frameCount, rightMs: task.readEnd === undefined ? 0 : +(((task.readEnd - task.end) * 1000) / OUTPUT_SAMPLE_RATE).toFixed(1), inferMs: +result.inferMs.toFixed(2), rtf: +(result.taskMs / result.audioMs).toFixed(4), thread: result.threadId }, 'window inferred');
  }

  /** One run of the task on a worker; `key` orders it in the deadline queue (performance.now() ms it is needed by). */
  private attempt(task: WindowTask, key: number, done: WindowCallback): void {
    this.inflight++;
    const end: WindowCallback = (err, result) => {
      this.inflight--;
      done(err, result);
    };
    if (this.dispatcher) this.dispatcher.run(task, key, end);
    else this.runTimed(task, end);
  }

  /**
   * A window on a worker, aborted after INFERENCE_TASK_TIMEOUT_MS (Piscina then replaces that
   * worker) by the pool's one watchdog timer (task-watchdog.ts): an AbortController and a timer per
   * window cost ~2 % of the main thread at a hundred sessions (AbortSignal.timeout, before that,
   * ~14 µs per window and a live timer per window for the whole timeout).
   */
  private runTimed<R = WindowResult>(task: InferenceTask, done: (err: unknown, result?: R) => void): void {
    const watch = this.watchdog.watch();
    settle(this.piscina.run(task, { signal: watch }) as Promise<R>, (err, result) => {
      this.watchdog.done(watch);
      done(err, result);
    });
  }

  /**
   * Several waiting windows on one worker in one task (deadline-queue.ts `BatchStarter`), under the
   * one watchdog timer like a single window: a stuck batch is aborted whole and each of its
   * windows is retried on its own (runReliably), while the deadline watch hedges or fills each in time.
   */
  private runBatch(tasks: WindowTask[], slot: number, done: (err: unknown, results?: WindowResult[]) => void): void {
    Atomics.store(this.yieldWords, slot, 0);
    const task: WindowsTask = { kind: 'windows', tasks, yieldSlot: slot };
    this.runTimed<WindowsResult>(task, (err, r) => done(err, r?.results));
  }

  async close(): Promise<void> {
    this.dispatcher?.clear(new Error('inference pool closed'));
    this.deadlines.stop();
    this.watchdog.stop();
    await Promise.all([this.piscina.destroy(), this.filler.destroy()]);
  }
}

/** A promise's outcome to a callback (a rejection without a reason still counts as a failure). */
function settle<R>(p: Promise<R>, done: (err: unknown, result?: R) => void): void {
  p.then((result) => done(null, result), (err: unknown) => done(err ?? new Error('window task failed')));
}
