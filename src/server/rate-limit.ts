/** A token bucket: `capacity` tokens, refilled continuously at `refillPerS`. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly capacity: number, readonly refillPerS: number, nowMs = performance.now()) {
    this.tokens = capacity;
    this.last = nowMs;
  }

  take(nowMs = performance.now(), cost = 1): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.last) / 1000) * this.refillPerS);
    this.last = nowMs;
    if (this.tokens < cost) return false;
    this.tokens -= cost;
    return true;
  }

  /** Full again (idle long enough): its entry can be forgotten. */
  isFull(nowMs = performance.now()): boolean {
    return this.tokens + ((nowMs - this.last) / 1000) * this.refillPerS >= this.capacity;
  }
}

/**
 * Token buckets by key (e.g. origin) with periodic clean-up of full buckets, so memory is bounded
 * by the number of keys active in the last few seconds, not by every key ever seen.
 */
export class KeyedRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly capacity: number, readonly refillPerS: number, sweepEveryMs = 10_000) {
    this.timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.timer.unref();
  }

  take(key: string, nowMs = performance.now()): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(this.capacity, this.refillPerS, nowMs);
      this.buckets.set(key, bucket);
    }
    return bucket.take(nowMs);
  }

  sweep(nowMs = performance.now()): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(nowMs)) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }

  close(): void {
    clearInterval(this.timer);
  }
}
