import t from 'tap';
import { diagnoseLimit, evidenceOf, type LimitEvidence } from '../bench/limit-diagnosis.js';
import type { StepMeasurement } from '../bench/load-driver.js';
import { windowBreakdown } from '../bench/window-breakdown.js';
import { hostCores, sampleHostCpu } from '../bench/proc-cpu.js';

/** A failing level where nothing stands out: each case changes what makes it that limit. */
const base: LimitEvidence = {
  broken: false, reasons: ['client lateness p99 40.0 ms > one frame'], inferenceFailures: 0,
  generatorSaturated: false, generatorLoopDelayP99Ms: 3, generatorCores: 0.3, cores: 2,
  serverProcessCores: 1.0, hostCores: 1.4, mainThreadCores: 0.4, eventLoopDelayP99Ms: 2,
  pacingLatenessP99Ms: 1, underruns: 0, clientLatenessP99Ms: 40,
  poolBusyRatio: 0.5, queueWaitP99Ms: 2, workerRunP99Ms: 6, workerCpuOverWall: 0.97, lateWindows: 0, windows: 1000, latestIndex: null,
};

t.test('each limit is named from its evidence', async (t) => {
  const cases: Array<[string, Partial<LimitEvidence>, string, RegExp]> = [
    ['lost frames', { broken: true, reasons: ['3 broken turns'] }, 'broken', /3 broken turns/],
    ['failed windows', { inferenceFailures: 2 }, 'inference failures', /2 failed/],
    ['generator', { generatorSaturated: true, generatorLoopDelayP99Ms: 31.5 }, 'load generator CPU', /31\.5 ms/],
    ['generator starved on a full machine', { generatorSaturated: true, generatorLoopDelayP99Ms: 28.2, generatorCores: 0.08, hostCores: 1.99 }, 'machine CPU', /1\.99 of 2 cores busy.*starved, its event-loop delay p99 28\.2 ms/],
    ['pool saturated', { poolBusyRatio: 0.93, lateWindows: 12, latestIndex: '0' }, 'inference CPU', /pool busy ratio 0\.93 ≥ 0\.9.*12 of 1000 windows late, most at index 0/],
    ['pool busy but starved', { poolBusyRatio: 0.95, workerCpuOverWall: 0.6 }, 'machine CPU', /only 60% of their wall time/],
    ['main thread', { mainThreadCores: 0.92, eventLoopDelayP99Ms: 12 }, 'main thread CPU', /92% of a core/],
    ['machine', { serverProcessCores: 1.5, generatorCores: 0.35 }, 'machine CPU', /server 1\.50 \+ load generator 0\.35 of 2 cores/],
    ['other processes', { hostCores: 1.95, eventLoopDelayP99Ms: 25 }, 'machine CPU', /1\.95 of 2 cores busy: server 1\.00, load generator 0\.30, others 0\.65/],
    ['loop delay', { eventLoopDelayP99Ms: 25 }, 'main thread CPU', /event-loop delay p99 25\.0 ms/],
    ['queueing', { queueWaitP99Ms: 80, lateWindows: 30, underruns: 4, poolBusyRatio: 0.7 }, 'inference queueing', /queue wait p99 80\.0 ms while pool busy ratio 0\.70/],
    ['slow windows, no queue', { queueWaitP99Ms: 3, workerRunP99Ms: 45, lateWindows: 5, latestIndex: '0' }, 'inference latency', /5 of 1000 windows late, most at index 0; window run p99 45\.0 ms/],
    ['pacer', { pacingLatenessP99Ms: 38 }, 'pacer', /pacing lateness p99 38\.0 ms.*no late window/],
    ['send path', {}, 'send path', /client lateness p99 40\.0 ms while server pacing lateness p99 1\.0 ms/],
    ['nothing', { clientLatenessP99Ms: 10, reasons: ['turns last 50 ms longer'] }, 'unknown', /turns last 50 ms longer/],
  ];
  for (const [name, change, limit, detail] of cases) {
    const d = diagnoseLimit({ ...base, ...change });
    t.equal(d.limit, limit, name);
    t.match(d.detail, detail, `${name}: ${d.detail}`);
  }
});

t.test('rules are ordered: a saturated generator outranks a busy pool, a busy pool outranks queueing', async (t) => {
  t.equal(diagnoseLimit({ ...base, generatorSaturated: true, poolBusyRatio: 0.99 }).limit, 'load generator CPU');
  t.equal(diagnoseLimit({ ...base, poolBusyRatio: 0.9, queueWaitP99Ms: 200, lateWindows: 50 }).limit, 'inference CPU');
  // Queue wait below the floor, or below the run time, is not queueing.
  t.equal(diagnoseLimit({ ...base, queueWaitP99Ms: 8, workerRunP99Ms: 6, lateWindows: 3 }).limit, 'inference latency');
  t.equal(diagnoseLimit({ ...base, queueWaitP99Ms: 30, workerRunP99Ms: 40, lateWindows: 3 }).limit, 'inference latency');
});

t.test('without the scraped metrics the rules that need them are skipped, and n/a is said', async (t) => {
  const none: Partial<LimitEvidence> = { poolBusyRatio: null, queueWaitP99Ms: null, workerRunP99Ms: null, workerCpuOverWall: null, lateWindows: null, windows: null };
  const late = diagnoseLimit({ ...base, ...none, underruns: 3 });
  t.equal(late.limit, 'inference latency', 'frames late at the pacer: windows were late');
  t.match(late.detail, /3 frames reached the pacer late, late windows n\/a; window run p99 n\/a ms, queue wait p99 n\/a ms, pool busy ratio n\/a/);
  t.equal(diagnoseLimit({ ...base, ...none }).limit, 'send path');
  const main = diagnoseLimit({ ...base, ...none, mainThreadCores: 0.9 });
  t.equal(main.limit, 'main thread CPU');
  const unknown = diagnoseLimit({ ...base, ...none, clientLatenessP99Ms: 5 });
  t.equal(unknown.limit, 'unknown');
  t.match(unknown.detail, /pool busy ratio n\/a/);
});

t.test('evidence is read from a step measurement and its breakdown', async (t) => {
  const metrics = [
    '# TYPE avatar_inference_queue_wait_seconds histogram',
    'avatar_inference_queue_wait_seconds_bucket{le="0.01"} 0', 'avatar_inference_queue_wait_seconds_bucket{le="0.1"} 10',
    'avatar_inference_queue_wait_seconds_bucket{le="+Inf"} 10', 'avatar_inference_queue_wait_seconds_sum 0.5', 'avatar_inference_queue_wait_seconds_count 10',
    '# TYPE avatar_inference_late_windows_total counter', 'avatar_inference_late_windows_total{window="0"} 1', 'avatar_inference_late_windows_total{window="3+"} 4',
    '# TYPE avatar_inference_windows_by_index_total counter', 'avatar_inference_windows_by_index_total{window="0"} 5', 'avatar_inference_windows_by_index_total{window="3+"} 5', '',
  ].join('\n');
  const step = {
    sessions: 40, broken: false, reasons: ['7 frames reached the pacer after their deadline'], generatorSaturated: false,
    client: { latenessMs: { p99: 50 }, generator: { cpuMs: 2000, wallMs: 10000, eventLoopDelayP99Ms: 4 } },
    server: { inferenceFailures: 0, processCores: 1.1, mainThreadCores: 0.5, eventLoopDelayP99Ms: 3, pacingLatenessP99Ms: 2, underruns: 7 },
    windows: windowBreakdown(null, metrics, [0.6, 0.72]),
  } as unknown as StepMeasurement;
  const e = evidenceOf(step, 2);
  t.equal(e.generatorCores, 0.2);
  t.equal(e.poolBusyRatio, 0.72, 'the peak busy ratio');
  t.equal(e.lateWindows, 5);
  t.equal(e.latestIndex, '3+');
  t.ok(e.queueWaitP99Ms! > 10 && e.queueWaitP99Ms! <= 100);
  t.equal(e.workerRunP99Ms, null);
  t.equal(diagnoseLimit(e).limit, 'inference queueing');
  t.ok(Number.isNaN(e.hostCores), 'host CPU unknown');
  t.equal(evidenceOf({ ...step, hostCores: 1.9 } as StepMeasurement, 2).hostCores, 1.9);
  const old = evidenceOf({ ...step, windows: undefined } as StepMeasurement, 2);
  t.equal(old.poolBusyRatio, null, 'a report from before the breakdown existed');
  t.equal(old.lateWindows, null);
});

t.test('machine CPU from /proc/stat grows while this process spins', async (t) => {
  const a = sampleHostCpu();
  t.ok(Number.isFinite(a.busyMs) && a.busyMs > 0, `busy ${a.busyMs} ms since boot`);
  let b = sampleHostCpu();
  // Spin until the kernel has counted at least two more ticks of busy time (10 ms each).
  while (b.busyMs - a.busyMs < 20 && b.atMs - a.atMs < 5000) b = sampleHostCpu();
  t.ok(b.busyMs - a.busyMs >= 20, `busy time advanced ${b.busyMs - a.busyMs} ms in ${(b.atMs - a.atMs).toFixed(0)} ms`);
  const c = hostCores(a, b);
  t.ok(c > 0 && c <= 64, `${c} cores busy`);
});
