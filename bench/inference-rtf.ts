import { createLogger } from '../src/logger.js';
import { InferencePool } from '../src/inference/pool.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME, wholeFrameSamples } from '../src/audio/constants.js';
import type { BenchPlan } from './options.js';
import type { ModelUnderTest } from './machine.js';
import { StreamFixture, contextSamplesFromEnv, rightContextSamplesFromEnv } from './stream-fixture.js';
import { quantile, spread, type RunSpread } from './quantiles.js';

/**
 * Section 1: the real Piscina pool (workers/inference.js window tasks: ring read, resample,
 * ONNX, 30 FPS frames, sync_frame encoding) per pool size and window length.
 *   latency phase: one window in flight → ms per window without queueing, RTF = ms / window ms;
 *   throughput phase: 2 × pool size streams, one window in flight each (as sessions do) →
 *   windows/s, and real-time streams the pool alone could feed (windows/s × window s).
 */
export interface InferenceRun {
  taskMsP50: number;
  taskMsP95: number;
  /** Submit → result on the main thread, one in flight (adds Piscina and message passing). */
  roundTripMsP50: number;
  rtfP50: number;
  windowsPerS: number;
  saturatedTaskMsP50: number;
}

export interface InferenceCell {
  model: string;
  poolSize: number;
  windowS: number;
  /** Audio the model sees per window: the window plus its context. */
  modelInputS: number;
  taskMsP50: RunSpread;
  taskMsP95: RunSpread;
  roundTripMsP50: RunSpread;
  rtf: RunSpread;
  windowsPerS: RunSpread;
  realtimeStreams: RunSpread;
  runs: InferenceRun[];
}

export interface InferenceSection {
  contextMs: number;
  /** Audio after each window fed with it (INFERENCE_RIGHT_CONTEXT_MS), ms. */
  rightContextMs?: number;
  models: Array<{ name: string; path: string; role: string; warmupMs: number; input: string; output: string }>;
  cells: InferenceCell[];
}

interface Timed {
  taskMs: number;
  roundTripMs: number;
  doneAt: number;
}

async function runOne(pool: InferencePool, stream: StreamFixture, windowSamples: number): Promise<Timed> {
  const task = stream.nextTask(windowSamples);
  const t0 = performance.now();
  const r = await pool.runWindow(task);
  const doneAt = performance.now();
  if (r.frameCount !== windowSamples / SAMPLES_PER_FRAME) throw new Error(`window of ${windowSamples} samples gave ${r.frameCount} frames`);
  if (r.lengths.length !== r.frameCount) throw new Error('encoded frame count differs from frameCount');
  return { taskMs: r.taskMs, roundTripMs: doneAt - t0, doneAt };
}

/** `streams` loops, each with one window in flight, for `durationMs`; the first windows are warm-up. */
async function drive(pool: InferencePool, streams: StreamFixture[], windowSamples: number, durationMs: number, warmupWindows: number): Promise<{ timed: Timed[]; measuredFrom: number; measuredTo: number }> {
  const timed: Timed[] = [];
  let warmDone = 0;
  let measuredFrom = Number.POSITIVE_INFINITY;
  let stopAt = Number.POSITIVE_INFINITY;
  await Promise.all(streams.map(async (s) => {
    try {
      for (let i = 0; i < warmupWindows; i++) await runOne(pool, s, windowSamples);
      if (++warmDone === streams.length) {
        measuredFrom = performance.now();
        stopAt = measuredFrom + durationMs;
      }
      // Until every stream is warm, keep this one busy too, but do not count it.
      while (performance.now() < stopAt) {
        const t = await runOne(pool, s, windowSamples);
        if (t.doneAt > measuredFrom && t.doneAt <= stopAt) timed.push(t);
      }
    } catch (err) {
      stopAt = 0; // stop the other streams too, then report the failure
      throw err;
    }
  }));
  return { timed, measuredFrom, measuredTo: stopAt };
}

export async function benchInference(plan: BenchPlan['inference'], models: ModelUnderTest[], log: (line: string) => void): Promise<InferenceSection> {
  if (models.length === 0) throw new Error('no model to bench: ONNX_MODEL_PATH does not exist');
  const contextSamples = contextSamplesFromEnv();
  const rightContextSamples = rightContextSamplesFromEnv();
  const logger = createLogger('error');
  const section: InferenceSection = { contextMs: (contextSamples / OUTPUT_SAMPLE_RATE) * 1000, rightContextMs: (rightContextSamples / OUTPUT_SAMPLE_RATE) * 1000, models: [], cells: [] };
  const maxPool = Math.max(...plan.poolSizes);
  const streams = Array.from({ length: 2 * maxPool }, (_, i) => new StreamFixture(i, contextSamples, rightContextSamples));
  for (const model of models) {
    for (const poolSize of plan.poolSizes) {
      const pool = new InferencePool({ modelPath: model.path, workers: poolSize, logger });
      const info = await pool.start();
      if (!section.models.some((m) => m.path === model.path)) {
        section.models.push({ name: model.name, path: model.path, role: model.role, warmupMs: +info.warmupMs.toFixed(1), input: info.inputName, output: info.outputName });
      }
      const runs = new Map<number, InferenceRun[]>(plan.windowsS.map((w) => [w, []]));
      try {
        // Runs interleave window lengths so a transient on the host does not hit one cell only.
        for (let r = 0; r < plan.runs; r++) {
          for (const windowS of plan.windowsS) {
            const windowSamples = wholeFrameSamples(windowS);
            const lat = await drive(pool, streams.slice(0, 1), windowSamples, plan.latencyPhaseMs, plan.warmupWindows);
            const sat = await drive(pool, streams.slice(0, 2 * poolSize), windowSamples, plan.throughputPhaseMs, plan.warmupWindows);
            if (lat.timed.length === 0 || sat.timed.length === 0) throw new Error(`no window finished for ${model.name} pool ${poolSize} window ${windowS} s`);
            const taskMs = lat.timed.map((t) => t.taskMs);
            const windowMs = windowS * 1000;
            runs.get(windowS)!.push({
              taskMsP50: quantile(taskMs, 0.5),
              taskMsP95: quantile(taskMs, 0.95),
              roundTripMsP50: quantile(lat.timed.map((t) => t.roundTripMs), 0.5),
              rtfP50: quantile(taskMs, 0.5) / windowMs,
              windowsPerS: sat.timed.length / ((sat.measuredTo - sat.measuredFrom) / 1000),
              saturatedTaskMsP50: quantile(sat.timed.map((t) => t.taskMs), 0.5),
            });
          }
        }
      } finally {
        await pool.close();
      }
      for (const windowS of plan.windowsS) {
        const rs = runs.get(windowS)!;
        const cell: InferenceCell = {
          model: model.name, poolSize, windowS, modelInputS: windowS + (contextSamples + rightContextSamples) / OUTPUT_SAMPLE_RATE,
          taskMsP50: spread(rs.map((r) => r.taskMsP50)), taskMsP95: spread(rs.map((r) => r.taskMsP95)),
          roundTripMsP50: spread(rs.map((r) => r.roundTripMsP50)), rtf: spread(rs.map((r) => r.rtfP50)),
          windowsPerS: spread(rs.map((r) => r.windowsPerS)), realtimeStreams: spread(rs.map((r) => r.windowsPerS * windowS)), runs: rs,
        };
        section.cells.push(cell);
        log(`inference ${model.name} pool=${poolSize} window=${windowS}s: ${cell.taskMsP50.median.toFixed(2)} ms/window p50, RTF ${cell.rtf.median.toFixed(4)}, ${cell.windowsPerS.median.toFixed(0)} windows/s`);
      }
    }
  }
  return section;
}
