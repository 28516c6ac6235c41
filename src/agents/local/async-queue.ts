/**
 * A single-consumer queue between a producer that runs ahead (LLM tokens → sentences) and a
 * consumer that waits for each item (TTS). The producer ends it or fails it; the consumer
 * gets null at the end or the failure as a rejection.
 */
export class AsyncQueue<T> {
  private items: T[] = [];
  private ended = false;
  private failure: { err: unknown } | null = null;
  private waiter: { resolve: (v: T | null) => void; reject: (e: unknown) => void } | null = null;

  push(item: T): void {
    if (this.ended || this.failure) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w.resolve(item);
    } else {
      this.items.push(item);
    }
  }

  end(): void {
    this.ended = true;
    this.wake();
  }

  fail(err: unknown): void {
    if (this.ended) return;
    this.failure = { err };
    this.wake();
  }

  /** The next item if one is waiting, without waiting. */
  shiftReady(): T | undefined {
    return this.items.shift();
  }

  /** The next item, waiting for it; null once ended and empty. Rejects once failed and empty. */
  next(): Promise<T | null> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    if (this.failure) return Promise.reject(this.failure.err);
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  private wake(): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    if (this.failure) w.reject(this.failure.err);
    else w.resolve(null);
  }
}
