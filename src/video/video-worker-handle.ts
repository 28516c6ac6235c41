import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { PcmRing } from '../audio/pcm-ring.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import type { InferencePool } from '../inference/pool.js';
import type { FromVideoWorker, ToVideoWorker, VideoWorkerData } from './worker-protocol.js';

/**
 * Main-thread handle on one video session's worker (workers/frame-stream-worker.ts or
 * workers/musetalk-worker.ts, by mode). Runs the worker's inference windows through the shared
 * ONNX pool (`output: 'weights'`) and passes every other worker message on. Tracks the worker's
 * ffmpeg pid in a process-wide registry so no encoder outlives its session or the server,
 * whatever the exit path.
 */
const livePids = new Set<number>();
let exitHookInstalled = false;

/** SIGKILL every encoder still registered (server shutdown, process exit). */
export function killAllEncoders(): void {
  for (const pid of livePids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  livePids.clear();
}

type Distribute<T> = T extends VideoWorkerData ? Omit<T, 'ring'> : never;

export type VideoWorkerOptions = {
  /** What the worker gets (its PcmRing is made here). */
  data: Distribute<VideoWorkerData>;
  pool: InferencePool;
  logger: Logger;
  onMessage(msg: FromVideoWorker): void;
};

export class VideoWorkerHandle {
  private readonly worker: Worker;
  private readonly ring = PcmRing.create(OUTPUT_SAMPLE_RATE * 10);
  private ffmpegPid: number | null = null;
  private stopped: Promise<void> | null = null;
  private exited = false;
  private readonly exitPromise: Promise<void>;

  constructor(private readonly o: VideoWorkerOptions) {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', killAllEncoders);
    }
    const data = { ...o.data, ring: this.ring.sab } as VideoWorkerData;
    this.worker = new Worker(new URL(`../../workers/${data.mode}-worker.js`, import.meta.url), { workerData: data });
    this.exitPromise = new Promise((resolve) => this.worker.once('exit', () => {
      this.exited = true;
      this.forgetPid();
      resolve();
    }));
    this.worker.on('message', (msg: FromVideoWorker) => this.onMessage(msg));
    this.worker.on('error', (err) => {
      o.logger.error({ err, sessionId: o.data.sessionId }, 'video worker failed');
      o.onMessage({ type: 'error', code: 'INTERNAL_ERROR', message: 'the video renderer failed', fatal: true });
    });
  }

  private onMessage(msg: FromVideoWorker): void {
    if (msg.type === 'ready' && msg.ffmpegPid) {
      this.ffmpegPid = msg.ffmpegPid;
      livePids.add(msg.ffmpegPid);
    }
    if (msg.type === 'window') {
      this.runWindow(msg.req);
      return;
    }
    this.o.onMessage(msg);
  }

  private runWindow(req: Extract<FromVideoWorker, { type: 'window' }>['req']): void {
    this.o.pool
      .runWindow({
        kind: 'window', ring: this.ring.sab, sessionId: this.o.data.sessionId, turnId: 'video', output: 'weights',
        contextStart: req.contextStart, start: req.start, end: req.end, ...(req.readEnd !== undefined ? { readEnd: req.readEnd } : {}),
        firstFrameIndex: req.firstFrameIndex, final: req.final, releaseTo: req.releaseTo,
      })
      .then(
        (result) => this.post({ type: 'weights', id: req.id, weights: result.weights ?? null, frameCount: result.frameCount }),
        (err: unknown) => {
          this.o.logger.error({ err, sessionId: this.o.data.sessionId }, 'video inference window failed; neutral frames');
          this.post({ type: 'weights', id: req.id, weights: null, frameCount: Math.ceil((req.end - req.start) / SAMPLES_PER_FRAME) });
        },
      );
  }

  post(msg: ToVideoWorker, transfer: ArrayBuffer[] = []): void {
    if (!this.exited && !this.stopped) this.worker.postMessage(msg, transfer);
  }

  private forgetPid(): void {
    if (this.ffmpegPid === null) return;
    // The worker closes its encoder on stop; if it died first, make sure the process goes too.
    try {
      process.kill(this.ffmpegPid, 0);
      process.kill(this.ffmpegPid, 'SIGKILL');
    } catch {
      // gone
    }
    livePids.delete(this.ffmpegPid);
    this.ffmpegPid = null;
  }

  /** Stop: the worker closes its encoder; after `graceMs` the thread is terminated regardless. */
  stop(graceMs = 1500): Promise<void> {
    if (this.stopped) return this.stopped;
    if (!this.exited) this.worker.postMessage({ type: 'stop' } satisfies ToVideoWorker);
    this.stopped = (async () => {
      const timer = setTimeout(() => void this.worker.terminate(), graceMs);
      await this.exitPromise;
      clearTimeout(timer);
    })();
    return this.stopped;
  }
}
