/**
 * Inference worker (one Piscina thread): PCM window from the session's ring → 16 kHz →
 * ONNX model → 30 FPS ARKit weights → finished sync_frame bytes. One ONNX session per worker,
 * one intra-op thread, spinning off, warmed up before the first task.
 */
import { threadId, workerData } from 'node:worker_threads';
import { SyncFrameEncoder } from '../src/inference/frame-encoder.js';
import { WindowModel } from '../src/inference/window-model.js';
import { WindowIo, abandonedResult, isAbandoned } from '../src/inference/window-io.js';
import { returnTransferring } from './transfer.js';
import type { InferenceTask, InferenceWorkerData, PingResult, WindowResult, WindowsResult, WindowsTask, WindowTask } from '../src/inference/tasks.js';

const data = workerData as InferenceWorkerData;
// The model loads and is warmed up before the first task.
const model = await WindowModel.create(data.modelPath);
const io = new WindowIo(new SyncFrameEncoder());
const yieldWords = new Int32Array(data.yieldWords);
let tasksRun = 0;

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
  const { pcm, frameCount } = io.readPcm(task);
  const pcmReadMs = performance.now() - t0;
  const w = await model.weights(io.ring(task.ring), task, frameCount);
  return io.finish(task, w.weights, pcm, frameCount, w.inferMs, t0, threadId, { readMs: pcmReadMs + w.readMs, resampleMs: w.resampleMs });
}

/** Windows one after another, until they are done or the main thread asks this batch to yield. */
async function runWindows(task: WindowsTask): Promise<WindowsResult> {
  const results: WindowResult[] = [];
  for (const t of task.tasks) {
    if (results.length > 0 && Atomics.load(yieldWords, task.yieldSlot) !== 0) break;
    results.push(await runWindow(t));
  }
  // Each window's own frame buffer moves (listed once: a transfer list must not repeat one).
  const buffers = new Set(results.map((r) => r.bytes.buffer as ArrayBuffer).filter((b) => b.byteLength > 0));
  return returnTransferring({ results }, [...buffers]);
}

export default async function inference(task: InferenceTask): Promise<WindowResult | WindowsResult | PingResult> {
  if (task.kind === 'ping') return { threadId, inputName: model.inputName, outputName: model.outputName, warmupMs: model.warmupMs };
  if (task.kind === 'windows') return runWindows(task);
  // The frame bytes (one exact-size buffer per window) move to the main thread rather than being copied.
  const result = await runWindow(task);
  return returnTransferring(result, [result.bytes.buffer as ArrayBuffer]);
}
