import { bucketQuantile, histogramDelta, parsePromText, readHistogram, readValue, type PromSample } from './prom-text.js';

/**
 * "Where a window's time goes" for one load level, from two scrapes of the server's `/metrics`
 * (when every session finished its warm-up turn, and after the last turn) and the pool busy ratio
 * polled meanwhile: quantiles of the inference queue wait, the round trip, the worker's run time
 * and each stage of it, worker CPU against worker wall time, and late windows by their index in
 * their turn. A series the server does not expose reads as null ("n/a" in the report).
 */
export interface TimeQuantiles {
  /** Windows observed over the measured turns. */
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** Set when a quantile fell beyond the histogram's last finite bucket: it is at least this. */
  beyondMs: number | null;
  /** The start scrape could not be subtracted: counts since the server started (warm-up included). */
  sinceStart: boolean;
}

export const STAGES = ['read', 'resample', 'model', 'encode'] as const;
export type Stage = (typeof STAGES)[number];
export const WINDOW_INDEXES = ['0', '1', '2', '3+'] as const;

export interface WindowBreakdown {
  /** Dispatch on the main thread → a worker starts the task. */
  queueWait: TimeQuantiles | null;
  /** Dispatch → result back on the main thread. */
  roundTrip: TimeQuantiles | null;
  /** Worker wall time of the whole task. */
  workerRun: TimeQuantiles | null;
  stages: Record<Stage, TimeQuantiles | null>;
  /** Worker-thread CPU in window tasks, and worker wall time (sum of run times), seconds. */
  workerCpuS: number | null;
  workerWallS: number | null;
  /**
   * Worker-thread CPU (windows and the hand-offs between them) over the tasks' wall time: well
   * below 1, worker threads waited for a core mid-task.
   */
  workerCpuOverWall: number | null;
  /** Per window index within its turn: windows run and windows whose result came after their first frame's due time. */
  byIndex: Array<{ window: string; windows: number | null; late: number | null }>;
  windows: number | null;
  lateWindows: number | null;
  /** avatar_inference_pool_busy_ratio (0..1 over 5 s) polled during the measured turns. */
  poolBusyRatioMax: number | null;
  poolBusyRatioMedian: number | null;
  /** Metric families the server did not expose. */
  missing: string[];
}

export const METRIC = {
  queueWait: 'avatar_inference_queue_wait_seconds',
  roundTrip: 'avatar_inference_round_trip_seconds',
  workerRun: 'avatar_inference_window_seconds',
  stage: 'avatar_inference_stage_seconds',
  workerCpu: 'avatar_inference_worker_cpu_seconds_total',
  byIndex: 'avatar_inference_windows_by_index_total',
  late: 'avatar_inference_late_windows_total',
  busy: 'avatar_inference_pool_busy_ratio',
  queueDepth: 'avatar_inference_queue_depth',
} as const;

function quantiles(start: PromSample[] | null, end: PromSample[], name: string, match: Record<string, string> = {}): TimeQuantiles | null {
  const e = readHistogram(end, name, match);
  if (!e) return null;
  const h = histogramDelta(e, start ? readHistogram(start, name, match) : null);
  const q = (p: number) => bucketQuantile(h, p);
  const [p50, p95, p99] = [q(0.5), q(0.95), q(0.99)];
  const beyond = [p50, p95, p99].find((x) => x.beyond);
  return {
    count: h.count,
    meanMs: h.count > 0 ? (h.sum / h.count) * 1000 : Number.NaN,
    p50Ms: p50.value * 1000,
    p95Ms: p95.value * 1000,
    p99Ms: p99.value * 1000,
    beyondMs: beyond ? beyond.value * 1000 : null,
    sinceStart: h.sinceStart,
  };
}

function counterDelta(start: PromSample[] | null, end: PromSample[], name: string, match: Record<string, string> = {}): number | null {
  const e = readValue(end, name, match);
  if (e === null) return null;
  const s = start ? readValue(start, name, match) : null;
  return s === null || s > e ? e : e - s;
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)]!;
}

/** Pool busy ratio from one scrape (null when absent or unreadable). */
export function busyRatioOf(text: string): number | null {
  const v = readValue(parsePromText(text), METRIC.busy);
  return v !== null && Number.isFinite(v) ? v : null;
}

/**
 * @param startText scrape when the warm-up turns were done (null: none; counts since start)
 * @param endText scrape after the last turn
 * @param busyRatios busy ratio gauge values polled during the measured turns
 */
export function windowBreakdown(startText: string | null, endText: string, busyRatios: number[] = []): WindowBreakdown {
  const start = startText === null ? null : parsePromText(startText);
  const end = parsePromText(endText);
  const has = (name: string) => end.some((s) => s.name === name || s.name === `${name}_bucket` || s.name === `${name}_count`);
  const missing = Object.values(METRIC).filter((m) => m !== METRIC.queueDepth && !has(m));
  const stages = Object.fromEntries(STAGES.map((stage) => [stage, quantiles(start, end, METRIC.stage, { stage })])) as Record<Stage, TimeQuantiles | null>;
  const workerRun = quantiles(start, end, METRIC.workerRun);
  const workerCpuS = counterDelta(start, end, METRIC.workerCpu);
  const runEnd = readHistogram(end, METRIC.workerRun);
  const workerWallS = runEnd ? histogramDelta(runEnd, start ? readHistogram(start, METRIC.workerRun) : null).sum : null;
  const byIndex = WINDOW_INDEXES.map((window) => ({ window, windows: counterDelta(start, end, METRIC.byIndex, { window }), late: counterDelta(start, end, METRIC.late, { window }) }));
  const total = (k: 'windows' | 'late') => (byIndex.every((r) => r[k] === null) ? null : byIndex.reduce((a, r) => a + (r[k] ?? 0), 0));
  const busy = busyRatios.filter((b) => Number.isFinite(b));
  return {
    queueWait: quantiles(start, end, METRIC.queueWait),
    roundTrip: quantiles(start, end, METRIC.roundTrip),
    workerRun,
    stages,
    workerCpuS,
    workerWallS,
    workerCpuOverWall: workerCpuS !== null && workerWallS !== null && workerWallS > 0 ? workerCpuS / workerWallS : null,
    byIndex,
    windows: total('windows'),
    lateWindows: total('late'),
    poolBusyRatioMax: busy.length ? Math.max(...busy) : null,
    poolBusyRatioMedian: median(busy),
    missing,
  };
}
