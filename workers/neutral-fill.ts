/**
 * The fill worker (one small Piscina thread, no model): serves a window with neutral weights
 * when its inference result is not back by the time its frames are needed (a stuck or overloaded
 * inference worker). It does what an inference window does around the weights — reads the
 * window's exact audio from the ring, base64 + sync_frame JSON, releases the ring — so the turn's
 * audio stays exact and none of that work lands on the main thread.
 */
import { threadId } from 'node:worker_threads';
import { SyncFrameEncoder } from '../src/inference/frame-encoder.js';
import { WindowIo } from '../src/inference/window-io.js';
import { returnTransferring } from './transfer.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import type { WindowResult, WindowTask } from '../src/inference/tasks.js';

const io = new WindowIo(new SyncFrameEncoder());

export default function neutralFill(task: WindowTask): WindowResult {
  const t0 = performance.now();
  const { pcm, frameCount } = io.readPcm(task);
  const result = io.finish(task, new Float32Array(frameCount * ARKIT_COUNT), pcm, frameCount, 0, t0, threadId);
  return returnTransferring(result, [result.bytes.buffer as ArrayBuffer]);
}
