/**
 * Inference worker (one Piscina thread): PCM window from the session's ring → 16 kHz →
 * ONNX model → 30 FPS ARKit weights → finished sync_frame bytes. One ONNX session per worker,
 * one intra-op thread, spinning off, warmed up before the first task.
 */
import { threadId, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createWorkerSession } from '../src/inference/ort-session.js';
import { PolyphaseResampler } from '../src/audio/resampler.js';
import { MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../src/audio/constants.js';
import { framesAt30Fps } from '../src/inference/frame-rate.js';
import { SyncFrameEncoder } from '../src/inference/frame-encoder.js';
import { WindowIo, abandonedResult, isAbandoned } from '../src/inference/window-io.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import type { InferenceTask, InferenceWorkerData, PingResult, WindowResult, WindowTask } from '../src/inference/tasks.js';

const data = workerData as InferenceWorkerData;
/** Models need a minimum input; shorter windows are zero-padded at the end and the extra frames dropped. */
const MIN_MODEL_SAMPLES = MODEL_SAMPLE_RATE / 5;

const session = await createWorkerSession(data.modelPath);
const inputName = session.inputNames[0]!;
const outputName = session.outputNames[0]!;
const resampler = new PolyphaseResampler(OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE);
const io = new WindowIo(new SyncFrameEncoder());
let input24 = new Float32Array(OUTPUT_SAMPLE_RATE * 4);
let input16 = new Float32Array(MODEL_SAMPLE_RATE * 4);
let tasksRun = 0;

async function runModel(samples16: number): Promise<{ weights: Float32Array; inferMs: number }> {
  const n = Math.max(samples16, MIN_MODEL_SAMPLES);
  if (n > samples16) input16.fill(0, samples16, n);
  // onnxruntime-node wants its own (non-shared) memory: input16 is a private Float32Array.
  const tensor = new ort.Tensor('float32', input16.subarray(0, n), [1, n]);
  const t0 = performance.now();
  const out = await session.run({ [inputName]: tensor });
  const inferMs = performance.now() - t0;
  const y = out[outputName]!;
  const frames = y.dims.length === 3 ? Number(y.dims[1]) : Math.floor(y.data.length / ARKIT_COUNT);
  const weights = framesAt30Fps(y.data as Float32Array, frames, n);
  return { weights, inferMs };
}

const warmupStart = performance.now();
input16.fill(0, 0, MODEL_SAMPLE_RATE / 2);
await runModel(MODEL_SAMPLE_RATE / 2);
const warmupMs = performance.now() - warmupStart;

async function runWindow(task: WindowTask): Promise<WindowResult> {
  const t0 = performance.now();
  // A hedge or a neutral fill already served this window: skip it rather than queue work.
  if (isAbandoned(task)) return abandonedResult(threadId);
  tasksRun++;
  if (data.crashOnTask > 0 && tasksRun === data.crashOnTask && Atomics.compareExchange(new Int32Array(data.faultFlag), 0, 0, 1) === 0) {
    // Fault injection (testing aid), once per process.
    if (data.faultKind === 'hang') for (;;); // a stuck worker: only the pool's task timeout ends it
    process.exit(70); // a crash: ends this worker thread only
  }
  const ring = io.ring(task.ring);
  const { pcm, frameCount } = io.readPcm(task);
  const n24 = task.end - task.contextStart;
  if (input24.length < n24) input24 = new Float32Array(n24);
  ring.readFloat(task.contextStart, task.end, input24);
  const t1 = performance.now();
  // Every 24 kHz sample is covered: 25 frames of 800 samples are 13 333⅓ samples at 16 kHz, and
  // a model that makes one frame per 533⅓ samples gives 25 frames only for 13 334 of them.
  const n16 = resampler.coveringLength(n24);
  if (input16.length < Math.max(n16, MIN_MODEL_SAMPLES)) input16 = new Float32Array(Math.max(n16, MIN_MODEL_SAMPLES));
  resampler.process(input24, n24, input16, n16);
  const t2 = performance.now();
  const model = await runModel(n16);
  const available = Math.floor(model.weights.length / ARKIT_COUNT);
  const offset = (task.start - task.contextStart) / SAMPLES_PER_FRAME;
  const weights = new Float32Array(frameCount * ARKIT_COUNT);
  for (let f = 0; f < frameCount; f++) {
    const src = Math.min(offset + f, available - 1);
    if (src >= 0) weights.set(model.weights.subarray(src * ARKIT_COUNT, (src + 1) * ARKIT_COUNT), f * ARKIT_COUNT);
  }
  return io.finish(task, weights, pcm, frameCount, model.inferMs, t0, threadId, { readMs: t1 - t0, resampleMs: t2 - t1 });
}

export default async function inference(task: InferenceTask): Promise<WindowResult | PingResult> {
  if (task.kind === 'ping') return { threadId, inputName, outputName, warmupMs };
  return runWindow(task);
}
