/**
 * The video dialects' media clocks (25 FPS). Like the widget's pacer, every deadline is computed
 * from an origin (frame k at origin + k·frameMs), never by chaining delays: a timer that fires
 * late makes one frame late, it does not push every later frame back.
 *
 * Wall-clock milliseconds (`Date.now()`-compatible, sub-millisecond) so that deadlines stamped
 * in a worker mean the same on the main thread.
 */
export function wallNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** The clock's time source and timer (tests pass their own). */
export interface ClockTimers {
  now(): number;
  setTimer(fn: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

const REAL_TIMERS: ClockTimers = {
  now: wallNowMs,
  setTimer: (fn, delayMs) => setTimeout(fn, delayMs),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class VideoFrameClock {
  private timer: unknown = null;
  private stopped = false;

  constructor(readonly frameMs: number, readonly originMs = wallNowMs(), private readonly timers: ClockTimers = REAL_TIMERS) {}

  private now(): number {
    return this.timers.now();
  }

  /** When frame `frame` is due (wall ms). */
  dueMs(frame: number): number {
    return this.originMs + frame * this.frameMs;
  }

  /** The frame due at `nowMs` (the last one whose deadline has passed; −1 before the origin). */
  frameAt(nowMs = this.now()): number {
    return Math.floor((nowMs - this.originMs) / this.frameMs);
  }

  /**
   * Call `tick(frame, nowMs)` at each frame's deadline, from `first` on. `tick` returns the next
   * frame to run: `frame + 1`, or more to skip frames (a stalled thread catching up); or null
   * to end this run.
   */
  run(first: number, tick: (frame: number, nowMs: number) => number | null): void {
    const step = (frame: number): void => {
      this.timer = null;
      if (this.stopped) return;
      const next = tick(frame, this.now());
      if (next !== null && !this.stopped) this.wakeAt(this.dueMs(next), () => step(next));
    };
    this.wakeAt(this.dueMs(first), () => step(first));
  }

  /** Call `fn` once at wall time `atMs` (replaces a wake-up already set). */
  wakeAt(atMs: number, fn: () => void): void {
    if (this.stopped) return;
    if (this.timer !== null) this.timers.clearTimer(this.timer);
    this.timer = this.timers.setTimer(() => {
      this.timer = null;
      fn();
    }, Math.max(0, atMs - this.now()));
  }

  /** No wake-up pending (a `run` or `wakeAt` may start again later). */
  cancel(): void {
    if (this.timer !== null) this.timers.clearTimer(this.timer);
    this.timer = null;
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }
}

/**
 * Messages waiting for their send time (main thread): `schedule` them in due order, each is
 * sent at its deadline. Used by the frame-stream dialect, whose worker stamps every message.
 */
export class DeadlineQueue {
  private readonly queue: Array<{ dueMs: number; send: () => void }> = [];
  private readonly clock = new VideoFrameClock(1, 0);

  schedule(dueMs: number, send: () => void): void {
    this.queue.push({ dueMs, send });
    if (this.queue.length === 1) this.flush();
  }

  private flush(): void {
    const now = wallNowMs();
    // Within a millisecond is due: a timer never fires earlier than asked, often a little later.
    while (this.queue.length > 0 && this.queue[0]!.dueMs <= now + 1) this.queue.shift()!.send();
    if (this.queue.length > 0) this.clock.wakeAt(this.queue[0]!.dueMs, () => this.flush());
  }

  clear(): void {
    this.queue.length = 0;
    this.clock.cancel();
  }

  get size(): number {
    return this.queue.length;
  }
}
