import { startServer, type ServerProcess } from '../test/helpers/server-process.js';
import { sampleCpu, type CpuSample } from './proc-cpu.js';
import { SERVER_SETTINGS, serverConfig } from './options.js';
import { busyRatioOf } from './window-breakdown.js';

/**
 * Passed to the server as they are, on top of SERVER_SETTINGS: server options the bench does not
 * read itself. INFERENCE_SCHEDULER: `deadline` (the default) or `fifo` (the scheduler ablation).
 */
export const SERVER_PASS_THROUGH = [...SERVER_SETTINGS, 'INFERENCE_SCHEDULER'];

/** The inference scheduler a server started with this environment runs. */
export function serverScheduler(env: NodeJS.ProcessEnv = process.env): string {
  return env.INFERENCE_SCHEDULER?.trim() || 'deadline';
}

/** The parts of `GET /stats` (src/server/server.ts) the bench reads. */
export interface ServerStats {
  sessions: number;
  speakingSessions: number;
  framesSent: number;
  pacing: null | {
    latenessP50Ms: number;
    latenessP99Ms: number;
    latenessMaxMs: number;
    framesLastSecond: number;
    underruns: number;
    queuedFrames: number;
  };
  inference: { workers: number; windows: number; failures: number; neutralWindows: number; rtfP50: number; rtfP95: number; windowMsP50: number; windowMsP95: number; queue: number; utilization: number; deadlineFills?: number; tasks?: number; batches?: number; batchYields?: number };
  eventLoop: { delayP50Ms: number; delayP99Ms: number; delayMaxMs: number };
  memory: { rssBytes: number };
  /** REALTIME_PRIORITY's outcome (absent from servers older than it). */
  realtime?: { status: 'on' | 'off' | 'failed'; priority: number; reason?: string };
}

/**
 * Admission limits lifted for a load test: every bench session comes from one client without an
 * Origin on one address, which the per-origin and per-address connection limiters (100 burst,
 * 10/s each) would refuse beyond 100, and
 * the session cap (MAX_SESSIONS, 500) would hide the real capacity. No shutdown grace: a step's
 * sessions are done when the server is stopped.
 */
export const LOAD_TEST_LIMITS: Record<string, string> = {
  RATE_LIMIT_CONNECTIONS_BURST: '1000000',
  RATE_LIMIT_CONNECTIONS_PER_S: '1000000',
  RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '1000000',
  RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '1000000',
  MAX_SESSIONS: '1000000',
  SHUTDOWN_GRACE_MS: '0',
  IDLE_TIMEOUT_S: '120',
};

export function serverWorkers(env = process.env): number {
  return serverConfig(env).inferenceWorkers;
}

export function leadFrames(env = process.env): number {
  return serverConfig(env).pacingLeadFrames;
}

/**
 * The real server (dist/src/index.js) in its own process with the remote agent pointed at the
 * load generator. A fresh one per load step: /stats histograms (event-loop delay, pacing
 * lateness) are cumulative since start, so a fresh process makes them per-step.
 */
export class ServerUnderTest {
  private readonly samples: Array<{ atMs: number; stats: ServerStats }> = [];
  private readonly busySamples: Array<{ atMs: number; busyRatio: number }> = [];
  private polls = 0;
  private poller: NodeJS.Timeout | null = null;

  private constructor(private readonly proc: ServerProcess) {}

  static async start(agentUrl: string, env = process.env): Promise<ServerUnderTest> {
    const pass: Record<string, string> = {};
    for (const k of SERVER_PASS_THROUGH) if (env[k]) pass[k] = env[k]!;
    const proc = await startServer({ ...pass, ...LOAD_TEST_LIMITS, AGENT_TYPE: 'remote', AGENT_URL: agentUrl, INFERENCE_WORKERS: String(serverWorkers(env)), LOG_LEVEL: 'info' });
    if (!proc.logs.some((l) => l.msg === 'uWebSockets.js: native binary loaded')) {
      await proc.stop();
      throw new Error('the server did not load the native uWebSockets.js binary: numbers would be meaningless');
    }
    return new ServerUnderTest(proc);
  }

  get pid(): number {
    return this.proc.proc.pid!;
  }

  get wsUrl(): string {
    return this.proc.url('/ws');
  }

  async stats(): Promise<ServerStats> {
    const res = await fetch(`http://127.0.0.1:${this.proc.port}/stats`);
    if (!res.ok) throw new Error(`/stats answered ${res.status}`);
    return (await res.json()) as ServerStats;
  }

  /** `GET /metrics` as text (Prometheus 0.0.4). */
  async metricsText(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.proc.port}/metrics`);
    if (!res.ok) throw new Error(`/metrics answered ${res.status}`);
    return res.text();
  }

  /** Distinct error-level log lines of the server so far (message and error), a few at most. */
  errorLogs(limit = 5): string[] {
    const seen = new Set<string>();
    for (const l of this.proc.logs) {
      if (typeof l.level !== 'number' || l.level < 50) continue;
      const err = l.err as { message?: string } | undefined;
      seen.add(`${String(l.msg)}${err?.message ? `: ${err.message}` : ''}`);
      if (seen.size >= limit) break;
    }
    return [...seen];
  }

  cpu(): CpuSample {
    return sampleCpu(this.pid);
  }

  /**
   * Poll /stats every `everyMs` (peak RSS, queue growth) until stop(), and every other poll the
   * pool busy ratio from /metrics (a gauge over the last 5 s, which /stats does not carry).
   */
  startPolling(everyMs = 500): void {
    this.poller = setInterval(() => {
      this.stats().then((stats) => this.samples.push({ atMs: performance.now(), stats }), () => undefined);
      if (this.polls++ % 2 === 1) {
        this.metricsText().then((text) => {
          const busyRatio = busyRatioOf(text);
          if (busyRatio !== null) this.busySamples.push({ atMs: performance.now(), busyRatio });
        }, () => undefined);
      }
    }, everyMs);
  }

  /** Pool busy ratios polled between two performance.now() times. */
  busyRatiosBetween(fromMs: number, toMs: number): number[] {
    return this.busySamples.filter((s) => s.atMs >= fromMs && s.atMs <= toMs).map((s) => s.busyRatio);
  }

  polled(): Array<{ atMs: number; stats: ServerStats }> {
    return this.samples;
  }

  async stop(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    const code = await this.proc.stop();
    if (code !== 0 && code !== null) throw new Error(`server exited with ${code}:\n${this.proc.output().slice(-2000)}`);
  }
}
