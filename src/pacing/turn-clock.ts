import { FRAME_DURATION_MS } from '../audio/constants.js';

/** Buffer added when a late frame re-anchors the clock (2 frames): covers the session's 60 ms window wait. */
export const UNDERRUN_SLACK_MS = 2 * FRAME_DURATION_MS;

/**
 * How long before a frame's deadline its window's audio must have been in for a late frame to
 * count as an inference tail rather than a source behind real time. It is also the scheduler's
 * urgency horizon (URGENT_WINDOW_MS in src/session/turn-scheduler.ts is this constant): audio that is in this
 * long before its first frame is due goes to the pool with the scheduler's full lead, so a result
 * that still comes back late was held up by inference (a queue, a slow run, a hedge). Audio
 * that comes later than that has pushed the scheduler into its urgent regime: the agent is the
 * limit, and its next windows will have as little room as this one.
 */
export const SOURCE_HEADROOM_MS = 100;

/**
 * The media clock of one turn: frame k is due at origin + (k − lead) · 1000/30 ms, absolute
 * deadlines so errors never accumulate. The origin is the moment the first frame is ready; the
 * first `lead` frames go out at once so the client's jitter buffer fills without adding latency.
 *
 * A frame that reaches the pacer after its deadline goes out at once. What happens to the rest
 * of the turn depends on why it was late (`late`):
 * - inference tail: its audio was in with room to spare, the model's result was late. The clock
 *   does not move: the frames after it keep the schedule they had, and the client, which plays
 *   by its own audio clock, sees one gap and then a deeper buffer — not a turn shifted by the
 *   window's lateness (and by the slack) to its end.
 * - source behind real time: its audio itself came late (or when it came is not known). Bursting
 *   would only underrun again on the next window, so the clock is re-anchored on the late frame,
 *   with slack, and spacing stays 33.3 ms from there.
 */
export class TurnClock {
  private origin = Number.NaN;

  constructor(private readonly leadFrames: number) {}

  get started(): boolean {
    return !Number.isNaN(this.origin);
  }

  start(nowMs: number): void {
    this.origin = nowMs;
  }

  /** The current origin (NaN before start), for mirroring this clock in another thread. */
  get originMs(): number {
    return this.origin;
  }

  /** Lead frames are due at or before the origin: they go out at once and are never "late". */
  isLead(frameIndex: number): boolean {
    return frameIndex <= this.leadFrames;
  }

  deadline(frameIndex: number): number {
    return this.origin + (frameIndex - this.leadFrames) * FRAME_DURATION_MS;
  }

  /**
   * Frame `frameIndex` reached the pacer after its deadline and goes out at `nowMs`; its window's
   * audio was all in at `audioReadyMs` (same time base; undefined when not known). Returns true
   * when the clock was re-anchored (the source is behind), false when it keeps its schedule (an
   * inference tail). Called for each late frame of a window: for a tail the answer is the same
   * for all of them (later frames have later deadlines); after a re-anchor none is late any more.
   */
  late(frameIndex: number, nowMs: number, audioReadyMs: number | undefined): boolean {
    if (audioReadyMs !== undefined && audioReadyMs <= this.deadline(frameIndex) - SOURCE_HEADROOM_MS) return false;
    this.reanchor(frameIndex, nowMs, UNDERRUN_SLACK_MS);
    return true;
  }

  /**
   * Frame `frameIndex` goes out late at `nowMs`: later frames keep their spacing from it, plus
   * `slackMs` of buffer, so a source that delivers at about real time underruns once, not on
   * every window.
   */
  reanchor(frameIndex: number, nowMs: number, slackMs = 0): void {
    this.origin = nowMs + slackMs - (frameIndex - this.leadFrames) * FRAME_DURATION_MS;
  }
}
