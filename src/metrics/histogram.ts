/**
 * Cumulative-bucket histogram in the Prometheus sense (upper bounds, +Inf implied), plus a small
 * reservoir of recent values for quantiles in logs, the demo page and the bench.
 */
export class Histogram {
  readonly counts: number[];
  count = 0;
  sum = 0;
  max = 0;
  private readonly recent: Float64Array;
  private recentAt = 0;
  /** The reservoir sorted, until the next observation: /stats asks for two quantiles of each histogram at once. */
  private sorted: Float64Array | null = null;

  constructor(readonly bounds: readonly number[], reservoir = 4096) {
    this.counts = new Array(bounds.length + 1).fill(0);
    this.recent = new Float64Array(reservoir);
  }

  observe(v: number): void {
    let i = 0;
    while (i < this.bounds.length && v > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    this.recent[this.recentAt++ % this.recent.length] = v;
    this.sorted = null;
  }

  /** Quantile q (0..1) over the most recent observations. */
  quantile(q: number): number {
    const n = Math.min(this.recentAt, this.recent.length);
    if (n === 0) return 0;
    this.sorted ??= this.recent.slice(0, n).sort();
    return this.sorted[Math.min(n - 1, Math.floor(q * n))]!;
  }
}
