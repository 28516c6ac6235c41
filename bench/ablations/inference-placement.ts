import { LoopDelayMonitor } from '../../src/metrics/loop-delay.js';
import { createLogger } from '../../src/logger.js';
import { InferencePool } from '../../src/inference/pool.js';
import { wholeFrameSamples } from '../../src/audio/constants.js';
import type { WindowTask } from '../../src/inference/tasks.js';
import { StreamFixture, contextSamplesFromEnv } from '../stream-fixture.js';
import { quantile, spread, type RunSpread } from '../quantiles.js';
import { MainThreadInference } from './main-thread-inference.js';

/**
 * Ablation: inference on the main thread vs the Piscina pool, same window tasks.
 *   throughput: windows/s with the runner saturated (main: one at a time; pool: 2 × size in flight);
 *   responsiveness: S streams each asking for one window per window length (real-time load, like
 *   S speaking sessions), while the main thread's event-loop delay is recorded — the delay every
 *   socket message and every frame send would wait behind.
 */
export interface PlacementVariant {
  windowsPerS: RunSpread;
  eventLoopDelayP50Ms: RunSpread;
  eventLoopDelayP99Ms: RunSpread;
  eventLoopDelayMaxMs: RunSpread;
  /** Windows finished / windows asked for under the real-time load (1 = kept up). */
  keptUp: RunSpread;
  windowLatencyP99Ms: RunSpread;
  /** Windows that failed (e.g. the pool refused them): counted, not hidden, not thrown. */
  failedWindows: number;
}

export interface PlacementAblation {
  model: string;
  windowS: number;
  streams: number;
  poolSize: number;
  mainThread: PlacementVariant;
  pool: PlacementVariant;
  /** pool / main windows/s, and main / pool event-loop delay p99. */
  throughputRatio: number;
  eventLoopDelayP99Ratio: number;
}

/** Resolves false when the window failed. */
type Runner = (task: WindowTask) => Promise<boolean>;

async function saturate(run: Runner, streams: StreamFixture[], windowSamples: number, durationMs: number): Promise<number> {
  const stopAt = performance.now() + durationMs;
  let done = 0;
  await Promise.all(streams.map(async (s) => {
    while (performance.now() < stopAt) {
      await run(s.nextTask(windowSamples));
      if (performance.now() <= stopAt) done++;
    }
  }));
  return done / (durationMs / 1000);
}

async function realtimeLoad(run: Runner, streams: StreamFixture[], windowSamples: number, windowMs: number, durationMs: number) {
  const histogram = new LoopDelayMonitor(1);
  const start = performance.now() + 20;
  const stopAt = start + durationMs;
  let asked = 0;
  const latencies: number[] = [];
  await Promise.all(streams.map(async (s, i) => {
    // Streams are phase-shifted over one window so requests are spread, as real sessions are.
    let due = start + (i / streams.length) * windowMs;
    while (due < stopAt) {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      asked++;
      const t0 = performance.now();
      const ok = await run(s.nextTask(windowSamples));
      latencies.push(ok ? performance.now() - due : Number.POSITIVE_INFINITY);
      due += windowMs;
      if (t0 > stopAt) break;
    }
  }));
  const delay = histogram.snapshot();
  histogram.stop();
  return {
    p50: delay.p50Ms, p99: delay.p99Ms, max: delay.maxMs,
    keptUp: Math.min(1, latencies.filter((l) => l < windowMs).length / Math.max(1, asked)), latencyP99: quantile(latencies, 0.99),
  };
}

export async function ablateInferencePlacement(modelPath: string, modelName: string, poolSize: number, opts: { runs: number; streams: number; phaseMs: number; windowS: number }): Promise<PlacementAblation> {
  const contextSamples = contextSamplesFromEnv();
  const windowSamples = wholeFrameSamples(opts.windowS);
  const streams = Array.from({ length: opts.streams }, (_, i) => new StreamFixture(100 + i, contextSamples));
  const main = await MainThreadInference.create(modelPath);
  const pool = new InferencePool({ modelPath, workers: poolSize, logger: createLogger('error') });
  await pool.start();
  const failed = { mainThread: 0, pool: 0 };
  const counted = (name: 'mainThread' | 'pool', run: (task: WindowTask) => Promise<unknown>): Runner => (t) => run(t).then(() => true, () => {
    failed[name]++;
    return false;
  });
  const runners: Record<'mainThread' | 'pool', { run: Runner; saturating: number }> = {
    mainThread: { run: counted('mainThread', (t) => main.run(t)), saturating: 1 },
    pool: { run: counted('pool', (t) => pool.runWindow(t)), saturating: 2 * poolSize },
  };
  const raw = { mainThread: [] as Array<Record<string, number>>, pool: [] as Array<Record<string, number>> };
  try {
    for (let r = 0; r < opts.runs; r++) {
      for (const name of ['mainThread', 'pool'] as const) {
        const { run, saturating } = runners[name];
        await saturate(run, streams.slice(0, saturating), windowSamples, 300); // warm-up, discarded
        const windowsPerS = await saturate(run, streams.slice(0, saturating), windowSamples, opts.phaseMs / 2);
        const rt = await realtimeLoad(run, streams, windowSamples, opts.windowS * 1000, opts.phaseMs);
        raw[name].push({ windowsPerS, ...rt });
      }
    }
  } finally {
    await pool.close();
    await main.close();
  }
  const variant = (rows: Array<Record<string, number>>, failedWindows: number): PlacementVariant => ({
    failedWindows,
    windowsPerS: spread(rows.map((x) => x.windowsPerS!)), eventLoopDelayP50Ms: spread(rows.map((x) => x.p50!)),
    eventLoopDelayP99Ms: spread(rows.map((x) => x.p99!)), eventLoopDelayMaxMs: spread(rows.map((x) => x.max!)),
    keptUp: spread(rows.map((x) => x.keptUp!)), windowLatencyP99Ms: spread(rows.map((x) => x.latencyP99!)),
  });
  const mainThread = variant(raw.mainThread, failed.mainThread);
  const pooled = variant(raw.pool, failed.pool);
  return {
    model: modelName, windowS: opts.windowS, streams: opts.streams, poolSize, mainThread, pool: pooled,
    throughputRatio: pooled.windowsPerS.median / mainThread.windowsPerS.median,
    eventLoopDelayP99Ratio: mainThread.eventLoopDelayP99Ms.median / pooled.eventLoopDelayP99Ms.median,
  };
}
