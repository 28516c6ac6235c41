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
  key: number;
  done: (err: unknown, result?: R) => void;
}

/**
 * Several waiting tasks handed to one worker in one hand-off (INFERENCE_TASK_WINDOWS). Each
 * window costs the main thread the same hand-offs whatever its length — the task posted to a
 * worker, the worker's wake-up, the result's message and its callbacks — so when windows queue,
 * the ones that would run one after another on the next free worker go there together.
 */
export interface BatchStarter<T, R> {
  /** Most tasks in one hand-off (2 or more). */
  maxTasks: number;
  /** Batches that can run at once: the slots, and the shared words, numbered 0 .. maxBatches − 1. */
  maxBatches: number;
  /**
   * Hand `tasks` (earliest key first) to one worker. Before each task after the first, the worker
   * reads word `slot`: once it is set (`requestYield`) it returns what it has done. Calls back
   * once: with an error (every task failed) or with the results of tasks[0 .. results.length);
   * the tasks after those were not started and wait again by their keys.
   */
  start(tasks: T[], slot: number, done: (err: unknown, results?: R[]) => void): void;
  /** Ask the batch in `slot` to stop after the task it is running: a more urgent task waits. */
  requestYield(slot: number): void;
}

interface RunningBatch {
  slot: number;
  /** The key of its last task: a task queued with an earlier key should not wait for all of it. */
  lastKey: number;
  yieldAsked: boolean;
}

/**
 * Runs tasks with at most `slots()` at a time, the one with the earliest key first. `start` hands
 * a task to a worker and calls back once when it ends, which frees the slot. Callbacks, not
 * promises: each window passes through here, and every promise in its path is main-thread work.
 *
 * With a `BatchStarter`, a freed slot takes up to `maxTasks` waiting tasks at once, but only
 * those that would otherwise wait for a slot anyway (never while another slot is free for them),
 * and a batch is preemptible between its tasks: a task queued with a key earlier than the
 * batch's last asks it to yield, so the urgent one waits for at most the task running now — the
 * same bound as without batches — and the batch's rest queues again behind it.
 */
export class DeadlineDispatcher<T, R> {
  private readonly waiting = new DeadlineHeap<Pending<T, R>>();
  private running = 0;
  private readonly batches: RunningBatch[] = [];
  private readonly freeBatchSlots: number[] = [];
  /**
   * Hand-offs to workers that have ended (a lone task or a batch: counted when they end, as the
   * pool counts its windows), tasks started in a batch, and batches asked to yield (read by the
   * tests and the bench).
   */
  handOffs = 0;
  batchedTasks = 0;
  batchesStarted = 0;
  yieldsAsked = 0;

  constructor(
    private readonly slots: () => number,
    private readonly start: (task: T, done: (err: unknown, result?: R) => void) => void,
    private readonly batch?: BatchStarter<T, R>,
  ) {
    if (batch) for (let i = batch.maxBatches - 1; i >= 0; i--) this.freeBatchSlots.push(i);
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.waiting.size;
  }

  /** A task queued now would start at once. */
  get idle(): boolean {
    return this.running < this.slots();
  }

  /** Queue `task` by `key`; `done` is called once, with its error or its result. */
  run(task: T, key: number, done: (err: unknown, result?: R) => void): void {
    this.waiting.push({ task, key, done }, key);
    if (this.batches.length > 0 && this.running >= this.slots()) this.askToYield(key);
    this.pump();
  }

  private askToYield(key: number): void {
    for (const b of this.batches) {
      if (b.yieldAsked || !(key < b.lastKey)) continue;
      b.yieldAsked = true;
      this.yieldsAsked++;
      this.batch!.requestYield(b.slot);
    }
  }

  private pump(): void {
    while (this.running < this.slots()) {
      const next = this.waiting.shift();
      if (!next) return;
      this.running++;
      // Only what would wait for a slot anyway joins: never a task another free slot could take now.
      const extra = this.batch ? Math.min(this.batch.maxTasks - 1, this.waiting.size - (this.slots() - this.running)) : 0;
      if (extra > 0 && this.freeBatchSlots.length > 0) {
        const items = [next];
        for (let i = 0; i < extra; i++) items.push(this.waiting.shift()!);
        this.startBatch(items);
        continue;
      }
      let ended = false;
      const end = (err: unknown, result?: R): void => {
        if (ended) return;
        ended = true;
        this.handOffs++;
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

  private startBatch(items: Array<Pending<T, R>>): void {
    const b: RunningBatch = { slot: this.freeBatchSlots.pop()!, lastKey: items[items.length - 1]!.key, yieldAsked: false };
    this.batches.push(b);
    this.batchesStarted++;
    this.batchedTasks += items.length;
    let ended = false;
    const end = (err: unknown, results?: R[]): void => {
      if (ended) return;
      ended = true;
      this.batches.splice(this.batches.indexOf(b), 1);
      this.freeBatchSlots.push(b.slot);
      this.handOffs++;
      this.running--;
      const n = err || !results ? 0 : Math.min(results.length, items.length);
      if (n === 0) {
        // An error, or no result at all (a worker always runs a batch's first task): all failed.
        const reason = err ?? new Error('a batch of windows came back without results');
        for (const it of items) it.done(reason);
      } else {
        // The ones not started queue again first, so the callbacks below see the queue as it is.
        for (let i = n; i < items.length; i++) this.waiting.push(items[i]!, items[i]!.key);
        for (let i = 0; i < n; i++) items[i]!.done(null, results![i]);
      }
      this.pump();
    };
    try {
      this.batch!.start(items.map((it) => it.task), b.slot, end);
    } catch (err) {
      end(err);
    }
  }

  /** Fail everything still waiting (the pool is closing). */
  clear(reason: Error): void {
    for (let p = this.waiting.shift(); p; p = this.waiting.shift()) p.done(reason);
  }
}
