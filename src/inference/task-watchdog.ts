/**
 * One timer for every pool task's timeout, instead of an AbortController and a setTimeout per
 * task: those cost the main thread ~2 % of its CPU at a hundred sessions (a signal, an event
 * listener and a timer created and torn down for every window, ~400 a second). A `TaskWatch` is
 * the little Piscina needs of an AbortSignal (`aborted`, `reason`, add/removeEventListener); the
 * watchdog's one interval, running only while tasks are watched, aborts those older than the
 * timeout — between `timeoutMs` and `timeoutMs` + one check interval (a tenth of it, at most 250 ms).
 */
export class TaskWatch {
  aborted = false;
  reason: unknown = undefined;
  private listener: (() => void) | null = null;

  constructor(readonly startedMs: number) {}

  addEventListener(_type: 'abort', listener: () => void): void {
    this.listener = listener;
  }

  removeEventListener(): void {
    this.listener = null;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.listener;
    this.listener = null;
    l?.();
  }
}

export class TaskWatchdog {
  private readonly watched = new Set<TaskWatch>();
  private timer: NodeJS.Timeout | null = null;
  readonly checkEveryMs: number;

  constructor(readonly timeoutMs: number, private readonly now: () => number = () => performance.now()) {
    this.checkEveryMs = Math.min(250, Math.max(10, Math.round(timeoutMs / 10)));
  }

  /** A watch for a task starting now; `done` it when the task settles. */
  watch(): TaskWatch {
    const w = new TaskWatch(this.now());
    this.watched.add(w);
    if (this.timer === null) {
      this.timer = setInterval(() => this.check(), this.checkEveryMs);
      this.timer.unref();
    }
    return w;
  }

  done(w: TaskWatch): void {
    this.watched.delete(w);
  }

  /** Tasks being watched (tests). */
  get size(): number {
    return this.watched.size;
  }

  /** Whether the interval runs (tests: it stops once nothing is watched). */
  get running(): boolean {
    return this.timer !== null;
  }

  private check(): void {
    if (this.watched.size === 0) {
      this.stop();
      return;
    }
    const oldest = this.now() - this.timeoutMs;
    for (const w of this.watched) {
      if (w.startedMs > oldest) continue;
      this.watched.delete(w);
      w.abort(new DOMException(`inference task ran longer than ${this.timeoutMs} ms`, 'TimeoutError'));
    }
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
