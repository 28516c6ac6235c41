import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MODEL_PATH, loadConfig, type Config } from '../src/config/config.js';

/**
 * Command line and the two plans. `--quick` proves every part works in about 3 minutes (CI);
 * the full plan repeats every measurement and bisects capacity, in about 20 minutes on 2 cores.
 */
export interface BenchPlan {
  name: 'quick' | 'full';
  inference: {
    poolSizes: number[];
    windowsS: number[];
    runs: number;
    /** One window in flight: ms per window without queueing. */
    latencyPhaseMs: number;
    /** 2 × pool size in flight: windows/s at saturation. */
    throughputPhaseMs: number;
    /** Windows per stream discarded before measuring. */
    warmupWindows: number;
  };
  /** Model calls over several windows at once (bench/batching.ts). */
  batching: { batches: number[]; windowsS: number[]; runs: number; callsPerBatch: number };
  capacity: {
    /** First ramp levels (sessions); doubling continues after the last until a level fails. */
    ramp: number[];
    maxSessions: number;
    /** Bisection steps between the last passing and the first failing level (0: none). */
    bisectSteps: number;
    turnsPerSession: number;
    turnAudioS: number;
    staggerMs: number;
    /** Wall-clock budget for the ramp; it stops (capacity = a lower bound) when spent. */
    rampBudgetMs: number;
    /**
     * Runs a level must pass, every one of them (issue 20's "3 of 3"): it is measured until one
     * fails or this many have passed, each on a fresh server.
     */
    passRuns: number;
  };
  /**
   * The capacity section again with other server settings, in the same run: INFERENCE_SCHEDULER
   * fifo vs deadline, and INFERENCE_WORKERS 1 and 2. An arm with the main run's settings reuses
   * the main run.
   */
  /** INFERENCE_TASK_WINDOWS against 1 (bench/task-windows.ts): paired runs at the capacity level or `sessions`, whichever is lower. */
  taskWindows: { pairs: number; sessions: number };
  /** REALTIME_PRIORITY off against the server's setting (bench/realtime-priority.ts): paired runs at `sessions`, the pacing section's workload. */
  realtime: { pairs: number; sessions: number };
  capacityVariants: {
    /**
     * 'one level': each arm measures one level, the main run's capacity (else `seedSessions`):
     * pass or fail, and where the time goes there. 'ramp': each arm ramps from half the main
     * run's capacity, doubling until a level fails, then bisects.
     */
    mode: 'one level' | 'ramp';
    seedSessions: number;
    bisectSteps: number;
    rampBudgetMs: number;
    /** Runs a level must pass in these arms (1: one run decides; the arms compare with each other, not with the main run's 3 of 3). */
    passRuns: number;
    /** INFERENCE_WORKERS values of the worker sweep. */
    workers: number[];
  };
  pacing: {
    /** Repeats of each profile level (1, 10, 50, capacity). */
    runs: number;
    turnsPerSession: number;
    turnAudioS: number;
    interruptAfterMs: number;
  };
  ablations: {
    /** Runs of the micro benchmarks (serializer, base64, resampler). */
    microRuns: number;
    microIterations: number;
    /** Time per run of each resampler's cost loop. */
    resamplerRunMs: number;
    placementRuns: number;
    placementStreams: number;
    placementPhaseMs: number;
    pacingRuns: number;
    pacingSessions: number;
    pacingFrames: number;
  };
}

export const QUICK_PLAN: BenchPlan = {
  name: 'quick',
  inference: { poolSizes: [], windowsS: [0.2, 0.5, 1.0], runs: 1, latencyPhaseMs: 700, throughputPhaseMs: 900, warmupWindows: 3 },
  batching: { batches: [1, 2, 4, 8], windowsS: [0.5], runs: 1, callsPerBatch: 20 },
  capacity: { ramp: [1, 8, 32], maxSessions: 512, bisectSteps: 0, turnsPerSession: 2, turnAudioS: 2, staggerMs: 500, rampBudgetMs: 45_000, passRuns: 1 },
  taskWindows: { pairs: 1, sessions: 8 },
  realtime: { pairs: 1, sessions: 8 },
  capacityVariants: { mode: 'one level', seedSessions: 8, bisectSteps: 0, rampBudgetMs: 30_000, passRuns: 1, workers: [1, 2] },
  pacing: { runs: 1, turnsPerSession: 3, turnAudioS: 2, interruptAfterMs: 700 },
  ablations: { microRuns: 3, microIterations: 20_000, resamplerRunMs: 250, placementRuns: 1, placementStreams: 24, placementPhaseMs: 2000, pacingRuns: 1, pacingSessions: 16, pacingFrames: 30 },
};

/** The full plan: what differs from the quick one. */
export const FULL_PLAN: BenchPlan = {
  name: 'full',
  inference: { ...QUICK_PLAN.inference, runs: 3, latencyPhaseMs: 2000, throughputPhaseMs: 3000, warmupWindows: 5 },
  batching: { batches: [1, 2, 4, 8, 16], windowsS: [0.2, 0.5], runs: 3, callsPerBatch: 60 },
  capacity: { ramp: [1, 4, 16], maxSessions: 1024, bisectSteps: 3, turnsPerSession: 3, turnAudioS: 4, staggerMs: 1000, rampBudgetMs: 900_000, passRuns: 3 },
  taskWindows: { pairs: 3, sessions: 128 },
  realtime: { pairs: 3, sessions: 50 },
  capacityVariants: { mode: 'ramp', seedSessions: 16, bisectSteps: 3, rampBudgetMs: 150_000, passRuns: 1, workers: [1, 2] },
  pacing: { runs: 3, turnsPerSession: 4, turnAudioS: 4, interruptAfterMs: 1500 },
  ablations: { ...QUICK_PLAN.ablations, microRuns: 5, microIterations: 50_000, resamplerRunMs: 1000, placementRuns: 3, placementPhaseMs: 4000, pacingRuns: 3, pacingFrames: 90 },
};

export interface BenchOptions {
  plan: BenchPlan;
  outDir: string;
  /** Only these parts (`--only inference,capacity`); all when empty. */
  only: string[];
  cores: number;
}

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Server settings the bench passes through to the server under test (and reports). */
export const SERVER_SETTINGS = ['ONNX_MODEL_PATH', 'AUDIO_CHUNK_DURATION', 'INFERENCE_FIRST_WINDOW_MS', 'INFERENCE_CONTEXT_MS', 'INFERENCE_RIGHT_CONTEXT_MS', 'PACING_LEAD_FRAMES', 'INFERENCE_WORKERS', 'INFERENCE_TASK_WINDOWS', 'REALTIME_PRIORITY'];

/**
 * Those settings read and validated by the server's own loadConfig, defaults included, so the
 * bench never restates a default (the model path is taken from the repository root).
 */
export function serverConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const given: Record<string, string> = {};
  for (const name of SERVER_SETTINGS) if (env[name] !== undefined) given[name] = env[name]!;
  return loadConfig({ ...given, ONNX_MODEL_PATH: resolve(REPO_ROOT, env.ONNX_MODEL_PATH?.trim() || DEFAULT_MODEL_PATH) });
}

export function parseOptions(argv: string[]): BenchOptions {
  let quick = false;
  let outDir = resolve(REPO_ROOT, 'bench/results');
  let only: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--out') outDir = resolve(argv[++i] ?? usage(`--out needs a directory`));
    else if (a === '--only') only = (argv[++i] ?? usage('--only needs a list')).split(',').map((s) => s.trim()).filter(Boolean);
    else if (a === '--help' || a === '-h') usage();
    else usage(`unknown argument ${a}`);
  }
  const cores = availableParallelism();
  const base = quick ? QUICK_PLAN : FULL_PLAN;
  const plan: BenchPlan = { ...base, inference: { ...base.inference, poolSizes: Array.from({ length: cores }, (_, i) => i + 1) } };
  return { plan, outDir, only, cores };
}

function usage(problem?: string): never {
  const text = 'usage: node dist/bench/run.js [--quick] [--out <dir>] [--only inference,batching,capacity,scheduler,task-windows,workers,pacing,ablations]\n';
  if (problem) {
    process.stderr.write(`${problem}\n${text}`);
    process.exit(2);
  }
  process.stdout.write(text);
  process.exit(0);
}
