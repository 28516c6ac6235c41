/**
 * `npm run bench` entry: node dist/bench/run.js [--quick] [--out <dir>] [--only parts].
 * Runs every part in turn (inference RTF, capacity, pacing/latency/main thread/memory profiles,
 * ablations), writes latest.md, latest.json and SVG charts, and exits non-zero if any part failed.
 */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseOptions, serverConfig } from './options.js';
import { machineInfo, modelsToBench } from './machine.js';
import { OUTPUT_SAMPLE_RATE } from '../src/audio/constants.js';
import { benchInference } from './inference-rtf.js';
import { batchingVerdict, benchBatching } from './batching.js';
import { benchCapacity } from './capacity.js';
import { benchPacing } from './pacing-profile.js';
import { LoadGenerator } from './load-driver.js';
import { LOAD_TEST_LIMITS, leadFrames, serverScheduler, serverWorkers } from './server-under-test.js';
import { benchSchedulerAblation, benchWorkerSweep } from './capacity-variants.js';
import { benchTaskWindows } from './task-windows.js';
import { benchRealtime, serverRealtimeSetting } from './realtime-priority.js';
import { contextSamplesFromEnv, rightContextSamplesFromEnv } from './stream-fixture.js';
import { ablateInferencePlacement } from './ablations/inference-placement.js';
import { ablatePacingTimer } from './ablations/pacing-timer.js';
import { ablateBase64, ablateSerialization } from './ablations/frame-serialization.js';
import { ablateResampler } from './ablations/resampler.js';
import { renderMarkdown } from './report.js';
import { capacityChart, inferenceChart } from './report-charts.js';
import type { BenchReport } from './report-types.js';

const opts = parseOptions(process.argv.slice(2));
const { plan } = opts;
const t0 = performance.now();
const log = (line: string) => process.stdout.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const wanted = (part: string) => opts.only.length === 0 || opts.only.includes(part);
const models = modelsToBench();

const report: BenchReport = {
  plan,
  machine: machineInfo(),
  server: { inferenceWorkers: serverWorkers(), scheduler: serverScheduler(), realtimePriority: serverRealtimeSetting(), leadFrames: leadFrames(), contextMs: (contextSamplesFromEnv() / OUTPUT_SAMPLE_RATE) * 1000, rightContextMs: (rightContextSamplesFromEnv() / OUTPUT_SAMPLE_RATE) * 1000, model: models[0]?.name ?? '?', env: LOAD_TEST_LIMITS },
  durationS: 0,
  ablations: {},
  failures: [],
};

async function part<T>(name: string, fn: () => Promise<T> | T): Promise<T | undefined> {
  log(`— ${name}`);
  try {
    return await fn();
  } catch (err) {
    const error = err instanceof Error ? err.stack ?? err.message : String(err);
    report.failures.push({ part: name, error });
    log(`FAILED ${name}: ${error}`);
    return undefined;
  }
}

log(`plan ${plan.name}, ${opts.cores} cores, load average ${report.machine.loadAverageAtStart.join(' ')}, models: ${models.map((m) => m.name).join(', ') || 'none'}`);

if (wanted('inference')) report.inference = await part('inference RTF', () => benchInference(plan.inference, models, log));
if (wanted('inference') || wanted('batching')) {
  report.batching = await part('batching', async () => {
    const r = await benchBatching(plan.batching, models, report.server.contextMs + (report.server.rightContextMs ?? 0), report.inference, log);
    log(batchingVerdict(r));
    return r;
  });
}

if (wanted('capacity') || wanted('scheduler') || wanted('task-windows') || wanted('workers') || wanted('pacing') || wanted('realtime')) {
  const gen = await part('load generator', () => LoadGenerator.start());
  if (gen) {
    try {
      if (wanted('capacity')) report.capacity = await part('capacity', () => benchCapacity(plan.capacity, gen, opts.cores, serverWorkers(), log));
      if (wanted('scheduler')) report.capacityScheduler = await part('capacity: scheduler deadline vs fifo', () => benchSchedulerAblation(plan, gen, opts.cores, report.capacity, log));
      if (wanted('task-windows')) report.taskWindows = await part('main thread: windows per task', () => benchTaskWindows(plan, gen, report.capacity, log));
      if (wanted('workers')) report.capacityWorkers = await part('capacity: inference workers', () => benchWorkerSweep(plan, gen, opts.cores, report.capacity, log));
      if (wanted('pacing')) {
        const level = report.capacity?.sessions ?? 10;
        report.pacing = await part('pacing, latency, main thread, memory', () => benchPacing(plan.pacing, gen, level, plan.capacity.staggerMs, log));
      }
      if (wanted('realtime')) report.realtime = await part('main thread: real-time priority', () => benchRealtime(plan, gen, log));
    } finally {
      await gen.stop();
    }
  }
}

if (wanted('ablations')) {
  const a = plan.ablations;
  const model = models[0];
  if (model) {
    report.ablations.placement = await part('ablation: inference placement', async () => {
      const r = await ablateInferencePlacement(model.path, model.name, serverWorkers(), { runs: a.placementRuns, streams: a.placementStreams, phaseMs: a.placementPhaseMs, windowS: serverConfig().audioChunkDurationS });
      log(`main thread vs pool: throughput ×${r.throughputRatio.toFixed(2)}, loop delay p99 main ${r.mainThread.eventLoopDelayP99Ms.median.toFixed(2)} ms vs pool ${r.pool.eventLoopDelayP99Ms.median.toFixed(2)} ms`);
      return r;
    });
  }
  report.ablations.pacingTimer = await part('ablation: pacing timer', async () => {
    const r = await ablatePacingTimer({ sessions: a.pacingSessions, frames: a.pacingFrames, runs: a.pacingRuns, leadFrames: leadFrames() });
    log(`setInterval vs pacing worker, lateness p99: idle ${r.idle.setInterval.latenessMs.p99.toFixed(2)} vs ${r.idle.pacingWorker.latenessMs.p99.toFixed(2)} ms, busy ${r.busy.setInterval.latenessMs.p99.toFixed(2)} vs ${r.busy.pacingWorker.latenessMs.p99.toFixed(2)} ms`);
    return r;
  });
  report.ablations.serialization = await part('ablation: serializer', () => {
    const r = ablateSerialization(a.microRuns, a.microIterations);
    if (!r.outputsEquivalent) throw new Error('fast-json-stringify and JSON.stringify disagree on a sync_frame');
    log(`JSON.stringify ${r.jsonStringifyUs.median.toFixed(2)} µs vs fast-json-stringify ${r.fastJsonStringifyUs.median.toFixed(2)} µs per frame (×${r.ratio.toFixed(2)})`);
    return r;
  });
  report.ablations.base64 = await part('ablation: base64 placement', () => {
    const r = ablateBase64(a.microRuns, a.microIterations);
    log(`per frame on main: base64 ${r.base64OnlyUs.median.toFixed(2)} µs, whole frame build ${r.fullFrameBuildUs.median.toFixed(2)} µs`);
    return r;
  });
  report.ablations.resampler = await part('ablation: resampler', () => {
    const r = ablateResampler(a.microRuns, a.resamplerRunMs);
    for (const x of r) log(`${x.name}: ${x.msPerModelInput.median.toFixed(3)} ms per 0.7 s, alias ${x.aliasWorstDb.toFixed(1)} dB, SNR ${x.passbandSnrDb.toFixed(1)} dB`);
    return r;
  });
}

report.durationS = (performance.now() - t0) / 1000;
mkdirSync(opts.outDir, { recursive: true });
const write = (name: string, text: string) => {
  // Write then rename, so a reader never sees half a report.
  const path = join(opts.outDir, name);
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
};
write('latest.json', JSON.stringify(report, null, 2) + '\n');
write('latest.md', renderMarkdown(report));
const cap = capacityChart(report);
if (cap) write('latest-capacity.svg', cap);
const inf = inferenceChart(report);
if (inf) write('latest-inference.svg', inf);
log(`done in ${report.durationS.toFixed(0)} s → ${opts.outDir}/latest.md${report.failures.length ? `; ${report.failures.length} part(s) FAILED` : ''}`);
process.exit(report.failures.length > 0 ? 1 : 0);
