import type { Config } from '../config/config.js';
import { EnvReader } from '../config/env-reader.js';
import type { InferencePool } from '../inference/pool.js';
import { BusyRatio } from '../metrics/utilisation.js';

/**
 * What the instance owes a load balancer (PROTOCOL §4, ARCHITECTURE "Scale-out"):
 * - liveness (`/health`): the model is loaded and every pool worker answers;
 * - readiness (`/ready`): it takes new sessions — not while it drains (SIGTERM), not at
 *   `MAX_SESSIONS` (all dialects counted), not above `READY_MAX_UTILISATION` of pool busy time.
 * The answers are plain status + JSON, served on the main port (uWS) and on the probe port
 * (node:http, for checks that send HTTP/1.0 or no `Host`, which uWS does not answer).
 */
export interface FleetSettings {
  /** PROBE_PORT: the probe listener's port; null = no probe listener (0 = any free port). */
  probePort: number | null;
  /** PROBE_HOST: its address (default SERVER_HOST). */
  probeHost: string;
  /** READY_MAX_UTILISATION: /ready answers 503 while the pool's busy fraction is at or above this; null = off. */
  readyMaxUtilisation: number | null;
}

export function readFleetSettings(config: Pick<Config, 'env' | 'host'>): FleetSettings {
  const env = new EnvReader(config.env);
  return {
    probePort: env.num('PROBE_PORT', { min: 0, max: 65535, integer: true }) ?? null,
    probeHost: env.str('PROBE_HOST', config.host),
    readyMaxUtilisation: env.num('READY_MAX_UTILISATION', { min: 0.01, max: 1 }) ?? null,
  };
}

export interface ProbeAnswer {
  status: 200 | 503;
  body: Record<string, unknown>;
}

export interface ReadyState {
  ready: boolean;
  status: 'ready' | 'draining' | 'at_capacity' | 'busy';
  sessions: number;
  maxSessions: number;
  /** Inference pool busy fraction over the last 5 s. */
  utilisation: number;
}

export class Readiness {
  private draining = false;
  /** The pool's busy fraction: Σ window task time / (5 s × workers). */
  readonly poolBusy: BusyRatio;
  private readonly maxUtilisation: number | null;

  constructor(private readonly o: { config: Pick<Config, 'env' | 'host' | 'maxSessions'>; pool: InferencePool; openSessions(): number }) {
    this.maxUtilisation = readFleetSettings(o.config).readyMaxUtilisation;
    this.poolBusy = new BusyRatio(() => o.pool.inferMsTotal, () => o.pool.size);
  }

  /** From now on not ready, for good: the instance is going away (SIGTERM/SIGINT). */
  drain(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  state(): ReadyState {
    const sessions = this.o.openSessions();
    const maxSessions = this.o.config.maxSessions;
    const utilisation = this.poolBusy.value;
    const status = this.draining ? 'draining'
      : sessions >= maxSessions ? 'at_capacity'
        : this.maxUtilisation !== null && utilisation >= this.maxUtilisation ? 'busy'
          : 'ready';
    return { ready: status === 'ready', status, sessions, maxSessions, utilisation };
  }

  ready(): ProbeAnswer {
    const s = this.state();
    return { status: s.ready ? 200 : 503, body: { status: s.status, sessions: s.sessions, maxSessions: s.maxSessions, utilisation: +s.utilisation.toFixed(4) } };
  }

  /** Liveness: the model is loaded and every worker answers a ping (a stuck worker does not). */
  async health(): Promise<ProbeAnswer> {
    const pool = this.o.pool;
    const h = await pool.health();
    return h.healthy
      ? { status: 200, body: { status: 'healthy', model: { loaded: true, input: pool.info!.inputName, output: pool.info!.outputName }, workers: h.workers, sessions: this.o.openSessions() } }
      : { status: 503, body: { status: 'unhealthy', details: { modelLoaded: pool.info !== null, workers: h.workers, workersAnswering: h.answered, expectedWorkers: h.expected } } };
  }

  /** The answer for a probe path, or null for any other path. */
  answer(path: string): Promise<ProbeAnswer> | null {
    if (path === '/health') return this.health();
    if (path === '/ready') return Promise.resolve(this.ready());
    return null;
  }

  close(): void {
    this.poolBusy.stop();
  }
}
