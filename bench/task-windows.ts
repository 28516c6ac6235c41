import type { BenchPlan } from './options.js';
import type { CapacitySection } from './capacity.js';
import { measureStep, type LoadGenerator, type StepMeasurement } from './load-driver.js';
import { medianRatio, quantile } from './quantiles.js';
import { serverConfig } from './options.js';

/**
 * What handing queued windows to a worker several at a time (INFERENCE_TASK_WINDOWS) does to the
 * main thread: paired fresh-server runs at one level, one window per task (`1`) against the
 * server's setting, the two arms alternating so that the host's drift over the minutes hits both
 * alike. Ratios are taken within each pair, then their median: on a shared VM the spread between
 * runs (±10 % of the main thread's CPU per frame) is larger than most single changes.
 */
export interface TaskWindowsRun {
  taskWindows: number;
  pass: boolean;
  mainThreadUsPerFrame: number;
  processUsPerFrame: number;
  mainThreadWakeupsPerS: number;
  windowsPerTask: number;
  underruns: number;
  /** Windows served with neutral weights because they were not back in time (window-deadline.ts). */
  deadlineFills: number;
  clientLatenessP99Ms: number;
  firstFrameP95Ms: number;
}

export interface TaskWindowsAblation {
  sessions: number;
  /** INFERENCE_TASK_WINDOWS of the batched arm (the server's setting). */
  batched: number;
  pairs: Array<{ single: TaskWindowsRun; batched: TaskWindowsRun }>;
  /** Median over pairs of batched / single (below 1: batches cost less). */
  ratios: { mainThreadUsPerFrame: number; processUsPerFrame: number; mainThreadWakeupsPerS: number };
  /** Runs that passed, per arm. */
  passed: { single: number; batched: number };
}

type Log = (line: string) => void;

export function taskWindowsRun(taskWindows: number, m: StepMeasurement): TaskWindowsRun {
  return {
    taskWindows, pass: m.pass, mainThreadUsPerFrame: m.server.mainThreadUsPerFrame, processUsPerFrame: m.server.processUsPerFrame,
    mainThreadWakeupsPerS: m.server.mainThreadWakeupsPerS ?? Number.NaN, windowsPerTask: m.server.windowsPerTask ?? Number.NaN,
    underruns: m.server.underruns, deadlineFills: m.server.deadlineFills ?? Number.NaN, clientLatenessP99Ms: m.client.latenessMs.p99,
    firstFrameP95Ms: m.client.firstFrameLatencyMs.length ? quantile(m.client.firstFrameLatencyMs, 0.95) : Number.NaN,
  };
}

/** The median over pairs of batched / single for one figure (NaN when no pair has both). */
export function pairedRatio(pairs: TaskWindowsAblation['pairs'], pick: (r: TaskWindowsRun) => number): number {
  return medianRatio(pairs.map((p) => [pick(p.batched), pick(p.single)] as const));
}

export function summarize(sessions: number, batched: number, pairs: TaskWindowsAblation['pairs']): TaskWindowsAblation {
  return {
    sessions, batched, pairs,
    ratios: {
      mainThreadUsPerFrame: pairedRatio(pairs, (r) => r.mainThreadUsPerFrame),
      processUsPerFrame: pairedRatio(pairs, (r) => r.processUsPerFrame),
      mainThreadWakeupsPerS: pairedRatio(pairs, (r) => r.mainThreadWakeupsPerS),
    },
    passed: { single: pairs.filter((p) => p.single.pass).length, batched: pairs.filter((p) => p.batched.pass).length },
  };
}

/** The server's INFERENCE_TASK_WINDOWS, read and checked by its own loadConfig (default included). */
export function serverTaskWindows(env: NodeJS.ProcessEnv = process.env): number {
  return serverConfig(env).inferenceTaskWindows;
}

/**
 * Paired runs at the main run's capacity or the plan's level, whichever is lower: at a capacity the
 * batches raised, the one-per-task arm is overloaded, and an overloaded run spends less per frame
 * (the main thread's fixed costs spread over the frames it still sends), which hides the saving.
 * Nothing to compare when the server's setting is 1.
 */
export async function benchTaskWindows(plan: BenchPlan, gen: LoadGenerator, main: CapacitySection | undefined, log: Log): Promise<TaskWindowsAblation | undefined> {
  const batched = serverTaskWindows();
  if (batched === 1) {
    log('task windows: INFERENCE_TASK_WINDOWS=1, no batched arm to compare');
    return undefined;
  }
  const p = plan.taskWindows;
  const sessions = main && main.sessions > 0 ? Math.min(main.sessions, p.sessions) : p.sessions;
  const c = plan.capacity;
  const pairs: TaskWindowsAblation['pairs'] = [];
  for (let i = 0; i < p.pairs; i++) {
    const runs: Partial<Record<'single' | 'batched', TaskWindowsRun>> = {};
    // Alternate which arm goes first: a host that slows down over a pair does not favour one.
    for (const arm of i % 2 === 0 ? (['single', 'batched'] as const) : (['batched', 'single'] as const)) {
      const tw = arm === 'single' ? 1 : batched;
      const m = await measureStep(gen, sessions, { turns: c.turnsPerSession, turnAudioS: c.turnAudioS, staggerMs: c.staggerMs, agentSpeed: 0, interruptAfterMs: 0 }, { ...process.env, INFERENCE_TASK_WINDOWS: String(tw) });
      runs[arm] = taskWindowsRun(tw, m);
      log(`task windows ${tw} at ${sessions} sessions: main ${m.server.mainThreadUsPerFrame.toFixed(1)} µs/frame, ${(m.server.windowsPerTask ?? Number.NaN).toFixed(2)} windows/task, ${m.pass ? 'PASS' : `FAIL (${m.reasons.join('; ')})`}`);
    }
    pairs.push({ single: runs.single!, batched: runs.batched! });
  }
  const r = summarize(sessions, batched, pairs);
  log(`task windows ${batched} vs 1: main thread µs/frame ×${r.ratios.mainThreadUsPerFrame.toFixed(2)}, process ×${r.ratios.processUsPerFrame.toFixed(2)} (median of ${pairs.length} pairs)`);
  return r;
}
