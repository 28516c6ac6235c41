import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FRAME_DURATION_MS } from '../src/audio/constants.js';
import type { FromIdleProbe, FromLoadClient, LoadStep, LoadStepResult, ToIdleProbe, ToLoadClient } from './load-protocol.js';
import { LOOP_DELAY_WINDOW_S, type LoopDelaySnapshot } from '../src/metrics/loop-delay.js';
import { ServerUnderTest, leadFrames, type ServerStats } from './server-under-test.js';
import { cpuDelta, hostCores, sampleHostCpu, type CpuSample, type HostCpuSample } from './proc-cpu.js';
import { windowBreakdown, type WindowBreakdown } from './window-breakdown.js';
import { quantile } from './quantiles.js';

/** The load generator process seen from the bench: fork, IPC, one step at a time. */
export class LoadGenerator {
  private pending: { resolve(r: LoadStepResult): void; reject(e: Error): void; onWarm(): void } | null = null;

  private constructor(private readonly child: ChildProcess, readonly agentUrl: string) {
    child.on('message', (raw) => {
      const msg = raw as FromLoadClient;
      const p = this.pending;
      if (!p) return;
      if (msg.op === 'warm') p.onWarm();
      else if (msg.op === 'result') {
        this.pending = null;
        p.resolve(msg.result);
      } else if (msg.op === 'failed') {
        this.pending = null;
        p.reject(new Error(`load generator: ${msg.message}`));
      }
    });
    child.on('exit', (code) => {
      const p = this.pending;
      this.pending = null;
      p?.reject(new Error(`load generator exited with ${code}`));
    });
  }

  static async start(): Promise<LoadGenerator> {
    const { child, first } = await forkUntilFirstMessage<FromLoadClient>('./load-client.js', [], 'load generator');
    if (first.op === 'ready') return new LoadGenerator(child, first.agentUrl);
    child.kill('SIGKILL');
    throw new Error(`load generator said ${first.op} first`);
  }

  get pid(): number {
    return this.child.pid!;
  }

  runStep(step: LoadStep, onWarm: () => void): Promise<LoadStepResult> {
    if (this.pending) throw new Error('one step at a time');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject, onWarm };
      this.child.send({ op: 'step', step } satisfies ToLoadClient);
    });
  }

  stop(): Promise<void> {
    return stopChild(this.child, { op: 'exit' } satisfies ToLoadClient, 5000);
  }
}

/** Fork a bench child (a module beside this one) and wait for its first message. */
function forkUntilFirstMessage<M>(module: string, args: string[], name: string): Promise<{ child: ChildProcess; first: M }> {
  const child = fork(fileURLToPath(new URL(module, import.meta.url)), args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`${name} exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('message', (raw) => {
      child.off('exit', onExit);
      resolve({ child, first: raw as M });
    });
  });
}

/** Ask a bench child to exit with `exitMessage`; kill it if it has not after `graceMs`. */
function stopChild(child: ChildProcess, exitMessage: object, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || !child.connected) return resolve();
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.send(exitMessage);
  });
}

/**
 * The idle probe seen from the bench (bench/idle-probe.ts): a process beside the server that only
 * measures its own event-loop delay, in the server's windows, so the server's figure can be set
 * against what the machine does to any event loop at the same moment.
 */
export class IdleProbe {
  private waiting: Array<(w: LoopDelaySnapshot | null) => void> = [];

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (raw) => {
      const msg = raw as FromIdleProbe;
      if (msg.op === 'window') this.waiting.shift()?.(msg.window);
    });
    child.on('exit', () => {
      for (const w of this.waiting.splice(0)) w(null);
    });
  }

  /** `windowMs`: the probe's window (the server's unless a test wants it shorter). */
  static async start(windowMs = LOOP_DELAY_WINDOW_S * 1000): Promise<IdleProbe> {
    const { child } = await forkUntilFirstMessage<FromIdleProbe>('./idle-probe.js', [String(windowMs)], 'idle probe');
    return new IdleProbe(child);
  }

  /** Its last complete window; null before the first one (or when the probe is gone). */
  read(): Promise<LoopDelaySnapshot | null> {
    if (this.child.exitCode !== null || !this.child.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.send({ op: 'read' } satisfies ToIdleProbe);
    });
  }

  /** Testing aid: the probe busy-waits its own loop for `ms`. */
  block(ms: number): void {
    this.child.send({ op: 'block', ms } satisfies ToIdleProbe);
  }

  stop(): Promise<void> {
    return stopChild(this.child, { op: 'exit' } satisfies ToIdleProbe, 2000);
  }
}

export interface StepOptions {
  turns: number;
  turnAudioS: number;
  staggerMs: number;
  agentSpeed: number;
  interruptAfterMs: number;
}

/** Server-side numbers of one step, post warm-up where the counter allows a delta. */
export interface ServerSide {
  framesSent: number;
  /** Frames sent per second over the measured turns. */
  framesPerS: number;
  underruns: number;
  pacingLatenessP50Ms: number;
  pacingLatenessP99Ms: number;
  pacingLatenessMaxMs: number;
  /** Cumulative since the (fresh) server started: includes the warm-up turn. */
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  inferenceQueueMax: number;
  inferenceWindowMsP95: number;
  inferenceFailures: number;
  mainThreadUsPerFrame: number;
  /** Of which in the kernel (the thread's stime): mostly the socket sends (absent in older reports). */
  mainThreadKernelUsPerFrame?: number;
  /** The main thread's wake-ups per second (voluntary context switches; absent in older reports). */
  mainThreadWakeupsPerS?: number;
  processUsPerFrame: number;
  /**
   * Windows per task handed to a worker over the measured turns (INFERENCE_TASK_WINDOWS batches
   * them when they queue; 1: one each); absent when the server does not count its tasks.
   */
  windowsPerTask?: number;
  /** Windows served with neutral weights over the measured turns (not back before their frames were due). */
  deadlineFills?: number;
  /** REALTIME_PRIORITY's outcome as the server reported it (`on`, `off`, `failed`); absent from older servers. */
  realtime?: string;
  mainThreadCores: number;
  processCores: number;
  rssIdleBytes: number;
  rssPeakBytes: number;
  rssPerSessionBytes: number;
}

/** Windows per task between two /stats readings; undefined when the server does not count tasks or ran none. */
export function perTask(from: ServerStats, to: ServerStats): number | undefined {
  if (to.inference.tasks === undefined || from.inference.tasks === undefined) return undefined;
  const tasks = to.inference.tasks - from.inference.tasks;
  return tasks > 0 ? (to.inference.windows - from.inference.windows) / tasks : undefined;
}

export interface StepMeasurement {
  sessions: number;
  options: StepOptions;
  client: LoadStepResult;
  server: ServerSide;
  pass: boolean;
  /** Functional breakage (lost frames, errors), as opposed to being late. */
  broken: boolean;
  generatorSaturated: boolean;
  reasons: string[];
  /** The server's own error log lines (distinct), to tell why a level broke. */
  serverErrors: string[];
  wallMs: number;
  /**
   * Where a window's time went over the measured turns (scraped /metrics); null when /metrics
   * could not be read. Absent in reports written before it existed.
   */
  windows?: WindowBreakdown | null;
  /** CPU the whole machine used over the measured turns (every process), in cores; NaN if unknown. */
  hostCores?: number;
  /**
   * An idle process's event-loop delay (bench/idle-probe.ts) in its last 5 s window, read together
   * with the server's: the machine's floor under that load. Null when it had no complete window;
   * absent in older reports.
   */
  idleLoopDelay?: LoopDelaySnapshot | null;
}

/** The generator's event loop must stay responsive, or its timestamps measure itself. */
const GENERATOR_DELAY_LIMIT_MS = 20;
/** Issue 20: the agent's first audio → the turn's first frame at the client, p95, at capacity. */
export const FIRST_FRAME_LIMIT_MS = 100;

/**
 * One load level on a fresh server: start it, run the step, judge it, stop it. `env`: the
 * server's settings (default: the bench's environment; the ablations override a few).
 */
export async function measureStep(gen: LoadGenerator, sessions: number, o: StepOptions, env: NodeJS.ProcessEnv = process.env): Promise<StepMeasurement> {
  const t0 = performance.now();
  const server = await ServerUnderTest.start(gen.agentUrl, env);
  const probe = await IdleProbe.start();
  try {
    const idle = await server.stats();
    const idleMetrics = await server.metricsText().catch(() => null);
    server.startPolling(500);
    let warm: { cpu: CpuSample; host: HostCpuSample; stats: Promise<ServerStats>; metrics: Promise<string | null>; atMs: number } | null = null;
    const hostStart = sampleHostCpu();
    const step: LoadStep = {
      serverUrl: server.wsUrl, sessions, turns: o.turns, turnAudioS: o.turnAudioS, agentSpeed: o.agentSpeed,
      interruptAfterMs: o.interruptAfterMs, staggerMs: o.staggerMs, leadFrames: leadFrames(),
      timeoutMs: o.staggerMs + o.turns * (o.turnAudioS * 1000 * (o.agentSpeed > 0 ? 2 : 1.5) + 2000) + 5000,
    };
    const client = await gen.runStep(step, () => {
      warm = { cpu: server.cpu(), host: sampleHostCpu(), stats: server.stats(), metrics: server.metricsText().catch(() => null), atMs: performance.now() };
    });
    const endCpu = server.cpu();
    const hostEnd = sampleHostCpu();
    const [endNow, idleLoopDelay] = await Promise.all([server.stats(), probe.read()]);
    // The pacing worker reports its counters once a second: wait for the report covering the end.
    await new Promise((r) => setTimeout(r, 1050));
    const end: ServerStats = { ...endNow, pacing: (await server.stats()).pacing };
    const endMetrics = await server.metricsText().catch(() => null);
    const w = warm as { cpu: CpuSample; host: HostCpuSample; stats: Promise<ServerStats>; metrics: Promise<string | null>; atMs: number } | null;
    const warmMetrics = w ? await w.metrics : idleMetrics;
    // Busy ratios polled over the measured turns only (the gauge covers the 5 s before each poll).
    const busy = server.busyRatiosBetween(w ? w.atMs : 0, endCpu.atMs);
    const windows = endMetrics === null ? null : windowBreakdown(warmMetrics, endMetrics, busy);
    const warmStats = w ? await w.stats : idle;
    const cpu = cpuDelta(w ? w.cpu : endCpu, endCpu);
    const frames = end.framesSent - warmStats.framesSent;
    const polled = server.polled().map((p) => p.stats).filter((s) => s.framesSent >= warmStats.framesSent);
    const rssPeak = Math.max(end.memory.rssBytes, ...server.polled().map((p) => p.stats.memory.rssBytes));
    const srv: ServerSide = {
      framesSent: frames,
      framesPerS: frames / (cpu.wallMs / 1000),
      underruns: (end.pacing?.underruns ?? 0) - (warmStats.pacing?.underruns ?? 0),
      pacingLatenessP50Ms: end.pacing?.latenessP50Ms ?? Number.NaN,
      pacingLatenessP99Ms: end.pacing?.latenessP99Ms ?? Number.NaN,
      pacingLatenessMaxMs: end.pacing?.latenessMaxMs ?? Number.NaN,
      eventLoopDelayP99Ms: end.eventLoop.delayP99Ms,
      eventLoopDelayMaxMs: end.eventLoop.delayMaxMs,
      inferenceQueueMax: Math.max(0, ...polled.map((s) => s.inference.queue)),
      inferenceWindowMsP95: end.inference.windowMsP95,
      inferenceFailures: end.inference.failures,
      mainThreadUsPerFrame: frames > 0 ? (cpu.mainThreadMs * 1000) / frames : Number.NaN,
      mainThreadKernelUsPerFrame: frames > 0 ? (cpu.mainThreadKernelMs * 1000) / frames : Number.NaN,
      mainThreadWakeupsPerS: cpu.mainThreadWakeupsPerS,
      processUsPerFrame: frames > 0 ? (cpu.processMs * 1000) / frames : Number.NaN,
      windowsPerTask: perTask(warmStats, end),
      deadlineFills: end.inference.deadlineFills === undefined ? undefined : end.inference.deadlineFills - (warmStats.inference.deadlineFills ?? 0),
      realtime: end.realtime?.status,
      mainThreadCores: cpu.mainThreadCores,
      processCores: cpu.processCores,
      rssIdleBytes: idle.memory.rssBytes,
      rssPeakBytes: rssPeak,
      rssPerSessionBytes: (rssPeak - idle.memory.rssBytes) / sessions,
    };
    return { sessions, options: o, client, server: srv, ...judge(sessions, client, srv), serverErrors: server.errorLogs(), wallMs: performance.now() - t0, windows, hostCores: hostCores(w ? w.host : hostStart, hostEnd), idleLoopDelay };
  } finally {
    await Promise.all([server.stop(), probe.stop()]);
  }
}

export function judge(sessions: number, c: LoadStepResult, s: ServerSide): Pick<StepMeasurement, 'pass' | 'broken' | 'generatorSaturated' | 'reasons'> {
  const reasons: string[] = [];
  let broken = false;
  if (c.connected < sessions) {
    reasons.push(`${sessions - c.connected} sessions could not connect`);
    broken = true;
  }
  if (c.turnsBroken > 0 || c.errors.length > 0) {
    reasons.push(`${c.turnsBroken} broken turns, ${c.errors.length} errors (${c.errors[0] ?? ''})`);
    broken = true;
  }
  if (s.inferenceFailures > 0) reasons.push(`${s.inferenceFailures} inference failures`);
  if (s.underruns > 0) reasons.push(`${s.underruns} frames reached the pacer after their deadline`);
  if (c.latenessMs.p99 > FRAME_DURATION_MS) reasons.push(`client lateness p99 ${c.latenessMs.p99.toFixed(1)} ms > one frame`);
  const firstFrameP95 = quantile(c.firstFrameLatencyMs, 0.95);
  if (firstFrameP95 >= FIRST_FRAME_LIMIT_MS) reasons.push(`first frame p95 ${firstFrameP95.toFixed(0)} ms ≥ ${FIRST_FRAME_LIMIT_MS} ms after the agent's first audio`);
  if (c.turnDriftMs.p50 > FRAME_DURATION_MS) reasons.push(`turns last ${c.turnDriftMs.p50.toFixed(0)} ms longer than their audio (queue growing)`);
  const generatorSaturated = c.generator.eventLoopDelayP99Ms > GENERATOR_DELAY_LIMIT_MS;
  if (generatorSaturated) reasons.push(`load generator saturated (its event-loop delay p99 ${c.generator.eventLoopDelayP99Ms.toFixed(1)} ms)`);
  return { pass: reasons.length === 0, broken, generatorSaturated, reasons };
}
