import { FRAME_DURATION_MS } from '../audio/constants.js';

/**
 * The media clock of one turn: frame k is due at origin + (k − lead) · 1000/30 ms, absolute
 * deadlines so errors never accumulate. The origin is the moment the first frame is ready; the
 * first `lead` frames go out at once so the client's jitter buffer fills without adding latency.
 * When a frame arrives after its deadline (the agent or inference fell behind real time), the
 * clock is re-anchored on it rather than bursting to catch up, so spacing stays 33.3 ms.
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
   * Frame `frameIndex` goes out late at `nowMs`: later frames keep their spacing from it, plus
   * `slackMs` of buffer, so a source that delivers at about real time underruns once, not on
   * every window.
   */
  reanchor(frameIndex: number, nowMs: number, slackMs = 0): void {
    this.origin = nowMs + slackMs - (frameIndex - this.leadFrames) * FRAME_DURATION_MS;
  }
}
