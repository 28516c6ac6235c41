import type { BenchPlan } from './options.js';
import { measureStep, type LoadGenerator, type StepMeasurement } from './load-driver.js';
import { linearFit } from './quantiles.js';
import { diagnoseLimit, evidenceOf, type LimitDiagnosis } from './limit-diagnosis.js';
import { serverScheduler } from './server-under-test.js';
import type { WindowBreakdown } from './window-breakdown.js';

/**
 * Section 2: concurrent speaking sessions sustained in real time. Each level runs on a fresh
 * server with N sessions speaking back to back (cloud-agent speed: audio arrives faster than real
 * time); a run passes when every turn is complete, no frame reached the pacer after its
 * deadline, client-side lateness p99 ≤ one frame, the first frame of a turn p95 < 100 ms after
 * the agent's first audio, and turns do not lengthen (no growing queue). A level passes when
 * `passRuns` runs pass (3 of 3 in the full bench); its first failing run fails it. Levels ramp
 * up until one fails, then bisect between the last pass and the first failure.
 */
export interface CapacitySection {
  /** Largest level that passed (0: not even one session). */
  sessions: number;
  sessionsPerCore: number;
  cores: number;
  serverWorkers: number;
  /** INFERENCE_SCHEDULER of the servers measured (absent in reports from before it existed). */
  scheduler?: string;
  /** What stopped the ramp ('one level': the plan measured a single level, pass or fail). */
  limitedBy: 'server' | 'load generator' | 'ramp budget' | 'max sessions' | 'one level' | 'none';
  /** `limit`: what limited the server at that level (see limit-diagnosis.ts). */
  firstFailure: { sessions: number; reasons: string[]; serverErrors: string[]; limit?: LimitDiagnosis } | null;
  /**
   * Where a window's time went at the last passing and the first failing level (their deciding
   * run); the breakdown of every run is in `steps[].windows`.
   */
  windowTimes?: Array<{ role: 'last pass' | 'first failure'; sessions: number; windows: WindowBreakdown | null }>;
  /** Every run of every level, in order (a late level is re-run). */
  steps: StepMeasurement[];
  /** One verdict per level tried. */
  levels: Array<{ sessions: number; pass: boolean; runs: number; passedRuns: number }>;
  /** Slope of peak RSS over sessions across all levels: the marginal memory of one session. */
  rssPerSessionBytesSlope: number;
  /** Runs every level had to pass (absent in reports from before it was recorded). */
  passRuns?: number;
  /**
   * Main-thread CPU against frames/s across levels: the slope is the marginal cost of one frame
   * (µs), the intercept the idle main thread (% of a core). Per-level CPU/frame includes that
   * fixed cost, which dominates at one session.
   */
  mainThreadMarginalUsPerFrame: number;
  mainThreadIdlePercent: number;
  /**
   * The same slope over the runs that passed only: the range the server is run in. The fit over
   * all runs includes the overloaded ones of the failing levels, whose CPU per frame is lower
   * (absent in reports from before it was recorded).
   */
  mainThreadMarginalPassingUsPerFrame?: number;
}

/**
 * Main-thread CPU (cores) against frames/s, least squares: over every run, and over the runs that
 * passed only. µs per frame and % of a core at idle.
 */
export function mainThreadFits(steps: Array<Pick<StepMeasurement, 'pass' | 'server'>>): Pick<CapacitySection, 'mainThreadMarginalUsPerFrame' | 'mainThreadIdlePercent' | 'mainThreadMarginalPassingUsPerFrame'> {
  const fit = (runs: typeof steps) => linearFit(runs.map((s) => s.server.framesPerS), runs.map((s) => s.server.mainThreadCores));
  const all = fit(steps);
  return { mainThreadMarginalUsPerFrame: all.slope * 1e6, mainThreadIdlePercent: all.intercept * 100, mainThreadMarginalPassingUsPerFrame: fit(steps.filter((s) => s.pass)).slope * 1e6 };
}

/**
 * `env`: the server's settings for every level (the scheduler ablation and the worker sweep
 * override INFERENCE_SCHEDULER / INFERENCE_WORKERS); `label` prefixes the log lines.
 */
export async function benchCapacity(plan: BenchPlan['capacity'], gen: LoadGenerator, cores: number, serverWorkers: number, log: (line: string) => void, env: NodeJS.ProcessEnv = process.env, label = ''): Promise<CapacitySection> {
  const started = performance.now();
  const steps: StepMeasurement[] = [];
  const options = { turns: plan.turnsPerSession, turnAudioS: plan.turnAudioS, staggerMs: plan.staggerMs, agentSpeed: 0, interruptAfterMs: 0 };
  const once = async (n: number): Promise<StepMeasurement> => {
    const m = await measureStep(gen, n, options, env);
    steps.push(m);
    const c = m.client;
    log(`capacity${label ? ` [${label}]` : ''} ${n} sessions: ${m.pass ? 'PASS' : 'FAIL'}; client lateness p99 ${c.latenessMs.p99.toFixed(1)} ms, jitter p99 ${c.jitterMs.p99.toFixed(1)} ms, ` +
      `underruns ${m.server.underruns}, main thread ${(m.server.mainThreadCores * 100).toFixed(0)}% of a core${m.pass ? '' : ` (${m.reasons.join('; ')})`}` +
      (m.serverErrors.length ? `; server logged: ${m.serverErrors.join(' | ')}` : ''));
    if (n === 1 && m.broken) throw new Error(`one session is broken: ${m.reasons.join('; ')}`);
    return m;
  };
  /** A level's verdict: it passes when `passRuns` runs in a row pass; the first failing run decides. */
  const levels: CapacitySection['levels'] = [];
  const run = async (n: number): Promise<StepMeasurement> => {
    const m = await verdict(n);
    const runs = steps.filter((s) => s.sessions === n);
    levels.push({ sessions: n, pass: m.pass, runs: runs.length, passedRuns: runs.filter((s) => s.pass).length });
    return m;
  };
  const verdict = (n: number): Promise<StepMeasurement> => levelVerdict(() => once(n), plan.passRuns);
  let lastPass = 0;
  let firstFail: StepMeasurement | null = null;
  let limitedBy: CapacitySection['limitedBy'] = 'none';
  const ramp = [...plan.ramp];
  for (let i = 0; ; i++) {
    let n = ramp[i];
    if (n === undefined) n = ramp[i] = Math.min(plan.maxSessions, ramp[i - 1]! * (plan.bisectSteps > 0 ? 2 : 4));
    if (n <= lastPass) {
      limitedBy = 'max sessions';
      break;
    }
    if (performance.now() - started > plan.rampBudgetMs) {
      limitedBy = 'ramp budget';
      break;
    }
    const m = await run(n);
    if (!m.pass) {
      firstFail = m;
      break;
    }
    lastPass = n;
  }
  if (firstFail) {
    for (let b = 0; b < plan.bisectSteps && firstFail.sessions - lastPass > Math.max(1, lastPass * 0.1); b++) {
      if (performance.now() - started > plan.rampBudgetMs) break;
      const mid = Math.round((lastPass + firstFail.sessions) / 2);
      const m = await run(mid);
      if (m.pass) lastPass = mid;
      else firstFail = m;
    }
    limitedBy = firstFail.generatorSaturated ? 'load generator' : 'server';
  }
  const fit = linearFit(steps.map((s) => s.sessions), steps.map((s) => s.server.rssPeakBytes));
  const cpu = mainThreadFits(steps);
  const limit = firstFail ? diagnoseLimit(evidenceOf(firstFail, cores)) : undefined;
  if (firstFail && limit) log(`capacity${label ? ` [${label}]` : ''}: ${lastPass} sessions; at ${firstFail.sessions} limited by ${limit.detail}`);
  const passRun = steps.find((s) => s.sessions === lastPass && s.pass) ?? steps.find((s) => s.sessions === lastPass);
  const windowTimes: NonNullable<CapacitySection['windowTimes']> = [];
  if (passRun) windowTimes.push({ role: 'last pass', sessions: lastPass, windows: passRun.windows ?? null });
  if (firstFail) windowTimes.push({ role: 'first failure', sessions: firstFail.sessions, windows: firstFail.windows ?? null });
  return {
    sessions: lastPass, sessionsPerCore: lastPass / cores, cores, serverWorkers, scheduler: serverScheduler(env), limitedBy,
    firstFailure: firstFail && { sessions: firstFail.sessions, reasons: firstFail.reasons, serverErrors: firstFail.serverErrors, ...(limit ? { limit } : {}) }, windowTimes, steps, levels, rssPerSessionBytesSlope: fit.slope,
    ...cpu, passRuns: Math.max(1, plan.passRuns),
  };
}

/**
 * One level: measured until a run fails (that run is the verdict) or `passRuns` runs have passed
 * (the first of them is the verdict, a pass).
 */
export async function levelVerdict<M extends { pass: boolean }>(runOnce: () => Promise<M>, passRuns: number): Promise<M> {
  let first: M | null = null;
  for (let r = 0; r < Math.max(1, passRuns); r++) {
    const m = await runOnce();
    if (!m.pass) return m;
    first ??= m;
  }
  return first!;
}
