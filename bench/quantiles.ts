/**
 * Order statistics for the bench: every reported number is a median or a quantile of raw samples
 * (never a mean of means), and repeated runs are combined by their median with the spread kept.
 */
export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank quantile of an ascending-sorted array (q in 0..1). */
function sortedQuantile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const rank = Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1));
  return sorted[rank]!;
}

export function quantile(values: ArrayLike<number>, q: number): number {
  return sortedQuantile(Float64Array.from(values).sort(), q);
}

export function median(values: ArrayLike<number>): number {
  return quantile(values, 0.5);
}

/** The median over pairs of a / b, pairs with a non-finite ratio left out (NaN when none is left). */
export function medianRatio(pairs: ReadonlyArray<readonly [number, number]>): number {
  const ratios = pairs.map(([a, b]) => a / b).filter((x) => Number.isFinite(x));
  return ratios.length ? median(ratios) : Number.NaN;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return {
    n: sorted.length,
    min: sorted.length > 0 ? sorted[0]! : Number.NaN,
    p50: sortedQuantile(sorted, 0.5),
    p95: sortedQuantile(sorted, 0.95),
    p99: sortedQuantile(sorted, 0.99),
    max: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
    mean: sorted.length > 0 ? sum / sorted.length : Number.NaN,
  };
}

/** A statistic measured in several runs: the median is reported, min..max shows the spread. */
export interface RunSpread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spread(values: number[]): RunSpread {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: values.length };
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), runs: values.length };
}

/** Runs combined: median across runs of each quantile and of the mean; min and max over all runs. */
export function medianSummary(runs: Summary[]): Summary {
  const vals = (k: keyof Summary) => runs.map((r) => r[k]).filter((v) => Number.isFinite(v));
  const pick = (k: keyof Summary) => median(vals(k));
  const minV = vals('min');
  const maxV = vals('max');
  return {
    n: runs.reduce((a, r) => a + r.n, 0), min: minV.length ? Math.min(...minV) : Number.NaN, p50: pick('p50'), p95: pick('p95'), p99: pick('p99'),
    max: maxV.length ? Math.max(...maxV) : Number.NaN, mean: pick('mean'),
  };
}

/** Least-squares slope and intercept of y over x. */
export function linearFit(xs: number[], ys: number[]): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : Number.NaN;
  return { slope, intercept: my - slope * mx };
}

/** Round for reports: 3 significant decimals is plenty for ms and ratios. */
export function round(v: number, digits = 3): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
