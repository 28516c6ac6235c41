import t from 'tap';
import { bucketQuantile, histogramDelta, parsePromText, readHistogram, readValue } from '../bench/prom-text.js';
import { busyRatioOf, windowBreakdown } from '../bench/window-breakdown.js';

/** A histogram family in the server's exposition layout, from per-bucket (not cumulative) counts. */
function hist(name: string, bounds: number[], counts: number[], sum: number, labels = ''): string {
  const lines = [`# HELP ${name} test`, `# TYPE ${name} histogram`];
  let c = 0;
  bounds.forEach((b, i) => {
    c += counts[i] ?? 0;
    lines.push(`${name}_bucket{${labels}${labels ? ',' : ''}le="${b}"} ${c}`);
  });
  c += counts[bounds.length] ?? 0;
  const sel = labels ? `{${labels}}` : '';
  lines.push(`${name}_bucket{${labels}${labels ? ',' : ''}le="+Inf"} ${c}`, `${name}_sum${sel} ${sum}`, `${name}_count${sel} ${c}`);
  return lines.join('\n');
}

/** Stage histograms share one TYPE line, one labelled set per stage (as the contract says). */
function stages(per: Record<string, number[]>, bounds: number[]): string {
  const out = ['# HELP avatar_inference_stage_seconds x', '# TYPE avatar_inference_stage_seconds histogram'];
  for (const [stage, counts] of Object.entries(per)) out.push(...hist('avatar_inference_stage_seconds', bounds, counts, 0.01, `stage="${stage}"`).split('\n').slice(2));
  return out.join('\n');
}

const B = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1];

t.test('the lenient reader takes labels, escapes, special values and skips what it cannot read', async (t) => {
  const s = parsePromText(['# TYPE a counter', 'a{x="1",y="q\\"uote"} 3', 'a{x="2"} 4 1700000000000', 'garbage line here', 'b NaN', 'c +Inf', 'd{le="+Inf"} 7', ''].join('\n'));
  t.equal(readValue(s, 'a'), 7, 'sum over labels');
  t.equal(readValue(s, 'a', { x: '2' }), 4, 'timestamp ignored');
  t.equal(s.find((x) => x.name === 'a')!.labels.y, 'q"uote');
  t.ok(Number.isNaN(readValue(s, 'b')!));
  t.equal(readValue(s, 'c'), Infinity);
  t.equal(readValue(s, 'missing'), null);
  t.equal(s.length, 5, 'the garbage line is skipped');
});

t.test('bucket quantiles interpolate inside the bucket, like histogram_quantile', async (t) => {
  // 10 in (0, 1 ms], 10 in (1, 2 ms], nothing above.
  const h = readHistogram(parsePromText(hist('x', B, [10, 10], 0.025)), 'x')!;
  t.equal(h.count, 20);
  t.same(h.cumulative.slice(0, 3), [10, 20, 20]);
  t.equal(bucketQuantile(h, 0.5).value, 0.001, 'rank 10 is the top of the first bucket');
  t.ok(Math.abs(bucketQuantile(h, 0.25).value - 0.0005) < 1e-12, 'half way through the first bucket');
  t.ok(Math.abs(bucketQuantile(h, 0.75).value - 0.0015) < 1e-12, 'half way through the second');
  t.ok(Math.abs(bucketQuantile(h, 0.99).value - (0.001 + 0.001 * 0.98)) < 1e-12);
  t.same(bucketQuantile({ ...h, count: 0, cumulative: h.cumulative.map(() => 0) }, 0.5).value, Number.NaN, 'no observations: NaN');
  const over = readHistogram(parsePromText(hist('x', B, [1, 0, 0, 0, 0, 0, 0, 9], 5)), 'x')!;
  t.same(bucketQuantile(over, 0.99), { value: 0.1, beyond: true }, 'beyond the last bound: that bound, flagged');
});

t.test('deltas between two scrapes count only the measured turns', async (t) => {
  const start = readHistogram(parsePromText(hist('x', B, [5], 0.004)), 'x')!;
  const end = readHistogram(parsePromText(hist('x', B, [5, 0, 0, 10], 0.104)), 'x')!;
  const d = histogramDelta(end, start);
  t.equal(d.count, 10);
  t.notOk(d.sinceStart);
  t.ok(Math.abs(d.sum - 0.1) < 1e-12);
  t.ok(bucketQuantile(d, 0.5).value > 0.005 && bucketQuantile(d, 0.5).value <= 0.01, 'all in the (5, 10 ms] bucket');
  const other = readHistogram(parsePromText(hist('x', [0.5, 1], [1], 0.1)), 'x')!;
  t.ok(histogramDelta(end, other).sinceStart, 'other bounds cannot be subtracted: flagged');
  t.ok(histogramDelta(end, null).sinceStart);
});

t.test('a full scrape in the documented format gives every row of the breakdown', async (t) => {
  const scrape = (k: number) => [
    hist('avatar_inference_queue_wait_seconds', B, [0, 0, 0, 0, 0, 8 * k, 2 * k], 0.5 * k),
    hist('avatar_inference_round_trip_seconds', B, [0, 0, 0, 0, 0, 5 * k, 5 * k], 0.6 * k),
    hist('avatar_inference_window_seconds', B, [0, 0, 10 * k], 0.04 * k),
    stages({ read: [10 * k], resample: [0, 10 * k], model: [0, 0, 10 * k], encode: [10 * k] }, B),
    '# TYPE avatar_inference_worker_cpu_seconds_total counter', `avatar_inference_worker_cpu_seconds_total ${0.03 * k}`,
    '# TYPE avatar_inference_windows_by_index_total counter',
    `avatar_inference_windows_by_index_total{window="0"} ${2 * k}`, `avatar_inference_windows_by_index_total{window="1"} ${2 * k}`,
    `avatar_inference_windows_by_index_total{window="2"} ${2 * k}`, `avatar_inference_windows_by_index_total{window="3+"} ${4 * k}`,
    '# TYPE avatar_inference_late_windows_total counter',
    `avatar_inference_late_windows_total{window="0"} ${1 * k}`, 'avatar_inference_late_windows_total{window="1"} 0',
    'avatar_inference_late_windows_total{window="2"} 0', `avatar_inference_late_windows_total{window="3+"} ${k}`,
    '# TYPE avatar_inference_pool_busy_ratio gauge', 'avatar_inference_pool_busy_ratio 0.5', '',
  ].join('\n');
  const w = windowBreakdown(scrape(1), scrape(3), [0.4, 0.95, 0.6]);
  t.same(w.missing, []);
  t.equal(w.queueWait!.count, 20, 'deltas: 3 − 1 scrapes of 10');
  t.ok(w.queueWait!.p50Ms > 20 && w.queueWait!.p50Ms <= 50, `queue wait p50 ${w.queueWait!.p50Ms} in (20, 50] ms`);
  t.ok(w.queueWait!.p99Ms > 50 && w.queueWait!.p99Ms <= 100, `queue wait p99 ${w.queueWait!.p99Ms} in (50, 100] ms`);
  t.equal(w.queueWait!.beyondMs, null);
  t.ok(Math.abs(w.queueWait!.meanMs - 50) < 1e-9, 'mean from _sum/_count');
  t.ok(w.stages.model!.p50Ms > 2 && w.stages.model!.p50Ms <= 5);
  t.ok(w.stages.read!.p99Ms <= 1);
  t.ok(Math.abs(w.workerCpuS! - 0.06) < 1e-12);
  t.ok(Math.abs(w.workerWallS! - 0.08) < 1e-12);
  t.ok(Math.abs(w.workerCpuOverWall! - 0.75) < 1e-9);
  t.same(w.byIndex.map((r) => [r.window, r.windows, r.late]), [['0', 4, 2], ['1', 4, 0], ['2', 4, 0], ['3+', 8, 2]]);
  t.equal(w.windows, 20);
  t.equal(w.lateWindows, 4);
  t.equal(w.poolBusyRatioMax, 0.95);
  t.equal(w.poolBusyRatioMedian, 0.6);
  t.equal(busyRatioOf(scrape(1)), 0.5);
});

t.test("today's server (no new series) reads as nulls and names what is missing", async (t) => {
  const old = [hist('avatar_inference_window_seconds', B, [0, 0, 4], 0.012), '# TYPE avatar_pacing_underruns_total counter', 'avatar_pacing_underruns_total 0', ''].join('\n');
  const w = windowBreakdown(null, old);
  t.equal(w.queueWait, null);
  t.equal(w.roundTrip, null);
  t.equal(w.stages.model, null);
  t.equal(w.workerCpuS, null);
  t.equal(w.workerCpuOverWall, null);
  t.equal(w.lateWindows, null);
  t.equal(w.poolBusyRatioMax, null);
  t.equal(w.workerRun!.count, 4);
  t.ok(w.workerRun!.sinceStart, 'no start scrape: flagged as since start');
  t.ok(w.missing.includes('avatar_inference_queue_wait_seconds') && w.missing.includes('avatar_inference_late_windows_total'));
  t.notOk(w.missing.includes('avatar_inference_window_seconds'));
  t.equal(busyRatioOf(old), null);
});
