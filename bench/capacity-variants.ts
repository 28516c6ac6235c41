import type { BenchPlan } from './options.js';
import { benchCapacity, type CapacitySection } from './capacity.js';
import { measureStep, type LoadGenerator, type StepMeasurement } from './load-driver.js';
import { serverScheduler, serverWorkers } from './server-under-test.js';
import type { WindowBreakdown } from './window-breakdown.js';

/**
 * Section 2 again with other server settings, in the same bench run: the scheduler ablation
 * (INFERENCE_SCHEDULER=fifo vs deadline) and the worker sweep (INFERENCE_WORKERS=1, 2), so ops
 * can size the pool by cores. An arm whose settings are the main run's reuses the main run.
 */
export interface CapacityArm {
  scheduler: string;
  workers: number;
  /** The main capacity run (section 2), not measured again. */
  reused: boolean;
  /** The arm's capacity section; left out of the report when reused (it is `capacity`). */
  section?: CapacitySection;
}

/** While measuring, every arm has its section. */
type MeasuredArm = CapacityArm & { section: CapacitySection };

/** Reused arms lose their section in the report: it is the main capacity section already. */
function forReport(a: MeasuredArm): CapacityArm {
  if (!a.reused) return a;
  const { section: _, ...rest } = a;
  return rest;
}

/** One arm at the comparison level: its median run there by client lateness p99. */
export interface ArmAtLevel {
  scheduler: string;
  capacity: number;
  /** 'one level' arms: capacity is only "≥ level" (passed) or "< level" (failed). */
  oneLevel: boolean;
  limit: string | null;
  pass: boolean | null;
  clientLatenessP99Ms: number;
  pacingLatenessP99Ms: number;
  queueWaitP99Ms: number | null;
  underruns: number;
  lateWindows: number | null;
  poolBusyRatioMax: number | null;
  /** Where a window's time went in that run. */
  windows: WindowBreakdown | null;
}

export interface SchedulerAblation {
  /** The level both arms were measured at: the deadline arm's capacity where it has one. */
  comparisonSessions: number | null;
  deadline: ArmAtLevel;
  fifo: ArmAtLevel;
  /** deadline / fifo for capacity; fifo / deadline for the rest (> 1: FIFO is worse). */
  ratios: { capacity: number; clientLatenessP99: number; pacingLatenessP99: number; queueWaitP99: number; underruns: number };
  arms: CapacityArm[];
}

export interface WorkerSweepRow {
  workers: number;
  scheduler: string;
  sessions: number;
  sessionsPerWorker: number;
  sessionsPerCore: number;
  oneLevel: boolean;
  limitedBy: CapacitySection['limitedBy'];
  limit: string | null;
  reused: boolean;
  /** The one level measured ('one level' arms), else null. */
  level: number | null;
}

export interface WorkerSweep {
  cores: number;
  rows: WorkerSweepRow[];
  arms: CapacityArm[];
}

type Log = (line: string) => void;

/** The capacity plan of one arm: one level at `seed`, or a ramp from half of it. */
export function armPlan(base: BenchPlan['capacity'], v: BenchPlan['capacityVariants'], seed: number): BenchPlan['capacity'] {
  const s = Math.max(1, Math.round(seed));
  if (v.mode === 'one level') return { ...base, ramp: [s], maxSessions: s, bisectSteps: 0, rampBudgetMs: v.rampBudgetMs, passRuns: v.passRuns };
  const half = Math.max(1, Math.round(s / 2));
  return { ...base, ramp: half < s ? [half, s] : [s], bisectSteps: v.bisectSteps, rampBudgetMs: v.rampBudgetMs, passRuns: v.passRuns };
}

/** Ratio a / b, with 0 / 0 = 1 (both clean) and NaN where it is undefined. */
export function ratio(a: number | null, b: number | null): number {
  if (a === null || b === null || !Number.isFinite(a) || !Number.isFinite(b)) return Number.NaN;
  if (a === 0 && b === 0) return 1;
  return b === 0 ? Number.NaN : a / b;
}

/** The median run at `sessions` by client lateness p99 (the one the capacity chart shows). */
export function runAt(steps: StepMeasurement[], sessions: number): StepMeasurement | null {
  const runs = steps.filter((s) => s.sessions === sessions).sort((a, b) => a.client.latenessMs.p99 - b.client.latenessMs.p99);
  return runs[Math.floor((runs.length - 1) / 2)] ?? null;
}

/** The level to compare the arms at: the deadline arm's capacity if the FIFO arm ran it, else the largest level both ran. */
export function comparisonLevel(deadline: CapacitySection, fifo: CapacitySection): number | null {
  const inFifo = new Set(fifo.steps.map((s) => s.sessions));
  if (deadline.sessions > 0 && inFifo.has(deadline.sessions)) return deadline.sessions;
  const common = [...new Set(deadline.steps.map((s) => s.sessions))].filter((n) => inFifo.has(n)).sort((a, b) => b - a);
  return common[0] ?? null;
}

export function armAtLevel(section: CapacitySection, sessions: number | null): ArmAtLevel {
  const m = sessions === null ? null : runAt(section.steps, sessions);
  const level = sessions === null ? undefined : section.levels.find((l) => l.sessions === sessions);
  return {
    scheduler: section.scheduler ?? '?',
    capacity: section.sessions,
    oneLevel: section.limitedBy === 'one level',
    limit: section.firstFailure?.limit?.detail ?? null,
    pass: level ? level.pass : m ? m.pass : null,
    clientLatenessP99Ms: m?.client.latenessMs.p99 ?? Number.NaN,
    pacingLatenessP99Ms: m?.server.pacingLatenessP99Ms ?? Number.NaN,
    queueWaitP99Ms: m?.windows?.queueWait?.p99Ms ?? null,
    underruns: m?.server.underruns ?? Number.NaN,
    lateWindows: m?.windows?.lateWindows ?? null,
    poolBusyRatioMax: m?.windows?.poolBusyRatioMax ?? null,
    windows: m?.windows ?? null,
  };
}

export function compareSchedulers(deadline: CapacitySection, fifo: CapacitySection, arms: MeasuredArm[]): SchedulerAblation {
  const level = comparisonLevel(deadline, fifo);
  const d = armAtLevel(deadline, level);
  const f = armAtLevel(fifo, level);
  return {
    comparisonSessions: level, deadline: d, fifo: f, arms: arms.map(forReport),
    ratios: {
      capacity: d.oneLevel || f.oneLevel ? Number.NaN : ratio(d.capacity, f.capacity),
      clientLatenessP99: ratio(f.clientLatenessP99Ms, d.clientLatenessP99Ms),
      pacingLatenessP99: ratio(f.pacingLatenessP99Ms, d.pacingLatenessP99Ms),
      queueWaitP99: ratio(f.queueWaitP99Ms, d.queueWaitP99Ms),
      underruns: ratio(f.underruns, d.underruns),
    },
  };
}

/** Capacity of one arm: the main run when its settings match, else a run with `overrides`. */
async function arm(plan: BenchPlan, gen: LoadGenerator, cores: number, main: CapacitySection | undefined, overrides: Record<string, string>, log: Log): Promise<MeasuredArm> {
  const env = { ...process.env, ...overrides };
  const scheduler = serverScheduler(env);
  const workers = serverWorkers(env);
  if (main && (main.scheduler ?? serverScheduler()) === scheduler && main.serverWorkers === workers) return { scheduler, workers, reused: true, section: { ...main, steps: [...main.steps] } };
  const v = plan.capacityVariants;
  const seed = main && main.sessions > 0 ? main.sessions : v.seedSessions;
  const label = `${scheduler}, ${workers} worker${workers === 1 ? '' : 's'}`;
  const section = await benchCapacity(armPlan(plan.capacity, v, seed), gen, cores, workers, log, env, label);
  if (v.mode === 'one level') section.limitedBy = 'one level';
  return { scheduler, workers, reused: false, section };
}

/** The scheduler ablation: both arms with the main run's worker count. */
export async function benchSchedulerAblation(plan: BenchPlan, gen: LoadGenerator, cores: number, main: CapacitySection | undefined, log: Log): Promise<SchedulerAblation> {
  const workers = String(main?.serverWorkers ?? serverWorkers());
  const deadline = await arm(plan, gen, cores, main, { INFERENCE_SCHEDULER: 'deadline', INFERENCE_WORKERS: workers }, log);
  const fifo = await arm(plan, gen, cores, main, { INFERENCE_SCHEDULER: 'fifo', INFERENCE_WORKERS: workers }, log);
  // Both arms must have run the comparison level; one run of it is added where it is missing.
  const level = deadline.section.sessions;
  for (const a of [deadline, fifo]) {
    if (level > 0 && !a.section.steps.some((s) => s.sessions === level)) {
      const c = plan.capacity;
      const m = await measureStep(gen, level, { turns: c.turnsPerSession, turnAudioS: c.turnAudioS, staggerMs: c.staggerMs, agentSpeed: 0, interruptAfterMs: 0 }, { ...process.env, INFERENCE_SCHEDULER: a.scheduler, INFERENCE_WORKERS: workers });
      log(`scheduler ${a.scheduler} at ${level} sessions (comparison level): ${m.pass ? 'PASS' : `FAIL (${m.reasons.join('; ')})`}`);
      a.section.steps.push(m);
    }
  }
  const r = compareSchedulers(deadline.section, fifo.section, [deadline, fifo]);
  log(`scheduler deadline vs fifo: capacity ${deadline.section.sessions} vs ${fifo.section.sessions}; at ${r.comparisonSessions ?? '?'} sessions client lateness p99 ${Number.isFinite(r.ratios.clientLatenessP99) ? `×${r.ratios.clientLatenessP99.toFixed(2)}` : 'n/a'}, queue wait p99 ${Number.isFinite(r.ratios.queueWaitP99) ? `×${r.ratios.queueWaitP99.toFixed(2)}` : 'n/a'} (fifo/deadline)`);
  return r;
}

export function sweepRow(a: MeasuredArm): WorkerSweepRow {
  const s = a.section;
  return {
    workers: a.workers, scheduler: a.scheduler, sessions: s.sessions, sessionsPerWorker: s.sessions / a.workers, sessionsPerCore: s.sessionsPerCore,
    oneLevel: s.limitedBy === 'one level', limitedBy: s.limitedBy, limit: s.firstFailure?.limit?.detail ?? null, reused: a.reused,
    level: s.limitedBy === 'one level' ? s.levels[0]?.sessions ?? null : null,
  };
}

/** A capacity in words: "36", or for a one-level arm "≥ 8" (passed) / "< 8" (failed). */
export function capacityText(sessions: number, oneLevel: boolean, level: number | null): string {
  if (!oneLevel || level === null) return String(sessions);
  return sessions >= level ? `≥ ${level}` : `< ${level}`;
}

/** The worker sweep: capacity with INFERENCE_WORKERS = each of the plan's counts, main scheduler. */
export async function benchWorkerSweep(plan: BenchPlan, gen: LoadGenerator, cores: number, main: CapacitySection | undefined, log: Log): Promise<WorkerSweep> {
  const scheduler = main?.scheduler ?? serverScheduler();
  const arms: MeasuredArm[] = [];
  for (const w of plan.capacityVariants.workers) arms.push(await arm(plan, gen, cores, main, { INFERENCE_SCHEDULER: scheduler, INFERENCE_WORKERS: String(w) }, log));
  const rows = arms.map(sweepRow);
  log(`workers: ${rows.map((r) => `${r.workers} → ${capacityText(r.sessions, r.oneLevel, r.level)} sessions`).join(', ')}`);
  return { cores, rows, arms: arms.map(forReport) };
}
