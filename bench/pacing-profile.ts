import type { BenchPlan } from './options.js';
import { measureStep, type LoadGenerator, type StepMeasurement } from './load-driver.js';
import { medianSummary, spread, summarize, type RunSpread, type Summary } from './quantiles.js';

/**
 * Sections 3–6 at 1, 10, 50 and capacity sessions: pacing (server lateness, client jitter, drift per
 * turn), latency (agent's first audio → first frame; interrupt → last frame), main thread
 * (event-loop delay, CPU per frame) and memory (RSS per session). Each level is measured in
 * several runs on fresh servers; per-frame statistics are medians over runs, per-turn latencies
 * are pooled over runs. The last turn of every session is interrupted mid-way.
 */
export interface ProfileLevel {
  sessions: number;
  runs: number;
  passedRuns: number;
  /** Runs with lost frames or errors: the latency numbers of such a level describe a failure. */
  brokenRuns: number;
  serverLatenessMs: { p50: RunSpread; p99: RunSpread; max: RunSpread };
  underruns: number;
  clientJitterMs: Summary;
  clientLatenessMs: Summary;
  turnDriftMs: Summary;
  frameCountDrift: Summary;
  maxGapMs: RunSpread;
  firstFrameLatencyMs: Summary;
  interruptToLastFrameMs: Summary;
  interruptToAckMs: Summary;
  framesAfterInterruptMax: number;
  eventLoopDelayP99Ms: RunSpread;
  eventLoopDelayMaxMs: RunSpread;
  /** An idle process's event-loop delay p99 at the same time (the machine's floor; absent in older reports). */
  idleLoopDelayP99Ms?: RunSpread;
  mainThreadUsPerFrame: RunSpread;
  /** Of which in the kernel (absent in older reports). */
  mainThreadKernelUsPerFrame?: RunSpread;
  /** The main thread's wake-ups per second (absent in older reports). */
  mainThreadWakeupsPerS?: RunSpread;
  processUsPerFrame: RunSpread;
  mainThreadCores: RunSpread;
  rssPerSessionBytes: RunSpread;
  generatorEventLoopDelayP99Ms: RunSpread;
  reasons: string[];
}

export interface PacingSection {
  levels: ProfileLevel[];
  /** One session whose agent streams at exactly 1× real time instead of a cloud agent's burst. */
  realtimeAgent: ProfileLevel | null;
  /**
   * Capacity sessions whose agents stream at STREAMING_AGENT_SPEED× real time (a chunk every
   * 100 / speed ms) instead of sending each whole answer at once (absent in older reports).
   */
  streamingAgents?: ProfileLevel | null;
  measurements: StepMeasurement[];
}

function aggregate(sessions: number, ms: StepMeasurement[]): ProfileLevel {
  const s = (f: (m: StepMeasurement) => number) => spread(ms.map(f));
  const pooled = (f: (m: StepMeasurement) => number[]) => summarize(ms.flatMap(f));
  return {
    sessions, runs: ms.length, passedRuns: ms.filter((m) => m.pass).length, brokenRuns: ms.filter((m) => m.broken).length,
    serverLatenessMs: { p50: s((m) => m.server.pacingLatenessP50Ms), p99: s((m) => m.server.pacingLatenessP99Ms), max: s((m) => m.server.pacingLatenessMaxMs) },
    underruns: ms.reduce((a, m) => a + m.server.underruns, 0),
    clientJitterMs: medianSummary(ms.map((m) => m.client.jitterMs)),
    clientLatenessMs: medianSummary(ms.map((m) => m.client.latenessMs)),
    turnDriftMs: medianSummary(ms.map((m) => m.client.turnDriftMs)),
    frameCountDrift: medianSummary(ms.map((m) => m.client.frameCountDrift)),
    maxGapMs: s((m) => m.client.maxGapMs),
    firstFrameLatencyMs: pooled((m) => m.client.firstFrameLatencyMs),
    interruptToLastFrameMs: pooled((m) => m.client.interruptToLastFrameMs),
    interruptToAckMs: pooled((m) => m.client.interruptToAckMs),
    framesAfterInterruptMax: Math.max(0, ...ms.flatMap((m) => m.client.framesAfterInterrupt)),
    eventLoopDelayP99Ms: s((m) => m.server.eventLoopDelayP99Ms),
    eventLoopDelayMaxMs: s((m) => m.server.eventLoopDelayMaxMs),
    idleLoopDelayP99Ms: s((m) => m.idleLoopDelay?.p99Ms ?? Number.NaN),
    mainThreadUsPerFrame: s((m) => m.server.mainThreadUsPerFrame),
    mainThreadKernelUsPerFrame: s((m) => m.server.mainThreadKernelUsPerFrame ?? Number.NaN),
    mainThreadWakeupsPerS: s((m) => m.server.mainThreadWakeupsPerS ?? Number.NaN),
    processUsPerFrame: s((m) => m.server.processUsPerFrame),
    mainThreadCores: s((m) => m.server.mainThreadCores),
    rssPerSessionBytes: s((m) => m.server.rssPerSessionBytes),
    generatorEventLoopDelayP99Ms: s((m) => m.client.generator.eventLoopDelayP99Ms),
    reasons: [...new Set(ms.flatMap((m) => m.reasons))],
  };
}

/**
 * The level the budgets name (pacing lateness and event-loop delay p99 < 2 ms "at 50 sessions",
 * issue 20): profiled whatever the capacity.
 */
export const BUDGET_SESSIONS = 50;

/** Agent speed of the streaming-agents row: chunks of 100 ms every 25 ms. */
export const STREAMING_AGENT_SPEED = 4;

/** 1, 10, 50 and capacity; 10 and 50 are kept even above capacity, to show how service degrades there. */
export function profileLevels(capacity: number): number[] {
  return [...new Set([1, 10, BUDGET_SESSIONS, capacity].filter((n) => n >= 1))].sort((a, b) => a - b);
}

export async function benchPacing(plan: BenchPlan['pacing'], gen: LoadGenerator, capacity: number, staggerMs: number, log: (line: string) => void): Promise<PacingSection> {
  const measurements: StepMeasurement[] = [];
  const options = { turns: plan.turnsPerSession, turnAudioS: plan.turnAudioS, staggerMs, agentSpeed: 0, interruptAfterMs: plan.interruptAfterMs };
  const levels: ProfileLevel[] = [];
  for (const n of profileLevels(capacity)) {
    const ms: StepMeasurement[] = [];
    for (let r = 0; r < plan.runs; r++) {
      const m = await measureStep(gen, n, options);
      // One broken session is a broken server or bench; at higher levels it is a finding.
      if (m.broken && n === 1) throw new Error(`1 session: ${m.reasons.join('; ')}`);
      ms.push(m);
    }
    measurements.push(...ms);
    const level = aggregate(n, ms);
    levels.push(level);
    log(`pacing ${n} sessions: server lateness p99 ${level.serverLatenessMs.p99.median.toFixed(2)} ms, client jitter p99 ${level.clientJitterMs.p99.toFixed(1)} ms, ` +
      `first frame p50 ${level.firstFrameLatencyMs.p50.toFixed(0)} ms, interrupt→last frame p95 ${level.interruptToLastFrameMs.p95.toFixed(0)} ms, ${level.passedRuns}/${level.runs} runs on time`);
  }
  const rt = await measureStep(gen, 1, { ...options, agentSpeed: 1, interruptAfterMs: 0, turns: Math.max(2, plan.turnsPerSession - 1) });
  measurements.push(rt);
  const realtimeAgent = aggregate(1, [rt]);
  log(`pacing 1 session, agent at 1× real time: underruns ${realtimeAgent.underruns}, max gap ${realtimeAgent.maxGapMs.median.toFixed(0)} ms, first frame ${realtimeAgent.firstFrameLatencyMs.p50.toFixed(0)} ms`);
  // The levels above have every agent send its whole answer at once, all turns starting within
  // the same second: the worst case for the first frame. Streaming agents spread that work.
  const st = await measureStep(gen, capacity, { ...options, agentSpeed: STREAMING_AGENT_SPEED });
  measurements.push(st);
  const streamingAgents = aggregate(capacity, [st]);
  log(`pacing ${capacity} sessions, agents at ${STREAMING_AGENT_SPEED}× real time: first frame p50 / p95 ${streamingAgents.firstFrameLatencyMs.p50.toFixed(0)} / ${streamingAgents.firstFrameLatencyMs.p95.toFixed(0)} ms, underruns ${streamingAgents.underruns}`);
  return { levels, realtimeAgent, streamingAgents, measurements };
}
