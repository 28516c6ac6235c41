import type { BenchPlan } from './options.js';
import { serverConfig } from './options.js';
import { measureStep, type LoadGenerator, type StepMeasurement } from './load-driver.js';
import { median, medianRatio, quantile } from './quantiles.js';

/**
 * What REALTIME_PRIORITY (SCHED_RR for the main and pacing threads) does at the level of the
 * loop-delay and pacing budgets: paired fresh-server runs, `off` against `auto` (or the server's
 * setting where it names a priority), the
 * arms alternating, the pacing section's workload (every agent sends its whole answer at once,
 * interrupts included). Ratios within each pair, then their median. The idle process beside the
 * server (bench/idle-probe.ts) shows that the machine's floor did not move between the arms.
 */
export interface RealtimeRun {
  /** REALTIME_PRIORITY asked for (`off` or the server's setting). */
  setting: string;
  /** What the server reported: on, off, failed (not permitted). */
  status: string;
  pass: boolean;
  eventLoopDelayP99Ms: number;
  eventLoopDelayMaxMs: number;
  idleLoopDelayP99Ms: number;
  pacingLatenessP99Ms: number;
  underruns: number;
  clientLatenessP99Ms: number;
  firstFrameP95Ms: number;
  mainThreadUsPerFrame: number;
  processUsPerFrame: number;
}

export interface RealtimeAblation {
  sessions: number;
  /** The real-time arm's REALTIME_PRIORITY (`auto`, or the server's setting where it names one). */
  setting: string;
  pairs: Array<{ off: RealtimeRun; realtime: RealtimeRun }>;
  /** Median over pairs of real-time / off (below 1: the real-time arm is lower). */
  ratios: { eventLoopDelayP99: number; pacingLatenessP99: number; clientLatenessP99: number; idleLoopDelayP99: number; mainThreadUsPerFrame: number };
  /** Medians over runs of each arm. */
  medians: { off: { eventLoopDelayP99Ms: number; pacingLatenessP99Ms: number }; realtime: { eventLoopDelayP99Ms: number; pacingLatenessP99Ms: number } };
  /** Runs whose server had the threads on SCHED_RR, of the real-time arm. */
  realtimeOn: number;
  passed: { off: number; realtime: number };
}

type Log = (line: string) => void;

export function realtimeRun(setting: string, m: StepMeasurement): RealtimeRun {
  return {
    setting, status: m.server.realtime ?? '?', pass: m.pass,
    eventLoopDelayP99Ms: m.server.eventLoopDelayP99Ms, eventLoopDelayMaxMs: m.server.eventLoopDelayMaxMs,
    idleLoopDelayP99Ms: m.idleLoopDelay?.p99Ms ?? Number.NaN, pacingLatenessP99Ms: m.server.pacingLatenessP99Ms,
    underruns: m.server.underruns, clientLatenessP99Ms: m.client.latenessMs.p99,
    firstFrameP95Ms: m.client.firstFrameLatencyMs.length ? quantile(m.client.firstFrameLatencyMs, 0.95) : Number.NaN,
    mainThreadUsPerFrame: m.server.mainThreadUsPerFrame, processUsPerFrame: m.server.processUsPerFrame,
  };
}

export function summarizeRealtime(sessions: number, setting: string, pairs: RealtimeAblation['pairs']): RealtimeAblation {
  const ratio = (pick: (r: RealtimeRun) => number) => medianRatio(pairs.map((p) => [pick(p.realtime), pick(p.off)] as const));
  const med = (arm: 'off' | 'realtime', pick: (r: RealtimeRun) => number) => median(pairs.map((p) => pick(p[arm])).filter(Number.isFinite));
  const medians = (arm: 'off' | 'realtime') => ({ eventLoopDelayP99Ms: med(arm, (r) => r.eventLoopDelayP99Ms), pacingLatenessP99Ms: med(arm, (r) => r.pacingLatenessP99Ms) });
  return {
    sessions, setting, pairs,
    ratios: {
      eventLoopDelayP99: ratio((r) => r.eventLoopDelayP99Ms), pacingLatenessP99: ratio((r) => r.pacingLatenessP99Ms),
      clientLatenessP99: ratio((r) => r.clientLatenessP99Ms), idleLoopDelayP99: ratio((r) => r.idleLoopDelayP99Ms),
      mainThreadUsPerFrame: ratio((r) => r.mainThreadUsPerFrame),
    },
    medians: { off: medians('off'), realtime: medians('realtime') },
    realtimeOn: pairs.filter((p) => p.realtime.status === 'on').length,
    passed: { off: pairs.filter((p) => p.off.pass).length, realtime: pairs.filter((p) => p.realtime.pass).length },
  };
}

/** The server's REALTIME_PRIORITY as the bench passes it on, checked by its loadConfig: `off` when unset. */
export function serverRealtimeSetting(env: NodeJS.ProcessEnv = process.env): string {
  return serverConfig(env).realtimePriority.priority === 0 ? 'off' : env.REALTIME_PRIORITY!.trim();
}

/** The real-time arm's REALTIME_PRIORITY: the server's setting where it asks for one, else `auto`. */
export function realtimeArm(env: NodeJS.ProcessEnv = process.env): string {
  const s = serverRealtimeSetting(env);
  return s === 'off' ? 'auto' : s;
}

export async function benchRealtime(plan: BenchPlan, gen: LoadGenerator, log: Log): Promise<RealtimeAblation> {
  const setting = realtimeArm();
  const { pairs: n, sessions } = plan.realtime;
  const o = plan.pacing;
  const pairs: RealtimeAblation['pairs'] = [];
  for (let i = 0; i < n; i++) {
    const runs: Partial<Record<'off' | 'realtime', RealtimeRun>> = {};
    for (const arm of i % 2 === 0 ? (['off', 'realtime'] as const) : (['realtime', 'off'] as const)) {
      const value = arm === 'off' ? 'off' : setting;
      const m = await measureStep(gen, sessions, { turns: o.turnsPerSession, turnAudioS: o.turnAudioS, staggerMs: plan.capacity.staggerMs, agentSpeed: 0, interruptAfterMs: o.interruptAfterMs }, { ...process.env, REALTIME_PRIORITY: value });
      const r = (runs[arm] = realtimeRun(value, m));
      log(`real-time priority ${value} (${r.status}) at ${sessions} sessions: loop delay p99 ${r.eventLoopDelayP99Ms.toFixed(2)} ms (idle process ${r.idleLoopDelayP99Ms.toFixed(2)}), pacing p99 ${r.pacingLatenessP99Ms.toFixed(2)} ms, main ${r.mainThreadUsPerFrame.toFixed(1)} µs/frame, ${m.pass ? 'PASS' : `FAIL (${m.reasons.join('; ')})`}`);
    }
    pairs.push({ off: runs.off!, realtime: runs.realtime! });
  }
  const r = summarizeRealtime(sessions, setting, pairs);
  log(`real-time priority ${setting} vs off: loop delay p99 ×${r.ratios.eventLoopDelayP99.toFixed(2)}, pacing p99 ×${r.ratios.pacingLatenessP99.toFixed(2)}, idle process ×${r.ratios.idleLoopDelayP99.toFixed(2)} (median of ${pairs.length} pairs; ${r.realtimeOn} of them on SCHED_RR)`);
  return r;
}
