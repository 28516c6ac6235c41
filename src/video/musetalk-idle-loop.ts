import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { IDLE_LOOP_S } from './idle-motion.js';
import { VIDEO_FPS } from './video-clock.js';

/** Seed of the shared idle animation (sessions continue it when their own worker takes over). */
export const IDLE_LOOP_SEED = 1;
/** Frames in the loop (a whole number of 1 s keyframe intervals). */
export const IDLE_LOOP_FRAMES = IDLE_LOOP_S * VIDEO_FPS;

export interface IdleLoopWorkerData {
  ffmpegPath: string;
  width: number;
  height: number;
  seed: number;
}

export type IdleLoopFromWorker =
  | { type: 'frame'; index: number; base64: string; keyframe: boolean }
  | { type: 'done' }
  | { type: 'failed'; message: string };

export interface LoopFrame {
  base64: string;
  keyframe: boolean;
}

/**
 * The idle video every MuseTalk session shows until it needs pictures of its own (issue 13
 * item 4): the contract makes an initialised session stream 25 FPS even when nothing is said,
 * and a thread, a renderer and an ffmpeg per idle session cost ~46 MB and ~18 % of a core each
 * (bench/video-idle-cost.ts). Instead the built-in avatar's periodic idle animation is encoded
 * once per process (workers/musetalk-idle-loop-worker.ts) and each idle session sends its access
 * units in turn from a keyframe on: the same H.264 every session's own encoder would produce.
 */
export class MuseTalkIdleLoop {
  private readonly frames: Array<LoopFrame | undefined> = new Array<LoopFrame | undefined>(IDLE_LOOP_FRAMES);
  private worker: Worker | null = null;
  private state: 'new' | 'encoding' | 'done' | 'failed' = 'new';
  private firstFrameReady: () => void = () => {};
  /** Resolves once the loop's first access unit is there, or the loop failed. */
  readonly firstFrame = new Promise<void>((resolve) => (this.firstFrameReady = resolve));

  constructor(private readonly o: IdleLoopWorkerData & { logger: Logger }) {}

  /** Start encoding the loop, once (the first MuseTalk INIT). */
  ensureStarted(): void {
    if (this.state !== 'new') return;
    this.state = 'encoding';
    const { logger: _logger, ...data } = this.o;
    const started = performance.now();
    const worker = new Worker(new URL('../../workers/musetalk-idle-loop-worker.js', import.meta.url), { workerData: data satisfies IdleLoopWorkerData });
    this.worker = worker;
    worker.on('message', (msg: IdleLoopFromWorker) => {
      if (msg.type === 'frame') {
        this.frames[msg.index] = { base64: msg.base64, keyframe: msg.keyframe };
        if (msg.index === 0) this.firstFrameReady();
      } else if (msg.type === 'done') {
        this.state = 'done';
        const base64Bytes = this.frames.reduce((n, f) => n + (f?.base64.length ?? 0), 0);
        this.o.logger.info({ frames: IDLE_LOOP_FRAMES, base64Bytes, ms: Math.round(performance.now() - started) }, 'musetalk idle loop encoded');
      } else this.fail(msg.message);
    });
    worker.on('error', (err) => this.fail(err.message));
    worker.on('exit', () => {
      this.worker = null;
      if (this.state === 'encoding') this.fail('the idle loop worker exited early');
    });
  }

  private fail(message: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.firstFrameReady();
    this.o.logger.error({ reason: message }, 'musetalk idle loop could not be encoded: idle sessions render their own video');
    void this.worker?.terminate();
  }

  /** Access unit `index` of the loop, or undefined while it is still being encoded (or failed). */
  at(index: number): LoopFrame | undefined {
    return this.frames[index];
  }

  /** True when a missing frame will never come: sessions must render their own. */
  get failed(): boolean {
    return this.state === 'failed';
  }

  /** Where a session starts: a keyframe; once the loop is complete, one of its 1 s marks at random. */
  startPosition(): number {
    return this.state === 'done' ? VIDEO_FPS * Math.floor(Math.random() * IDLE_LOOP_S) : 0;
  }

  stop(): void {
    void this.worker?.terminate();
    this.worker = null;
  }
}
