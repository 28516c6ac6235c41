import type { Logger } from 'pino';
import type { WindowResult, WindowTask } from './tasks.js';

/**
 * When a window's frames are needed. The session supplies it from the pacer's clock, so it
 * follows the clock when the pacer re-anchors.
 */
export interface WindowDeadline {
  /** performance.now() (ms) at which the window's first frame is due at the pacer; undefined before the turn's clock starts. */
  dueAtMs(): number | undefined;
  /**
   * Its place in the inference queue (performance.now() ms); default: `dueAtMs()`, or the
   * dispatch time before the clock runs (due at once).
   */
  orderAtMs?(): number;
  /** False once nobody waits for the window (its turn was interrupted or the session closed). */
  stillNeeded(): boolean;
}

/**
 * A neutral fill must reach the pacer before the frame is due: the fill worker's encode (~1 ms per
 * second of audio) and two thread hand-offs, with room for a busy host.
 */
export const FILL_MARGIN_MS = 40;
/**
 * A hedge is a real model run on another worker (a few ms per window on the shipped model); it is
 * started this long before the fill point so it usually wins and the face keeps moving.
 */
export const HEDGE_BUDGET_MS = 100;
/**
 * However close its due time, a window is given this long (or 4× the recent slowest round trip,
 * if more) before it is filled: an agent that streams at real time hands windows over at about
 * their due time, and filling those would swap good weights for neutral ones to gain nothing.
 */
export const MIN_TASK_BUDGET_MS = 150;
/** …and this long (or 2× the recent slowest round trip) before it is hedged. */
export const MIN_HEDGE_WAIT_MS = 50;

/** How a run of a window ends: its result, or (no result) the error. Called exactly once. */
export type WindowCallback = (err: unknown, result?: WindowResult) => void;

export interface LateWindowHandlers {
  /** The window as usual (with the pool's retry-once-then-neutral policy); `key` is its place in the queue. */
  original(task: WindowTask, key: number, done: WindowCallback): void;
  /** True when a worker is free, so a hedge runs now instead of queueing behind the late one. */
  hasIdleWorker(): boolean;
  /** One more run of the same task on the pool (Piscina gives it to a free worker, never the busy one). */
  hedge(task: WindowTask, key: number, done: WindowCallback): void;
  /** Neutral weights for the window, encoded in the fill worker. */
  fill(task: WindowTask, done: WindowCallback): void;
  /** Recent slowest dispatch → result time of a window, ms (adapts the minimum budgets to load). */
  recentSlowestMs(): number;
  onHedge(): void;
  onFill(): void;
  /** A result that came back after another one had been used: discarded. */
  onLateDiscarded(source: WindowSource): void;
  logger: Logger;
}

export type WindowSource = 'original' | 'hedge' | 'fill';

/** How a raced window ends: its first result and where it came from, or the error when every copy failed. */
export type RaceCallback = (err: unknown, result?: WindowResult, source?: WindowSource) => void;

/**
 * Runs windows so that each is back by the time its frames are needed: at a window's hedge point,
 * if its original is not back and a worker is free, the same window runs there too; at its fill
 * point (due time − FILL_MARGIN_MS), neutral weights for the window's exact audio are made in the
 * fill worker. The first result wins; the task's `abandoned` flag then tells any copy still queued
 * to skip, and a copy that finishes later is discarded. A stuck worker therefore costs one window
 * of neutral weights, not a stall until INFERENCE_TASK_TIMEOUT_MS.
 *
 * One per pool, with one timer for all the windows in flight: a window costs the main thread an
 * entry in a set and, at most, moving that timer earlier (its first check is its earliest possible
 * hedge point, MIN_HEDGE_WAIT_MS after dispatch, by when nearly every window is back). A timer and
 * a chain of promises per window were a measurable share of the main thread's cost per frame.
 */
export class DeadlineWatch {
  private readonly races = new Set<WindowRace>();
  private timer: NodeJS.Timeout | null = null;
  private timerAtMs = Number.POSITIVE_INFINITY;
  private readonly sweepBound = (): void => this.sweep();

  constructor(private readonly h: LateWindowHandlers) {}

  /** Windows being raced against their deadline (not yet served, still needed). */
  get pending(): number {
    return this.races.size;
  }

  /**
   * Run `task` against `deadline` (`key`: its place in the queue, for the original and a hedge);
   * `done` gets the first result and its source. The task gets its own `abandoned` flag (the task
   * object is the caller's no more).
   */
  run(task: WindowTask, deadline: WindowDeadline, key: number, done: RaceCallback): void {
    const race = new WindowRace(this, this.h, task, deadline, key, done);
    const slowest = this.h.recentSlowestMs();
    race.checkAtMs = race.dispatchedAtMs + Math.max(MIN_HEDGE_WAIT_MS, 2 * slowest);
    this.races.add(race);
    this.armAt(race.checkAtMs);
    race.start();
  }

  /** Stop checking `race` (it settled, or nobody needs it any more). */
  forget(race: WindowRace): void {
    this.races.delete(race);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerAtMs = Number.POSITIVE_INFINITY;
  }

  private armAt(atMs: number): void {
    if (atMs >= this.timerAtMs) return; // the armed timer fires first and re-arms for the rest
    if (this.timer) clearTimeout(this.timer);
    this.timerAtMs = atMs;
    this.timer = setTimeout(this.sweepBound, Math.max(1, atMs - performance.now()));
  }

  private sweep(): void {
    this.timer = null;
    this.timerAtMs = Number.POSITIVE_INFINITY;
    // Node's timers keep whole milliseconds of a cached loop clock and may fire a fraction early:
    // a point within the next millisecond counts as reached rather than costing another wake-up.
    const now = performance.now() + 1;
    let next = Number.POSITIVE_INFINITY;
    for (const race of this.races) {
      // The due time may have moved since the last look (the pacer re-anchored): points are recomputed.
      if (race.checkAtMs <= now) race.check(now);
      if (this.races.has(race)) next = Math.min(next, race.checkAtMs);
    }
    if (next < Number.POSITIVE_INFINITY) this.armAt(next);
  }
}

/** One window's race: its original run, perhaps a hedge and a fill, and which came back first. */
class WindowRace {
  readonly dispatchedAtMs = performance.now();
  readonly abandoned = new Int32Array(new SharedArrayBuffer(4));
  /** When the watch looks at this window next (performance.now() ms). */
  checkAtMs = 0;
  private settled = false;
  private hedged = false;
  private filled = false;
  private originalFailed: unknown = null;
  private fillFailed = false;

  constructor(
    private readonly watch: DeadlineWatch,
    private readonly h: LateWindowHandlers,
    private readonly task: WindowTask,
    private readonly deadline: WindowDeadline,
    private readonly key: number,
    private readonly done: RaceCallback,
  ) {
    task.abandoned = this.abandoned.buffer as SharedArrayBuffer;
  }

  start(): void {
    this.h.original(this.task, this.key, (err, r) => {
      if (r) {
        this.win(r, 'original');
        return;
      }
      if (this.settled) return;
      this.originalFailed = err;
      // The pool's own retries are spent: neutral weights now, or give up if that failed too.
      if (!this.filled) this.startFill();
      else if (this.fillFailed) this.finish(err);
    });
  }

  /** A look at the window at `now`: hedge or fill it if it is late, and set when to look next. */
  check(now: number): void {
    if (this.settled) return;
    if (!this.deadline.stillNeeded()) {
      this.watch.forget(this); // the original still settles it; nobody needs it early
      return;
    }
    const slowest = this.h.recentSlowestMs();
    const due = this.deadline.dueAtMs();
    const fillAt = Math.max(due === undefined ? -Infinity : due - FILL_MARGIN_MS, this.dispatchedAtMs + Math.max(MIN_TASK_BUDGET_MS, 4 * slowest));
    const hedgeAt = Math.max(fillAt - HEDGE_BUDGET_MS, this.dispatchedAtMs + Math.max(MIN_HEDGE_WAIT_MS, 2 * slowest));
    if (now >= fillAt) {
      this.watch.forget(this);
      this.startFill();
      return;
    }
    if (!this.hedged && now >= hedgeAt && this.h.hasIdleWorker()) {
      this.hedged = true;
      this.h.onHedge();
      this.h.logger.warn({ sessionId: this.task.sessionId, turnId: this.task.turnId, firstFrameIndex: this.task.firstFrameIndex, waitedMs: Math.round(now - this.dispatchedAtMs) }, 'window late: hedged on another worker');
      this.h.hedge(this.task, this.key, (err, r) => {
        if (r) this.win(r, 'hedge');
        else this.h.logger.warn({ err }, 'hedged window failed');
      });
    }
    this.checkAtMs = Math.max(now + 1, this.hedged || now >= hedgeAt ? fillAt : hedgeAt);
  }

  private win(result: WindowResult, source: WindowSource): void {
    if (result.abandoned) return;
    if (this.settled) {
      this.h.onLateDiscarded(source);
      this.h.logger.debug({ sessionId: this.task.sessionId, turnId: this.task.turnId, firstFrameIndex: this.task.firstFrameIndex, source }, 'late window result discarded');
      return;
    }
    Atomics.store(this.abandoned, 0, 1);
    this.finish(null, result, source);
  }

  private finish(err: unknown, result?: WindowResult, source?: WindowSource): void {
    this.settled = true;
    this.watch.forget(this);
    this.done(err, result, source);
  }

  private startFill(): void {
    if (this.filled || this.settled) return;
    this.filled = true;
    this.h.onFill();
    this.h.logger.warn({ sessionId: this.task.sessionId, turnId: this.task.turnId, firstFrameIndex: this.task.firstFrameIndex, waitedMs: Math.round(performance.now() - this.dispatchedAtMs) }, 'window late: filled with neutral weights');
    this.h.fill(this.task, (err, r) => {
      if (r) {
        this.win(r, 'fill');
        return;
      }
      this.h.logger.error({ err }, 'neutral fill failed');
      this.fillFailed = true;
      if (this.originalFailed !== null && !this.settled) this.finish(this.originalFailed);
    });
  }
}
