/**
 * A lenient reader of the server's `/metrics` (Prometheus text format 0.0.4) for the bench: a line
 * it does not understand is skipped, a series that is absent reads as null (an older server, or a
 * metric not exposed yet), so the report can say "n/a" instead of failing. Histograms are read
 * from their cumulative `_bucket` series, subtracted between two scrapes of the same process
 * (counters since start → counts over the measured turns), and their quantiles interpolated
 * linearly inside a bucket, the way Prometheus' histogram_quantile does.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;

function parseValue(v: string): number {
  if (v === '+Inf' || v === 'Inf') return Infinity;
  if (v === '-Inf') return -Infinity;
  if (v === 'NaN') return Number.NaN;
  const x = Number(v);
  return v.trim() === '' ? Number.NaN : x;
}

function unescape(v: string): string {
  return v.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

export function parsePromText(text: string): PromSample[] {
  const out: PromSample[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]!] = unescape(l[2]!);
    const value = parseValue(m[3]!);
    if (Number.isNaN(value) && m[3] !== 'NaN') continue;
    out.push({ name: m[1]!, labels, value });
  }
  return out;
}

function matches(s: PromSample, name: string, match: Record<string, string>): boolean {
  if (s.name !== name) return false;
  for (const [k, v] of Object.entries(match)) if (s.labels[k] !== v) return false;
  return true;
}

/** Sum of the samples of a counter (or a gauge) whose labels include `match`; null if none. */
export function readValue(samples: PromSample[], name: string, match: Record<string, string> = {}): number | null {
  let found = false;
  let sum = 0;
  for (const s of samples) {
    if (!matches(s, name, match)) continue;
    found = true;
    sum += s.value;
  }
  return found ? sum : null;
}

/** A histogram as cumulative counts at finite upper bounds (ascending); `count` includes +Inf. */
export interface BucketHistogram {
  bounds: number[];
  cumulative: number[];
  count: number;
  sum: number;
}

export function readHistogram(samples: PromSample[], name: string, match: Record<string, string> = {}): BucketHistogram | null {
  const buckets = new Map<number, number>();
  let inf: number | null = null;
  for (const s of samples) {
    if (!matches(s, `${name}_bucket`, match) || s.labels.le === undefined) continue;
    const le = parseValue(s.labels.le);
    if (le === Infinity) inf = s.value;
    else if (Number.isFinite(le)) buckets.set(le, s.value);
  }
  const count = readValue(samples, `${name}_count`, match) ?? inf;
  if (count === null && buckets.size === 0) return null;
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  return { bounds, cumulative: bounds.map((b) => buckets.get(b)!), count: count ?? 0, sum: readValue(samples, `${name}_sum`, match) ?? Number.NaN };
}

/**
 * Observations made between two scrapes of the same process. A start with other bounds (another
 * process, another layout) cannot be subtracted: the end is returned as is, flagged.
 */
export function histogramDelta(end: BucketHistogram, start: BucketHistogram | null): BucketHistogram & { sinceStart: boolean } {
  if (!start) return { ...end, sinceStart: true };
  const same = start.bounds.length === end.bounds.length && start.bounds.every((b, i) => b === end.bounds[i]);
  if (!same || start.count > end.count) return { ...end, sinceStart: true };
  return {
    bounds: end.bounds,
    cumulative: end.cumulative.map((c, i) => c - start.cumulative[i]!),
    count: end.count - start.count,
    sum: end.sum - start.sum,
    sinceStart: false,
  };
}

/**
 * Quantile q (0..1) from bucket counts, linear inside the bucket it falls in (the first bucket
 * starts at 0). A quantile beyond the last finite bound reads as that bound, with `beyond` set:
 * the true value is larger. NaN without observations.
 */
export function bucketQuantile(h: BucketHistogram, q: number): { value: number; beyond: boolean } {
  if (!(h.count > 0)) return { value: Number.NaN, beyond: false };
  const rank = Math.min(1, Math.max(0, q)) * h.count;
  for (let i = 0; i < h.bounds.length; i++) {
    const cum = h.cumulative[i]!;
    if (cum < rank || cum === 0) continue;
    const upper = h.bounds[i]!;
    const lower = i === 0 ? Math.min(0, upper) : h.bounds[i - 1]!;
    const below = i === 0 ? 0 : h.cumulative[i - 1]!;
    const inBucket = cum - below;
    if (inBucket <= 0) return { value: upper, beyond: false };
    return { value: lower + ((upper - lower) * (rank - below)) / inBucket, beyond: false };
  }
  const last = h.bounds[h.bounds.length - 1];
  return { value: last ?? Number.NaN, beyond: true };
}
