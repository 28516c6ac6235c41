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

/** Keys a limiter remembers at most (~260 bytes each, 12.8 MB measured when full): a flood of new keys cannot grow memory. */
export const RATE_LIMIT_MAX_KEYS = 50_000;

/**
 * Token buckets by key (origin, client address) with periodic clean-up of full buckets, so memory
 * is bounded by the keys active in the last few seconds, and never above `maxKeys`: when full,
 * idle (full) buckets are swept, then the least recently used keys are forgotten. A forgotten key
 * starts again with a full bucket, which at worst lets a flood of distinct keys through at the
 * rate it could anyway; the server's memory stays flat.
 */
export class KeyedRateLimiter {
  /** Map order is least recently used first: `take` re-inserts its key. */
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly timer: NodeJS.Timeout;

  constructor(readonly capacity: number, readonly refillPerS: number, sweepEveryMs = 10_000, readonly maxKeys = RATE_LIMIT_MAX_KEYS) {
    this.timer = setInterval(() => this.sweep(), sweepEveryMs);
    this.timer.unref();
  }

  take(key: string, nowMs = performance.now()): boolean {
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
    } else {
      if (this.buckets.size >= this.maxKeys) this.makeRoom(nowMs);
      bucket = new TokenBucket(this.capacity, this.refillPerS, nowMs);
    }
    this.buckets.set(key, bucket);
    return bucket.take(nowMs);
  }

  private makeRoom(nowMs: number): void {
    this.sweep(nowMs);
    // Still full: forget the least recently used tenth at once, so a flood costs O(1) per key.
    if (this.buckets.size < this.maxKeys) return;
    let drop = Math.max(1, Math.floor(this.maxKeys / 10));
    for (const key of this.buckets.keys()) {
      if (drop-- <= 0) break;
      this.buckets.delete(key);
    }
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
