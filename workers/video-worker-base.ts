import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { PcmRing } from '../src/audio/pcm-ring.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import { AvatarRenderer } from '../src/video/avatar-renderer.js';
import { SpeechTrack } from '../src/video/speech-track.js';
import type { FromVideoWorker, ToVideoWorker, VideoWorkerData } from '../src/video/worker-protocol.js';

/**
 * What both video workers share (worker side): the session's speech on its way to inference
 * windows, the renderer, and the port to the main thread. Each dialect's worker extends it and
 * keeps all its state in its own instance.
 */
export abstract class VideoWorkerBase<D extends VideoWorkerData> {
  protected readonly track: SpeechTrack;
  protected readonly weights = new Float32Array(ARKIT_COUNT);
  protected stopping = false;

  constructor(protected readonly data: D, private readonly port: MessagePort, protected readonly renderer: AvatarRenderer) {
    this.track = new SpeechTrack(new PcmRing(data.ring), { rightContextSamples: data.rightContextSamples });
  }

  protected post(msg: FromVideoWorker, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(msg, transfer);
  }

  /** Hand the next ready inference window to the main thread (one in flight at a time). */
  protected pumpWindows(): void {
    const req = this.track.nextWindow();
    if (req) this.post({ type: 'window', req });
  }

  /** A window's weights came back: the next window can go. */
  protected onWeights(id: number, weights: Float32Array | null, frameCount: number): void {
    this.track.onWeights(id, weights, frameCount);
    this.pumpWindows();
  }

  protected closePort(): void {
    this.port.close();
  }

  abstract onMessage(msg: ToVideoWorker): void;
}

/**
 * The thread entry of a video worker module: when this thread was started for `mode`, load the
 * renderer (and avatar pack), make the dialect's worker and connect it to the main thread.
 */
export async function runVideoWorker<D extends VideoWorkerData, W extends VideoWorkerBase<D>>(
  mode: D['mode'],
  create: (data: D, port: MessagePort, renderer: AvatarRenderer) => W,
): Promise<W | null> {
  const data = workerData as D | undefined;
  if (isMainThread || !parentPort || data?.mode !== mode) return null;
  const port = parentPort;
  const renderer = new AvatarRenderer(data.width, data.height, data.seed);
  await renderer.usePack(data.pack);
  const worker = create(data, port, renderer);
  port.on('message', (msg: ToVideoWorker) => worker.onMessage(msg));
  return worker;
}
