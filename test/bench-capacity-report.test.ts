import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, FULL_PLAN, QUICK_PLAN } from '../bench/options.js';
import { armPlan, capacityText, comparisonLevel, compareSchedulers, ratio, sweepRow } from '../bench/capacity-variants.js';
import { mainThreadFits, type CapacitySection } from '../bench/capacity.js';
import type { StepMeasurement } from '../bench/load-driver.js';
import { renderMarkdown } from '../bench/report.js';
import type { BenchReport } from '../bench/report-types.js';
import { windowBreakdown } from '../bench/window-breakdown.js';

/**
 * A report as written before the breakdown, the ablation and the sweep existed: the committed one
 * with those parts taken out (older reports never had them; the committed one may).
 */
const committed = JSON.parse(readFileSync(join(REPO_ROOT, 'bench/results/latest.json'), 'utf8')) as BenchReport;
const old: BenchReport = {
  ...committed,
  capacityScheduler: undefined,
  capacityWorkers: undefined,
  capacity: committed.capacity && {
    ...committed.capacity,
    windowTimes: undefined,
    steps: committed.capacity.steps.map(({ windows: _windows, ...rest }) => rest as StepMeasurement),
  },
};
if (old.capacity) delete old.capacity.windowTimes;
if (old.capacity?.firstFailure) delete old.capacity.firstFailure.limit;
delete old.capacityScheduler;
delete old.capacityWorkers;
const template = old.capacity!.steps[0]!;

function metrics(queueWaitBucket: number, late0: number): string {
  const bounds = [0.001, 0.005, 0.01, 0.05, 0.1];
  const counts = bounds.map((b) => (b >= bounds[queueWaitBucket]! ? 100 : 0));
  return [
    '# TYPE avatar_inference_queue_wait_seconds histogram',
    ...bounds.map((b, i) => `avatar_inference_queue_wait_seconds_bucket{le="${b}"} ${counts[i]}`),
    'avatar_inference_queue_wait_seconds_bucket{le="+Inf"} 100', 'avatar_inference_queue_wait_seconds_sum 1', 'avatar_inference_queue_wait_seconds_count 100',
    '# TYPE avatar_inference_window_seconds histogram',
    'avatar_inference_window_seconds_bucket{le="0.005"} 100', 'avatar_inference_window_seconds_bucket{le="+Inf"} 100', 'avatar_inference_window_seconds_sum 0.3', 'avatar_inference_window_seconds_count 100',
    '# TYPE avatar_inference_windows_by_index_total counter', 'avatar_inference_windows_by_index_total{window="0"} 25', 'avatar_inference_windows_by_index_total{window="3+"} 75',
    '# TYPE avatar_inference_late_windows_total counter', `avatar_inference_late_windows_total{window="0"} ${late0}`, 'avatar_inference_late_windows_total{window="3+"} 0',
    '',
  ].join('\n');
}

function step(sessions: number, pass: boolean, latenessP99: number, underruns: number, m: string | null): StepMeasurement {
  return {
    ...template, sessions, pass, reasons: pass ? [] : ['late'],
    client: { ...template.client, latenessMs: { ...template.client.latenessMs, p99: latenessP99 } },
    server: { ...template.server, underruns },
    windows: m === null ? null : windowBreakdown(null, m, [0.5, 0.7]),
  };
}

function section(scheduler: string, sessions: number, steps: StepMeasurement[], limitedBy: CapacitySection['limitedBy'] = 'server'): CapacitySection {
  const levels = [...new Set(steps.map((s) => s.sessions))].map((n) => ({ sessions: n, pass: steps.some((s) => s.sessions === n && s.pass), runs: 1, passedRuns: 1 }));
  const fail = steps.find((s) => !s.pass);
  return {
    ...old.capacity!, scheduler, sessions, steps, levels, limitedBy,
    firstFailure: fail ? { sessions: fail.sessions, reasons: ['late'], serverErrors: [], limit: { limit: 'inference queueing', detail: `inference queueing at ${fail.sessions}` } } : null,
    windowTimes: [{ role: 'last pass', sessions, windows: steps.find((s) => s.sessions === sessions)?.windows ?? null }],
  };
}

t.test('the arm plans: one level in quick mode, a ramp from half the seed in the full plan', async (t) => {
  const q = armPlan(QUICK_PLAN.capacity, QUICK_PLAN.capacityVariants, 32);
  t.same([q.ramp, q.maxSessions, q.bisectSteps], [[32], 32, 0]);
  t.ok(q.rampBudgetMs <= 30_000 && q.turnsPerSession === QUICK_PLAN.capacity.turnsPerSession);
  const f = armPlan(FULL_PLAN.capacity, FULL_PLAN.capacityVariants, 36);
  t.same(f.ramp, [18, 36]);
  t.equal(f.bisectSteps, FULL_PLAN.capacityVariants.bisectSteps);
  t.same(armPlan(FULL_PLAN.capacity, FULL_PLAN.capacityVariants, 1).ramp, [1]);
  t.same(armPlan(QUICK_PLAN.capacity, QUICK_PLAN.capacityVariants, 0).ramp, [1], 'never zero sessions');
});

t.test('ratios, comparison level and capacity text', async (t) => {
  t.equal(ratio(6, 3), 2);
  t.equal(ratio(0, 0), 1, 'both clean');
  t.ok(Number.isNaN(ratio(4, 0)), 'undefined against zero');
  t.ok(Number.isNaN(ratio(null, 3)));
  t.equal(capacityText(36, false, null), '36');
  t.equal(capacityText(8, true, 8), '≥ 8');
  t.equal(capacityText(0, true, 8), '< 8');
  const d = section('deadline', 32, [step(16, true, 5, 0, null), step(32, true, 8, 0, null), step(64, false, 50, 9, null)]);
  t.equal(comparisonLevel(d, section('fifo', 16, [step(16, true, 6, 0, null), step(32, false, 40, 3, null)])), 32);
  t.equal(comparisonLevel(d, section('fifo', 8, [step(8, true, 6, 0, null), step(16, false, 40, 3, null)])), 16, 'else the largest common level');
  t.equal(comparisonLevel(d, section('fifo', 2, [step(2, true, 6, 0, null)])), null);
});

t.test('the report shows the breakdown, the ablation with ratios, and sessions per worker', async (t) => {
  const dSteps = [step(16, true, 5, 0, metrics(0, 0)), step(32, true, 10, 2, metrics(1, 1)), step(64, false, 60, 30, metrics(3, 20))];
  const fSteps = [step(16, true, 8, 0, metrics(1, 0)), step(32, false, 40, 8, metrics(3, 10))];
  const deadline = section('deadline', 32, dSteps);
  const fifo = section('fifo', 16, fSteps);
  const arms = [{ scheduler: 'deadline', workers: 1, reused: true, section: deadline }, { scheduler: 'fifo', workers: 1, reused: false, section: fifo }];
  const ablation = compareSchedulers(deadline, fifo, arms);
  t.equal(ablation.comparisonSessions, 32);
  t.equal(ablation.ratios.capacity, 2);
  t.equal(ablation.ratios.clientLatenessP99, 4);
  t.equal(ablation.ratios.underruns, 4);
  t.ok(ablation.ratios.queueWaitP99 > 1, `queue wait p99 ratio ${ablation.ratios.queueWaitP99}`);
  t.notOk('section' in ablation.arms[0]!, 'a reused arm is not copied into the report');
  t.ok(ablation.arms[1]!.section);
  const two = section('deadline', 48, [step(48, true, 9, 0, null), step(96, false, 50, 3, null)]);
  const rows = [sweepRow(arms[0]!), sweepRow({ scheduler: 'deadline', workers: 2, reused: false, section: two })];
  t.same(rows.map((r) => [r.workers, r.sessions, r.sessionsPerWorker]), [[1, 32, 32], [2, 48, 24]]);
  const report: BenchReport = { ...old, server: { ...old.server, scheduler: 'deadline' }, capacity: deadline, capacityScheduler: ablation, capacityWorkers: { cores: 2, rows, arms: [] } };
  const md = renderMarkdown(report);
  t.match(md, /### Where a window's time goes \(deadline scheduler/);
  t.match(md, /\| queue wait ms \| [\d.]+ \/ [\d.]+ \/ [\d.]+ \|/);
  t.match(md, /\| late, window 0 \| 1 of 25 \(4\.0%\) \|/);
  t.match(md, /\| round trip ms \| n\/a \|/, 'a series the server does not expose is n/a');
  t.match(md, /did not expose .*avatar_inference_round_trip_seconds/);
  t.match(md, /### Scheduler: deadline vs FIFO/);
  t.match(md, /capacity deadline\/fifo \*\*×2\.00\*\*/);
  t.match(md, /client lateness p99 \*\*×4\.00\*\*/);
  t.match(md, /\| fifo \| 16 \| \*\*fail\*\* \| 40\.0 \|/);
  t.match(md, /What limited it: inference queueing at 64/);
  t.match(md, /\| 2 \| 48 \| 24\.0 \|/);
  t.notMatch(md, /undefined|NaN/);
});

t.test('quick-mode arms and an old report render without invented numbers', async (t) => {
  const oldMd = renderMarkdown(old);
  t.notMatch(oldMd, /Where a window's time goes|Scheduler: deadline vs FIFO|undefined/, 'nothing of the new sections without their data');
  const d = section('deadline', 8, [step(8, true, 6, 0, null)], 'one level');
  const f = section('fifo', 0, [step(8, false, 45, 4, null)], 'one level');
  const a = compareSchedulers(d, f, [{ scheduler: 'deadline', workers: 1, reused: false, section: d }, { scheduler: 'fifo', workers: 1, reused: false, section: f }]);
  t.ok(Number.isNaN(a.ratios.capacity), 'no capacity ratio from one level');
  const md = renderMarkdown({ ...old, capacityScheduler: a, capacityWorkers: { cores: 2, rows: [sweepRow({ scheduler: 'deadline', workers: 2, reused: false, section: f })], arms: [] } });
  t.match(md, /\| deadline \| ≥ 8 \| pass \|/);
  t.match(md, /\| fifo \| < 8 \| \*\*fail\*\* \|/);
  t.match(md, /capacity deadline\/fifo \*\*n\/a\*\*/);
  t.match(md, /\| 2 \| < 8 \| n\/a \| n\/a \|/);
  t.match(md, /\| queue wait ms \| n\/a \| n\/a \|/);
  t.notMatch(md, /undefined|NaN/);
});

t.test('pacing: the budgets are judged at 50 sessions, the level they name', async (t) => {
  const { profileLevels } = await import('../bench/pacing-profile.js');
  t.same(profileLevels(128), [1, 10, 50, 128]);
  t.same(profileLevels(32), [1, 10, 32, 50], '50 is profiled even above capacity');
  const p = committed.pacing!;
  const base = p.levels[0]!;
  const at50 = (pacingP99: number, loopP99: number) => ({
    ...base, sessions: 50,
    serverLatenessMs: { ...base.serverLatenessMs, p99: { median: pacingP99, min: pacingP99, max: pacingP99, runs: 3 } },
    eventLoopDelayP99Ms: { median: loopP99, min: loopP99, max: loopP99, runs: 3 },
  });
  const md = (level: ReturnType<typeof at50>) => renderMarkdown({ ...committed, pacing: { ...p, levels: [base, level] } });
  t.match(md(at50(1.2, 3.4)), /Budgets at 50 sessions \(medians of runs\): server pacing lateness p99 1\.20 ms \(< 2 ms: met\); main-thread event-loop delay p99 3\.40 ms \(< 2 ms: \*\*not met\*\*/);
  t.match(md(at50(2, 0.5)), /lateness p99 2\.00 ms \(< 2 ms: \*\*not met\*\*\); main-thread event-loop delay p99 0\.50 ms \(< 2 ms: met/);
  t.notMatch(renderMarkdown({ ...committed, pacing: { ...p, levels: [base] } }), /Budgets at 50 sessions/, 'no line without the level');
});

t.test('latency: a capacity row with streaming agents, labelled with their speed, beside the all-at-once rows', async (t) => {
  const p = committed.pacing!;
  const base = p.levels[p.levels.length - 1]!;
  const streaming = { ...base, firstFrameLatencyMs: { ...base.firstFrameLatencyMs, p50: 27.5, p95: 36.6 } };
  const md = renderMarkdown({ ...committed, pacing: { ...p, streamingAgents: streaming } });
  t.match(md, new RegExp(`\\| ${base.sessions} \\(agents at 4× real time\\) \\| 27\\.5 / 36\\.6 \\|`), 'section 4 row');
  t.match(md, /chunks every 25 ms/, 'the streaming rate is said');
  t.notMatch(renderMarkdown({ ...committed, pacing: { ...p, streamingAgents: undefined } }), /agents at 4× real time\) \|/, 'older reports have no such row');
});

t.test('main-thread CPU per frame: the slope over every run and over the passing runs, both in the report', async (t) => {
  // 20 µs per frame + 2 % of a core in the runs that pass; an overloaded run that spends less.
  const run = (fps: number, cores: number, pass: boolean) => ({ pass, server: { ...template.server, framesPerS: fps, mainThreadCores: cores } });
  const steps = [run(1000, 0.02 + 1000 * 20e-6, true), run(2000, 0.02 + 2000 * 20e-6, true), run(4000, 0.02 + 4000 * 20e-6, true), run(6000, 0.09, false)];
  const fits = mainThreadFits(steps);
  t.equal(fits.mainThreadMarginalPassingUsPerFrame!.toFixed(6), '20.000000', 'the passing runs alone give the cost of a frame');
  t.ok(fits.mainThreadMarginalUsPerFrame < 15, `the overloaded run pulls the all-run slope down (${fits.mainThreadMarginalUsPerFrame})`);
  const md = renderMarkdown({ ...old, capacity: { ...old.capacity!, ...fits } });
  t.match(md, /main-thread CPU = \*\*\d+\.\d µs per frame sent\*\* \(marginal, least-squares slope against frames\/s, every run\)/);
  t.match(md, /Over the runs that passed only .*\*\*20\.0 µs per frame\*\*/);
  const before = { ...old.capacity! };
  delete before.mainThreadMarginalPassingUsPerFrame;
  t.notMatch(renderMarkdown({ ...old, capacity: before }), /Over the runs that passed only/, 'a report from before the split shows the one figure it has');
});
