import * as ort from 'onnxruntime-node';
import { MODEL_SAMPLE_RATE } from '../src/audio/constants.js';
import { createWorkerSession } from '../src/inference/ort-session.js';
import type { ModelUnderTest } from './machine.js';
import type { InferenceSection } from './inference-rtf.js';
import { median, spread, type RunSpread } from './quantiles.js';

/**
 * Batching (issue 20): would one model call over several sessions' due windows be cheaper than
 * one call each? Times the model call alone — one ONNX session with the pool workers' options
 * (one intra-op thread), input B × (window + context) — for each batch size B, and sets the saving
 * per window against the whole worker time of a window from section 1 (ring read, resample,
 * model, encode: only the model call batches). A model with a fixed batch of 1 is listed as such.
 *
 * A batch is built from windows waiting at the same time, so it also costs latency: the earliest
 * window's result comes back only when the whole batch is done.
 */
export interface BatchRow {
  batch: number;
  /** One call with B rows, ms (median of calls, spread over runs). */
  callMs: RunSpread;
  /** callMs / B. */
  msPerWindow: RunSpread;
  /** msPerWindow over the B = 1 call's ms, same run (1: no gain). */
  vsSingle: RunSpread;
}

export interface BatchingResult {
  model: string;
  /** The input's first dimension: symbolic (a batch axis) or a fixed 1. */
  batchAxis: boolean;
  inputShape: string;
  windowS: number;
  /** Model input per window: the window plus INFERENCE_CONTEXT_MS and INFERENCE_RIGHT_CONTEXT_MS, seconds. */
  modelInputS: number;
  rows: BatchRow[];
  /** Section 1's worker time per window (pool of 1, same model and window), ms, if it ran. */
  workerMsPerWindow: number | null;
  /** Best batch: the model time it saves per window as a share of the whole worker time. */
  bestBatch: number | null;
  savedShareOfWindow: number | null;
}

export interface BatchingPlan {
  batches: number[];
  windowsS: number[];
  runs: number;
  callsPerBatch: number;
}

/** Batching pays when it saves at least this share of a window's worker time. */
export const BATCHING_PAYS_SHARE = 0.1;

/** Deterministic speech-like test input: the model's cost does not depend on what it hears. */
function input(samples: number, row: number): Float32Array {
  const x = new Float32Array(samples);
  let seed = 0x9e3779b9 ^ (row * 7919);
  for (let i = 0; i < samples; i++) {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    const env = 0.5 + 0.5 * Math.sin((2 * Math.PI * i) / (MODEL_SAMPLE_RATE * 0.23));
    x[i] = env * (0.25 * Math.sin(i * (0.04 + 0.003 * row)) + 0.05 * (seed / 2 ** 32 - 0.5));
  }
  return x;
}

function inputShape(session: ort.InferenceSession): { shape: readonly (number | string)[]; batchAxis: boolean } {
  const meta = session.inputMetadata[0];
  const shape = meta && meta.isTensor ? meta.shape : [];
  return { shape, batchAxis: shape.length === 2 && typeof shape[0] === 'string' };
}

async function timeCall(session: ort.InferenceSession, feed: ort.Tensor, calls: number): Promise<number> {
  const name = session.inputNames[0]!;
  for (let i = 0; i < 3; i++) await session.run({ [name]: feed }); // warm: allocations for this shape
  const ms: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    await session.run({ [name]: feed });
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

/** `contextMs`: the audio fed to the model beside each window, before and after it (INFERENCE_CONTEXT_MS + INFERENCE_RIGHT_CONTEXT_MS). */
export async function benchBatching(plan: BatchingPlan, models: ModelUnderTest[], contextMs: number, section1: InferenceSection | undefined, log: (line: string) => void): Promise<BatchingResult[]> {
  const results: BatchingResult[] = [];
  for (const model of models) {
    const session = await createWorkerSession(model.path);
    try {
      const { shape, batchAxis } = inputShape(session);
      for (const windowS of plan.windowsS) {
        const modelInputS = windowS + contextMs / 1000;
        const samples = Math.round(modelInputS * MODEL_SAMPLE_RATE);
        const batches = batchAxis ? plan.batches : [1];
        const feeds = new Map(batches.map((b) => {
          const data = new Float32Array(b * samples);
          for (let r = 0; r < b; r++) data.set(input(samples, r), r * samples);
          return [b, new ort.Tensor('float32', data, [b, samples])] as const;
        }));
        const perRun: Array<Map<number, number>> = [];
        for (let run = 0; run < plan.runs; run++) {
          // Batch sizes interleave within a run, so a transient on the host does not hit one size only.
          const m = new Map<number, number>();
          for (const b of batches) m.set(b, await timeCall(session, feeds.get(b)!, Math.max(5, Math.round(plan.callsPerBatch / Math.sqrt(b)))));
          perRun.push(m);
        }
        const rows: BatchRow[] = batches.map((b) => ({
          batch: b,
          callMs: spread(perRun.map((m) => m.get(b)!)),
          msPerWindow: spread(perRun.map((m) => m.get(b)! / b)),
          vsSingle: spread(perRun.map((m) => m.get(b)! / b / m.get(1)!)),
        }));
        const cell = section1?.cells.find((c) => c.model === model.name && c.poolSize === 1 && Math.abs(c.windowS - windowS) < 1e-9);
        const workerMsPerWindow = cell ? cell.taskMsP50.median : null;
        const single = rows[0]!.msPerWindow.median;
        const best = rows.slice(1).reduce<BatchRow | null>((a, r) => (a === null || r.msPerWindow.median < a.msPerWindow.median ? r : a), null);
        const savedShareOfWindow = best && workerMsPerWindow ? (single - best.msPerWindow.median) / workerMsPerWindow : null;
        results.push({
          model: model.name, batchAxis, inputShape: `[${shape.join(', ')}]`, windowS, modelInputS, rows,
          workerMsPerWindow, bestBatch: best?.batch ?? null, savedShareOfWindow,
        });
        log(batchAxis
          ? `batching ${model.name} ${windowS} s: ${rows.map((r) => `B=${r.batch} ${r.msPerWindow.median.toFixed(2)} ms/window`).join(', ')}` +
            (savedShareOfWindow !== null ? `; best saves ${(savedShareOfWindow * 100).toFixed(1)} % of a window's worker time` : '')
          : `batching ${model.name}: input ${`[${shape.join(', ')}]`}, no batch axis (single calls)`);
      }
    } finally {
      await session.release();
    }
  }
  return results;
}

/** The sentence the report and README use: does batching pay on this machine? */
export function batchingVerdict(results: BatchingResult[]): string {
  const measured = results.filter((r) => r.batchAxis && r.savedShareOfWindow !== null);
  if (measured.length === 0) return 'no model with a batch axis was measured against section 1';
  const best = measured.reduce((a, r) => (r.savedShareOfWindow! > a.savedShareOfWindow! ? r : a));
  const pct = (best.savedShareOfWindow! * 100).toFixed(1);
  return best.savedShareOfWindow! >= BATCHING_PAYS_SHARE
    ? `batching pays: B = ${best.bestBatch} saves ${pct} % of a window's worker time (${best.model}, ${best.windowS} s windows), at least the ${BATCHING_PAYS_SHARE * 100} % it must save`
    : `batching does not pay: at best B = ${best.bestBatch} saves ${pct} % of a window's worker time (${best.model}, ${best.windowS} s windows), under the ${BATCHING_PAYS_SHARE * 100} % it must save to be worth the wait for a batch`;
}
