import { createRequire } from 'node:module';
import type { Piscina } from 'piscina';
import { createWorkerPool } from '../../inference/worker-pool.js';
import type { Logger } from 'pino';
import {
  VAD_CONTEXT_SAMPLES, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, VAD_STATE_SIZE,
  type VadResult, type VadTask, type VadWorkerData,
} from './vad-protocol.js';

/** The Silero VAD v5 model shipped inside the npm package @ricky0123/vad-web (ISC; model MIT, Silero Team). */
export function defaultVadModelPath(): string {
  return createRequire(import.meta.url).resolve('@ricky0123/vad-web/dist/silero_vad_v5.onnx');
}

export interface SileroVadOptions {
  modelPath?: string;
  /** Worker threads; one frame costs ~0.1 ms, so one thread serves hundreds of microphones. */
  threads?: number;
  /** Tasks waiting for a thread before a task rejects. */
  maxQueue?: number;
  logger?: Logger;
}

const DEFAULT_MAX_QUEUE = 1024;

/**
 * Silero VAD v5 for every session of the server: one Piscina pool of `workers/vad.ts` threads.
 * Sessions talk to it through their own `VadStream`, which keeps their recurrent state.
 */
export class SileroVad {
  readonly modelPath: string;
  private readonly pool: Piscina;
  private warming: Promise<void> | null = null;
  private closed = false;

  constructor(opts: SileroVadOptions = {}) {
    this.modelPath = opts.modelPath ?? defaultVadModelPath();
    const threads = opts.threads ?? 1;
    const workerData: VadWorkerData = { modelPath: this.modelPath };
    this.pool = createWorkerPool({ worker: 'vad', threads, maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE, workerData, logger: opts.logger, errorMessage: 'VAD pool error' });
  }

  async run(task: VadTask): Promise<VadResult> {
    if (this.closed) throw new Error('the VAD pool is closed');
    return (await this.pool.run(task, { transferList: [task.pcm, task.state, task.context] })) as VadResult;
  }

  /** Loads the model in the threads (one frame of silence), once for all callers. */
  warm(): Promise<void> {
    if (!this.warming) {
      this.warming = this.run({
        pcm: new ArrayBuffer(VAD_FRAME_SAMPLES * 2),
        state: new ArrayBuffer(VAD_STATE_SIZE * 4),
        context: new ArrayBuffer(VAD_CONTEXT_SAMPLES * 4),
      }).then(
        () => undefined,
        (err: unknown) => {
          this.warming = null;
          throw new Error(`Silero VAD failed to start (${this.modelPath}): ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }
    return this.warming;
  }

  /** A per-session stream with its own recurrent state. */
  stream(opts: VadStreamOptions): VadStream {
    return new VadStream(this, opts);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}

export interface VadStreamOptions {
  /** Probabilities of consecutive frames; `firstFrame` is the stream's frame index of the first one. */
  onProbabilities(probabilities: Float32Array, firstFrame: number): void;
  /** A task failed; its frames were reported as silence and the state was reset. */
  onError(err: Error): void;
  /** Most audio waiting for the VAD, samples; more is refused (a client sending far faster than real time). */
  maxBacklogSamples?: number;
  /** Most frames per worker task. */
  maxFramesPerTask?: number;
}

const DEFAULT_MAX_BACKLOG_SAMPLES = VAD_SAMPLE_RATE * 30;
const DEFAULT_MAX_FRAMES_PER_TASK = 64;

/**
 * One microphone's path through the VAD: PCM16 at 16 kHz in, probabilities per 32 ms frame out,
 * in order. One task in flight at a time (each frame needs the state the previous one left);
 * audio that arrives meanwhile is sent with the next task, so a slow pool means larger tasks,
 * not more of them.
 */
export class VadStream {
  private state = new Float32Array(VAD_STATE_SIZE);
  private context = new Float32Array(VAD_CONTEXT_SAMPLES);
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private inflight = false;
  private nextFrame = 0;
  private closed = false;
  private drainWaiters: Array<() => void> = [];
  private readonly maxBacklogSamples: number;
  private readonly maxFramesPerTask: number;

  constructor(private readonly vad: SileroVad, private readonly o: VadStreamOptions) {
    this.maxBacklogSamples = o.maxBacklogSamples ?? DEFAULT_MAX_BACKLOG_SAMPLES;
    this.maxFramesPerTask = o.maxFramesPerTask ?? DEFAULT_MAX_FRAMES_PER_TASK;
  }

  /** Frames handed to `onProbabilities` so far. */
  get framesDone(): number {
    return this.nextFrame;
  }

  /** Appends PCM16 LE; false (and nothing kept) when the backlog is full. */
  push(pcm: Buffer): boolean {
    if (this.closed) return false;
    const samples = Math.floor(pcm.length / 2);
    if (samples === 0) return true;
    if (this.pendingSamples + samples > this.maxBacklogSamples) return false;
    // A copy: the buffer may be unaligned for an Int16Array view, and the caller may reuse it.
    const copy = new Int16Array(samples);
    Buffer.from(copy.buffer).set(pcm.subarray(0, samples * 2));
    this.pending.push(copy);
    this.pendingSamples += samples;
    this.pump();
    return true;
  }

  /** Resolves once every whole frame pushed so far has been reported (a partial frame waits for more audio). */
  drained(): Promise<void> {
    if (!this.inflight && this.pendingSamples < VAD_FRAME_SAMPLES) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    this.pending = [];
    this.pendingSamples = 0;
    this.wakeDrainWaiters();
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private take(samples: number): Int16Array {
    const out = new Int16Array(samples);
    let filled = 0;
    while (filled < samples) {
      const head = this.pending[0]!;
      const n = Math.min(head.length, samples - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    this.pendingSamples -= samples;
    return out;
  }

  private pump(): void {
    if (this.inflight || this.closed) return;
    const frames = Math.min(Math.floor(this.pendingSamples / VAD_FRAME_SAMPLES), this.maxFramesPerTask);
    if (frames === 0) {
      this.wakeDrainWaiters();
      return;
    }
    const pcm = this.take(frames * VAD_FRAME_SAMPLES);
    const firstFrame = this.nextFrame;
    this.nextFrame += frames;
    this.inflight = true;
    // The state moves to the worker and comes back with the result.
    const task: VadTask = { pcm: pcm.buffer as ArrayBuffer, state: this.state.buffer as ArrayBuffer, context: this.context.buffer as ArrayBuffer };
    this.vad.run(task).then(
      (result) => {
        this.inflight = false;
        if (this.closed) return;
        this.state = new Float32Array(result.state);
        this.context = new Float32Array(result.context);
        this.o.onProbabilities(new Float32Array(result.probabilities), firstFrame);
        this.pump();
      },
      (err: unknown) => {
        this.inflight = false;
        if (this.closed) return;
        this.state = new Float32Array(VAD_STATE_SIZE);
        this.context = new Float32Array(VAD_CONTEXT_SAMPLES);
        this.o.onError(err instanceof Error ? err : new Error(String(err)));
        this.o.onProbabilities(new Float32Array(frames), firstFrame);
        this.pump();
      },
    );
  }
}
