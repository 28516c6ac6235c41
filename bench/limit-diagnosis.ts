import { FRAME_DURATION_MS } from '../src/audio/constants.js';
import type { StepMeasurement } from './load-driver.js';

/**
 * What limited capacity at a failing level, named from numbers the bench already has (client and
 * server side of the step, /proc CPU of the server and the generator) plus the scraped inference
 * metrics. A pure function of those numbers; the rules are checked in order and the first that
 * holds names the limit, with the evidence in words. A metric the server does not expose is null
 * and its rule is skipped.
 */
export type LimitKind =
  | 'broken'
  | 'inference failures'
  | 'load generator CPU'
  | 'inference CPU'
  | 'main thread CPU'
  | 'machine CPU'
  | 'inference queueing'
  | 'inference latency'
  | 'pacer'
  | 'send path'
  | 'unknown';

export interface LimitEvidence {
  broken: boolean;
  reasons: string[];
  inferenceFailures: number;
  generatorSaturated: boolean;
  generatorLoopDelayP99Ms: number;
  /** Load generator CPU over the step, in cores. */
  generatorCores: number;
  cores: number;
  /** Server process (all threads) and its main thread, in cores over the measured turns. */
  serverProcessCores: number;
  /** The whole machine (every process, the CI's included), in cores; NaN if unknown. */
  hostCores: number;
  mainThreadCores: number;
  eventLoopDelayP99Ms: number;
  /** Server pacing lateness p99 (frame in the main thread's hand − deadline). */
  pacingLatenessP99Ms: number;
  underruns: number;
  clientLatenessP99Ms: number;
  poolBusyRatio: number | null;
  queueWaitP99Ms: number | null;
  workerRunP99Ms: number | null;
  workerCpuOverWall: number | null;
  lateWindows: number | null;
  windows: number | null;
  /** The window index (within its turn) with the most late windows, if any were late. */
  latestIndex: string | null;
}

export interface LimitDiagnosis {
  limit: LimitKind;
  /** One line: the limit and the numbers that show it. */
  detail: string;
}

/** Pool busy ratio from which the pool is the bottleneck. */
export const BUSY_LIMIT = 0.9;
/** Worker CPU / wall below which worker threads are starved of a core. */
export const STARVED_CPU_OVER_WALL = 0.8;
/** Main thread share of a core from which it is saturated. */
export const MAIN_THREAD_LIMIT = 0.85;
/** Share of the machine's cores (server + generator) from which the machine is saturated. */
export const MACHINE_LIMIT = 0.9;
/** Event-loop delay p99 from which the main thread holds up sends. */
export const LOOP_DELAY_LIMIT_MS = 20;
/** Queue wait p99 counts as queueing when at least this and at least the worker run p99. */
export const QUEUE_WAIT_FLOOR_MS = 10;

const f = (v: number, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
const pct = (v: number) => `${f(v * 100, 0)}%`;

export function diagnoseLimit(e: LimitEvidence): LimitDiagnosis {
  const busy = e.poolBusyRatio;
  const busyText = busy === null ? 'pool busy ratio n/a' : `pool busy ratio ${f(busy, 2)}`;
  const late = e.lateWindows !== null && e.windows !== null ? `${e.lateWindows} of ${e.windows} windows late${e.latestIndex !== null ? `, most at index ${e.latestIndex}` : ''}` : null;
  if (e.broken) return { limit: 'broken', detail: `broken, not late: ${e.reasons.join('; ')}` };
  if (e.inferenceFailures > 0) return { limit: 'inference failures', detail: `inference failures (${e.inferenceFailures} failed windows)` };
  if (e.generatorSaturated) {
    // A generator that is late while using little CPU on a full machine is starved, not the limit.
    if (e.hostCores >= MACHINE_LIMIT * e.cores && e.generatorCores < 0.5) {
      return { limit: 'machine CPU', detail: `machine CPU (${f(e.hostCores, 2)} of ${e.cores} cores busy, server ${f(e.serverProcessCores, 2)}, others ${f(Math.max(0, e.hostCores - e.serverProcessCores - e.generatorCores), 2)}: the load generator, at ${f(e.generatorCores, 2)} cores, was starved, its event-loop delay p99 ${f(e.generatorLoopDelayP99Ms)} ms)` };
    }
    return { limit: 'load generator CPU', detail: `load generator CPU (its event-loop delay p99 ${f(e.generatorLoopDelayP99Ms)} ms, ${f(e.generatorCores, 2)} cores)` };
  }
  if (busy !== null && busy >= BUSY_LIMIT) {
    if (e.workerCpuOverWall !== null && e.workerCpuOverWall < STARVED_CPU_OVER_WALL) {
      return { limit: 'machine CPU', detail: `machine CPU: the inference pool is busy (${busyText}) but its workers ran on a core only ${pct(e.workerCpuOverWall)} of their wall time (server ${f(e.serverProcessCores, 2)} + load generator ${f(e.generatorCores, 2)} of ${e.cores} cores)` };
    }
    return { limit: 'inference CPU', detail: `inference CPU (${busyText} ≥ ${BUSY_LIMIT}${e.workerCpuOverWall !== null ? `, worker CPU/wall ${f(e.workerCpuOverWall, 2)}` : ''}${late ? `; ${late}` : ''})` };
  }
  if (e.mainThreadCores >= MAIN_THREAD_LIMIT) {
    return { limit: 'main thread CPU', detail: `main thread CPU (${pct(e.mainThreadCores)} of a core, event-loop delay p99 ${f(e.eventLoopDelayP99Ms)} ms)` };
  }
  if (e.serverProcessCores + e.generatorCores >= MACHINE_LIMIT * e.cores) {
    return { limit: 'machine CPU', detail: `machine CPU (server ${f(e.serverProcessCores, 2)} + load generator ${f(e.generatorCores, 2)} of ${e.cores} cores; ${busyText})` };
  }
  if (e.hostCores >= MACHINE_LIMIT * e.cores) {
    const others = e.hostCores - e.serverProcessCores - e.generatorCores;
    return { limit: 'machine CPU', detail: `machine CPU shared with other processes (${f(e.hostCores, 2)} of ${e.cores} cores busy: server ${f(e.serverProcessCores, 2)}, load generator ${f(e.generatorCores, 2)}, others ${f(Math.max(0, others), 2)})` };
  }
  if (e.eventLoopDelayP99Ms >= LOOP_DELAY_LIMIT_MS) {
    return { limit: 'main thread CPU', detail: `main thread (event-loop delay p99 ${f(e.eventLoopDelayP99Ms)} ms ≥ ${LOOP_DELAY_LIMIT_MS} ms at ${pct(e.mainThreadCores)} of a core)` };
  }
  const lateSome = (e.lateWindows ?? 0) > 0 || e.underruns > 0;
  if (lateSome && e.queueWaitP99Ms !== null && e.queueWaitP99Ms >= QUEUE_WAIT_FLOOR_MS && e.queueWaitP99Ms >= (e.workerRunP99Ms ?? 0)) {
    return { limit: 'inference queueing', detail: `inference queueing (queue wait p99 ${f(e.queueWaitP99Ms)} ms while ${busyText}${e.workerRunP99Ms !== null ? `, window run p99 ${f(e.workerRunP99Ms)} ms` : ''}${late ? `; ${late}` : ''})` };
  }
  if ((e.lateWindows ?? 0) > 0 || (e.lateWindows === null && e.underruns > 0)) {
    return { limit: 'inference latency', detail: `inference latency (${late ?? `${e.underruns} frames reached the pacer late, late windows n/a`}; window run p99 ${e.workerRunP99Ms !== null ? f(e.workerRunP99Ms) : 'n/a'} ms, queue wait p99 ${e.queueWaitP99Ms !== null ? f(e.queueWaitP99Ms) : 'n/a'} ms, ${busyText})` };
  }
  if ((e.underruns === 0 || e.lateWindows === 0) && e.pacingLatenessP99Ms > FRAME_DURATION_MS) {
    return { limit: 'pacer', detail: `pacer (server pacing lateness p99 ${f(e.pacingLatenessP99Ms)} ms with no frame reaching it late${e.lateWindows === 0 ? ' and no late window' : ''})` };
  }
  if (e.clientLatenessP99Ms > FRAME_DURATION_MS && e.pacingLatenessP99Ms <= FRAME_DURATION_MS) {
    return { limit: 'send path', detail: `send path after the pacer (client lateness p99 ${f(e.clientLatenessP99Ms)} ms while server pacing lateness p99 ${f(e.pacingLatenessP99Ms)} ms; main thread ${pct(e.mainThreadCores)} of a core)` };
  }
  return { limit: 'unknown', detail: `not identified (${e.reasons.join('; ') || 'no reason recorded'}; ${busyText}, main thread ${pct(e.mainThreadCores)} of a core)` };
}

/** The evidence of one measured step (its scraped window breakdown may be missing). */
export function evidenceOf(m: StepMeasurement, cores: number): LimitEvidence {
  const w = m.windows ?? null;
  const gen = m.client.generator;
  let latestIndex: string | null = null;
  let most = 0;
  for (const r of w?.byIndex ?? []) {
    if ((r.late ?? 0) > most) {
      most = r.late!;
      latestIndex = r.window;
    }
  }
  return {
    broken: m.broken, reasons: m.reasons, inferenceFailures: m.server.inferenceFailures,
    generatorSaturated: m.generatorSaturated, generatorLoopDelayP99Ms: gen.eventLoopDelayP99Ms, generatorCores: gen.wallMs > 0 ? gen.cpuMs / gen.wallMs : 0,
    cores, serverProcessCores: m.server.processCores, hostCores: m.hostCores ?? Number.NaN, mainThreadCores: m.server.mainThreadCores, eventLoopDelayP99Ms: m.server.eventLoopDelayP99Ms,
    pacingLatenessP99Ms: m.server.pacingLatenessP99Ms, underruns: m.server.underruns, clientLatenessP99Ms: m.client.latenessMs.p99,
    poolBusyRatio: w?.poolBusyRatioMax ?? null, queueWaitP99Ms: w?.queueWait?.p99Ms ?? null, workerRunP99Ms: w?.workerRun?.p99Ms ?? null,
    workerCpuOverWall: w?.workerCpuOverWall ?? null, lateWindows: w?.lateWindows ?? null, windows: w?.windows ?? null, latestIndex,
  };
}
