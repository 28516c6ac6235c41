import type { BenchPlan } from './options.js';
import type { MachineInfo } from './machine.js';
import type { InferenceSection } from './inference-rtf.js';
import type { BatchingResult } from './batching.js';
import type { CapacitySection } from './capacity.js';
import type { SchedulerAblation, WorkerSweep } from './capacity-variants.js';
import type { TaskWindowsAblation } from './task-windows.js';
import type { RealtimeAblation } from './realtime-priority.js';
import type { PacingSection } from './pacing-profile.js';
import type { PlacementAblation } from './ablations/inference-placement.js';
import type { PacingTimerAblation } from './ablations/pacing-timer.js';
import type { Base64Ablation, SerializationAblation } from './ablations/frame-serialization.js';
import type { ResamplerResult } from './ablations/resampler.js';

/** Everything one bench run produced: written as latest.json, rendered as latest.md. */
export interface BenchReport {
  plan: BenchPlan;
  machine: MachineInfo;
  /**
   * `scheduler`: INFERENCE_SCHEDULER of the main runs; `rightContextMs`: INFERENCE_RIGHT_CONTEXT_MS
   * (each absent in reports from before it).
   */
  server: { inferenceWorkers: number; scheduler?: string; realtimePriority?: string; leadFrames: number; contextMs: number; rightContextMs?: number; model: string; env: Record<string, string> };
  durationS: number;
  inference?: InferenceSection;
  /** Model calls over B windows at once, per model and window length (section 1). */
  batching?: BatchingResult[];
  capacity?: CapacitySection;
  /** Section 2 with INFERENCE_SCHEDULER=fifo and =deadline. */
  capacityScheduler?: SchedulerAblation;
  /** INFERENCE_TASK_WINDOWS against one window per task, paired runs (absent when the server's setting is 1). */
  taskWindows?: TaskWindowsAblation;
  /** Section 2 with INFERENCE_WORKERS = 1, 2. */
  capacityWorkers?: WorkerSweep;
  pacing?: PacingSection;
  /** REALTIME_PRIORITY off against auto (or the server's setting), paired runs. */
  realtime?: RealtimeAblation;
  ablations: {
    placement?: PlacementAblation;
    pacingTimer?: PacingTimerAblation;
    serialization?: SerializationAblation;
    base64?: Base64Ablation;
    resampler?: ResamplerResult[];
  };
  failures: Array<{ part: string; error: string }>;
}
