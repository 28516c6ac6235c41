/**
 * A Session with everything real except the inference pool, for the turn scheduler's unit tests:
 * the real pacing worker (a thread, no model), a scripted in-process agent, and a pool that
 * serves each window the way the fill worker does (exact audio from the ring, neutral weights,
 * the ring released) when the test lets it. The end-to-end tests (test/) use the real pool.
 */
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import pino from 'pino';
import { Session } from '../session.js';
import type { SchedulerTimers, WindowRunner } from '../turn-scheduler.js';
import type { Agent, AgentEvents } from '../../agents/agent.js';
import { ServerMetrics } from '../../metrics/server-metrics.js';
import { Pacer } from '../../pacing/pacer.js';
import { PcmRing } from '../../audio/pcm-ring.js';
import { SyncFrameEncoder } from '../../inference/frame-encoder.js';
import { WindowIo } from '../../inference/window-io.js';
import type { WindowResult, WindowTask } from '../../inference/tasks.js';
import type { WindowDeadline } from '../../inference/window-deadline.js';
import { ARKIT_COUNT } from '../../protocol/arkit.js';

export type Msg = Record<string, unknown> & { type: string };

/** An agent the test scripts by emitting its events; records what the session asked of it. */
export class ScriptedAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly inputSampleRate = 24_000;
  readonly outputSampleRate = 24_000;
  readonly cancels: number[] = [];
  async connect(): Promise<void> {}
  sendText(): void {}
  appendAudio(): void {}
  commitAudio(): void {}
  cancelResponse(offsetMs: number): void {
    this.cancels.push(offsetMs);
  }
  async disconnect(): Promise<void> {}
}

/** Serves windows like the fill worker; with `hold`, each waits until the test releases it. */
export class StepPool implements WindowRunner {
  readonly tasks: WindowTask[] = [];
  /** Each task's deadline, as the scheduler passed it (index = task index). */
  readonly deadlines: Array<WindowDeadline | undefined> = [];
  hold = false;
  /** Called as each window is dispatched (before it is served). */
  onTask: ((task: WindowTask) => void) | null = null;
  private readonly held: Array<() => void> = [];
  private readonly io = new WindowIo(new SyncFrameEncoder());

  runWindow(task: WindowTask, deadline?: WindowDeadline): Promise<WindowResult> {
    this.tasks.push(task);
    this.deadlines.push(deadline);
    this.onTask?.(task);
    return new Promise((resolve) => {
      // The ring is read when the window is served, as a worker would: audio overwritten meanwhile shows.
      const serve = (): void => resolve(this.serve(task));
      if (this.hold) this.held.push(serve);
      else setImmediate(serve);
    });
  }

  get heldCount(): number {
    return this.held.length;
  }

  /** Serve the oldest held window. */
  releaseOne(): void {
    this.held.shift()?.();
  }

  /** Serve the newest held window (results coming back out of order). */
  releaseNewest(): void {
    this.held.pop()?.();
  }

  /** The session's ring, as the workers see it. */
  ring(): PcmRing {
    return new PcmRing(this.tasks[0]!.ring);
  }

  private serve(task: WindowTask): WindowResult {
    const { pcm, frameCount } = this.io.readPcm(task);
    return this.io.finish(task, new Float32Array(frameCount * ARKIT_COUNT), pcm, frameCount, 0, performance.now(), 0);
  }
}

export interface HarnessOptions {
  ringSamples?: number;
  firstWindowSamples?: number;
  windowSamples?: number;
  contextSamples?: number;
  rightContextSamples?: number;
  maxInflight?: number;
  lookaheadFrames?: number;
  timers?: SchedulerTimers;
}

export interface Harness {
  session: Session;
  agent: ScriptedAgent;
  pool: StepPool;
  pacer: Pacer;
  /** The session's key in the pacer (its turns are numbered 1, 2, … there). */
  key: number;
  /** Every text message and frame the client got, in order. */
  sent: Msg[];
  /** performance.now() when the client got each of `sent`. */
  sentAt: number[];
  /** The session's log lines. */
  logs: Array<Record<string, unknown>>;
  /** Resolves the index of the first message at ≥ from that matches (checked on every message). */
  waitFor(pred: (m: Msg) => boolean, from?: number, timeoutMs?: number): Promise<number>;
  /** Text messages of the client as JSON bytes. */
  clientMessage(msg: unknown): ArrayBuffer;
  close(): Promise<void>;
}

/** One pacing worker per test file, as one per server: frames go to the session of their key. */
let shared: Promise<{ pacer: Pacer; sessions: Map<number, Session> }> | null = null;
let nextKey = 1;

/**
 * The file's pacing worker, once it is up (its first stats report): on a busy host a new thread
 * can take seconds to load, and the tests time turns, not thread start-up.
 */
function pacing(): Promise<{ pacer: Pacer; sessions: Map<number, Session> }> {
  shared ??= (async () => {
    const sessions = new Map<number, Session>();
    const pacer = new Pacer(2, 0, {
      onFrame: (key, turn, _frameIndex, bytes) => sessions.get(key)?.deliverFrame(turn, bytes),
      onTurnDone: (key, turn) => sessions.get(key)?.onTurnDone(turn),
    }, pino({ level: 'error' }));
    await until(() => pacer.stats !== null);
    return { pacer, sessions };
  })();
  return shared;
}

/** Stop the file's pacing worker (at the end of the test file). */
export async function stopPacing(): Promise<void> {
  const p = shared;
  shared = null;
  if (p) await (await p).pacer.stop();
}

/** A Session on the file's pacing worker, with a stepped pool and a scripted agent. */
export async function startSession(opts: HarnessOptions = {}): Promise<Harness> {
  const sent: Msg[] = [];
  const sentAt: number[] = [];
  const logs: Array<Record<string, unknown>> = [];
  let wake: Array<() => void> = [];
  const push = (m: Msg): void => {
    sent.push(m);
    sentAt.push(performance.now());
    const w = wake;
    wake = [];
    for (const f of w) f();
  };
  const logger = pino({ level: 'debug' }, new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  }));
  const agent = new ScriptedAgent();
  const pool = new StepPool();
  const { pacer, sessions } = await pacing();
  const key = nextKey++;
  const session = new Session({
    key, agent, pool, pacer, logger, metrics: new ServerMetrics(), timers: opts.timers,
    transport: {
      sendText: (json) => push(JSON.parse(json) as Msg),
      sendFrame: (bytes) => push(JSON.parse(Buffer.from(bytes).toString('utf8')) as Msg),
      close: () => undefined,
    },
    ringSamples: opts.ringSamples,
    maxInflight: opts.maxInflight,
    lookaheadFrames: opts.lookaheadFrames,
    firstWindowSamples: opts.firstWindowSamples ?? 4800,
    windowSamples: opts.windowSamples ?? 12_000,
    contextSamples: opts.contextSamples ?? 12_000,
    rightContextSamples: opts.rightContextSamples,
    maxMessageBytes: 1 << 20,
  });
  sessions.set(key, session);
  return {
    session, agent, pool, pacer, key, sent, sentAt, logs,
    async waitFor(pred, from = 0, timeoutMs = 10_000) {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const i = sent.findIndex((m, idx) => idx >= from && pred(m));
        if (i >= 0) return i;
        const left = deadline - performance.now();
        if (left <= 0) throw new Error(`timed out; the client got: ${sent.map((m) => m.type).join(',')}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          wake.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    clientMessage: (msg) => new TextEncoder().encode(JSON.stringify(msg)).buffer as ArrayBuffer,
    async close() {
      session.close();
      sessions.delete(key);
    },
  };
}

/** Re-check `probe` every 10 ms until it holds (a positive signal with no event to wait on). */
export async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((r) => setTimeout(r, 10));
}

/** Deterministic PCM16 noise (every byte matters when compared). */
export function noisePcm(samples: number, seed = 1): Buffer {
  const buf = Buffer.alloc(samples * 2);
  let x = seed;
  for (let i = 0; i < samples; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    buf.writeInt16LE(((x >> 8) & 0xffff) - 32768, i * 2);
  }
  return buf;
}

/** The frames of one turn in what the client got, and the audio they carry. */
export function turnFrames(sent: readonly Msg[], turnId: string): { frames: Msg[]; audio: Buffer } {
  const frames = sent.filter((m) => m.type === 'sync_frame' && m.turnId === turnId);
  return { frames, audio: Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64'))) };
}
