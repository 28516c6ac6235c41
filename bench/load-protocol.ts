import type { Summary } from './quantiles.js';
import type { LoopDelaySnapshot } from '../src/metrics/loop-delay.js';

/**
 * The typed IPC protocol between the bench (parent) and the load-generator process
 * (bench/load-client.ts): the generator runs the fake agent and the widget clients, in its own
 * process so that their CPU is not the server's, and measures everything on one clock.
 */
export interface LoadStep {
  serverUrl: string;
  sessions: number;
  /** Turns per session, back to back; the first is warm-up and not measured. */
  turns: number;
  turnAudioS: number;
  /** Agent audio speed: 0 = as fast as the socket takes it (cloud agents), 1 = real time. */
  agentSpeed: number;
  /** Interrupt the last turn this long after its first frame (0: no interrupt). */
  interruptAfterMs: number;
  /** Sessions start spread over this span, so turns are not in lock-step. */
  staggerMs: number;
  /** PACING_LEAD_FRAMES of the server: frames 0..lead go out at once. */
  leadFrames: number;
  timeoutMs: number;
}

export interface LoadStepResult {
  sessions: number;
  connected: number;
  turnsMeasured: number;
  turnsComplete: number;
  /** Turns with missing frames, a frameIndex gap or a malformed frame. */
  turnsBroken: number;
  errors: string[];
  framesReceived: number;
  /** Agent's first audio_delta sent → first sync_frame received (one value per turn). */
  firstFrameLatencyMs: number[];
  /** |inter-arrival − 33.33 ms| after the lead frames. */
  jitterMs: Summary;
  /** Arrival − ideal media clock anchored on the turn's best-fitting frame; ≥ 0. */
  latenessMs: Summary;
  /** Per turn: lateness of its last frame = how much longer the turn took than its audio. */
  turnDriftMs: Summary;
  /** Per turn: frames received − audio length × 30 (0 ≤ x < 1 when nothing is lost or invented). */
  frameCountDrift: Summary;
  maxGapMs: number;
  /** Interrupted turns: interrupt sent → last frame of the turn received (0 if none came after). */
  interruptToLastFrameMs: number[];
  /** Interrupt sent → the server's `interrupt` message received. */
  interruptToAckMs: number[];
  framesAfterInterrupt: number[];
  /** The generator's own health: if it is saturated, its timestamps are late, not the server. */
  generator: { cpuMs: number; wallMs: number; eventLoopDelayP99Ms: number; eventLoopDelayMaxMs: number };
}

export type ToLoadClient = { op: 'step'; step: LoadStep } | { op: 'exit' };

export type FromLoadClient =
  | { op: 'ready'; agentUrl: string }
  /** Every session finished its warm-up turn: the parent snapshots the server now. */
  | { op: 'warm' }
  | { op: 'result'; result: LoadStepResult }
  | { op: 'failed'; message: string };

/** Bench → idle probe (bench/idle-probe.ts). */
export type ToIdleProbe = { op: 'read' } | { op: 'block'; ms: number } | { op: 'exit' };
/** Idle probe → bench: `window` is its last complete loop-delay window (null before the first). */
export type FromIdleProbe = { op: 'ready' } | { op: 'window'; window: LoopDelaySnapshot | null };
