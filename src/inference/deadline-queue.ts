/**
 * Earliest-deadline-first dispatch of inference windows. The pool hands a window to Piscina only
 * when a worker is free, so Piscina's own queue stays empty and every choice of what runs next is
 * made here, by deadline: Piscina's pluggable `taskQueue` is not enough, because a task with an
 * AbortSignal (each window has its run timeout) that finds every worker busy goes to Piscina's
 * internal FIFO skip queue, not to the custom queue. A task's run timeout also starts only when
 * it is handed to a worker, so time spent queued never aborts a healthy worker.
 */

/** A binary min-heap by key; equal keys leave in arrival order. O(log n) push and shift. */
export class DeadlineHeap<T> {
  private heap: Array<{ item: T; key: number; seq: number }> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(item: T, key: number): void {
    this.heap.push({ item, key: Number.isNaN(key) ? Number.POSITIVE_INFINITY : key, seq: this.seq++ });
    this.up(this.heap.length - 1);
  }

  shift(): T | undefined {
    const top = this.heap[0];
    if (!top) return undefined;
    const last = this.heap.pop()!;
    if (this.heap.length > 0) {
      this.heap[0] = last;
      this.down(0);
    }
    return top.item;
  }

  /** Take out one item (O(n): for the rare cancelled task). */
  remove(item: T): boolean {
    const i = this.heap.findIndex((e) => e.item === item);
    if (i < 0) return false;
    const last = this.heap.pop()!;
    if (i < this.heap.length) {
      this.heap[i] = last;
      this.down(i);
      this.up(i);
    }
    return true;
  }

  private less(i: number, j: number): boolean {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    return a.key < b.key || (a.key === b.key && a.seq < b.seq);
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    [h[i], h[j]] = [h[j]!, h[i]!];
  }

  private up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      let m = i;
      if (l < this.heap.length && this.less(l, m)) m = l;
      if (l + 1 < this.heap.length && this.less(l + 1, m)) m = l + 1;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }
}

interface Pending<T, R> {
  task: T;
  done: (err: unknown, result?: R) => void;
}

/**
 * Runs tasks with at most `slots()` at a time, the one with the earliest key first. `start` hands
 * a task to a worker and calls back once when it ends, which frees the slot. Callbacks, not
 * promises: each window passes through here, and every promise in its path is main-thread work.
 */
export class DeadlineDispatcher<T, R> {
  private readonly waiting = new DeadlineHeap<Pending<T, R>>();
  private running = 0;

  constructor(
    private readonly slots: () => number,
    private readonly start: (task: T, done: (err: unknown, result?: R) => void) => void,
  ) {}

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /** Queue `task` by `key`; `done` is called once, with its error or its result. */
  run(task: T, key: number, done: (err: unknown, result?: R) => void): void {
    this.waiting.push({ task, done }, key);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.slots()) {
      const next = this.waiting.shift();
      if (!next) return;
      this.running++;
      let ended = false;
      const end = (err: unknown, result?: R): void => {
        if (ended) return;
        ended = true;
        this.running--;
        next.done(err, result);
        this.pump();
      };
      try {
        this.start(next.task, end);
      } catch (err) {
        end(err);
      }
    }
  }

  /** Fail everything still waiting (the pool is closing). */
  clear(reason: Error): void {
    for (let p = this.waiting.shift(); p; p = this.waiting.shift()) p.done(reason);
  }
}
