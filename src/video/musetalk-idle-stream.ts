import { VideoFrameClock, wallNowMs, type ClockTimers } from '../pacing/video-frame-clock.js';
import { IDLE_LOOP_FRAMES, type LoopFrame, type MuseTalkIdleLoop } from './musetalk-idle-loop.js';
import { VIDEO_FPS, VIDEO_FRAME_MS } from './video-clock.js';

/** Late by more than this many frames (a stalled main thread): idle frames are skipped. */
const MAX_LATE_FRAMES = 5;

/**
 * One MuseTalk session's stream of the shared idle loop, on the session's media clock (main
 * thread; it only picks pre-encoded access units). The session's own worker takes the stream
 * over at a frame this picks (`handOver`), and gives it back when the session has been idle for
 * a while (`resume`). The access units go out in loop order whatever the frame numbers: a frame
 * the clock skips is a gap in `frame_timestamp`, never a hole in the H.264 stream.
 */
export class MuseTalkIdleStream {
  /** Frame k is due at the clock's origin + k · 40 ms (for the session's worker too). */
  readonly clock: VideoFrameClock;
  private loopPos: number;
  /** The next frame this stream will send (when running). */
  private next = 0;
  private running = false;

  constructor(
    private readonly loop: Pick<MuseTalkIdleLoop, 'at' | 'failed' | 'startPosition'>,
    private readonly send: (frame: number, au: LoopFrame) => void,
    private readonly needOwnFrames: () => void,
    timers?: ClockTimers,
  ) {
    this.clock = new VideoFrameClock(VIDEO_FRAME_MS, timers?.now() ?? wallNowMs(), timers);
    this.loopPos = loop.startPosition();
  }

  /** Stream from frame `first` on. */
  start(first = 0): void {
    this.next = first;
    this.running = true;
    this.clock.run(first, (frame, now) => this.tick(frame, now));
  }

  private tick(frame: number, now: number): number | null {
    if (!this.running) return null;
    const au = this.loop.at(this.loopPos);
    if (au) {
      this.loopPos = (this.loopPos + 1) % IDLE_LOOP_FRAMES;
      this.send(frame, au);
    } else if (this.loop.failed) {
      this.needOwnFrames();
    }
    let next = frame + 1;
    if (now - this.clock.dueMs(next) > MAX_LATE_FRAMES * VIDEO_FRAME_MS) next = this.clock.frameAt(now);
    this.next = next;
    return next;
  }

  /**
   * The worker takes over: from the frame after this stream's next (it has just started and needs
   * a moment), or, if this stream is not running, the next frame due. Returns that frame and where
   * the loop's position 0 falls on the session's frames, so the worker continues the idle motion.
   */
  handOver(lastSentFrame: number): { firstFrame: number; idlePhaseFrame: number } {
    const firstFrame = this.running ? Math.max(this.next, this.clock.frameAt() + 1) + 1 : Math.max(lastSentFrame + 1, this.clock.frameAt() + 1, 0);
    const pos = this.running ? this.loopPos + (firstFrame - this.next) : this.loopPos;
    this.running = false;
    this.clock.cancel();
    return { firstFrame, idlePhaseFrame: firstFrame - pos };
  }

  /**
   * Back from the worker: continue after `lastSentFrame`, at the loop's first keyframe at or after
   * the phase the worker was showing (at most 1 s of idle motion skipped).
   */
  resume(lastSentFrame: number, idlePhaseFrame: number): void {
    const first = Math.max(lastSentFrame + 1, this.clock.frameAt() + 1);
    const phase = (((first - idlePhaseFrame) % IDLE_LOOP_FRAMES) + IDLE_LOOP_FRAMES) % IDLE_LOOP_FRAMES;
    this.loopPos = (Math.ceil(phase / VIDEO_FPS) * VIDEO_FPS) % IDLE_LOOP_FRAMES;
    this.start(first);
  }

  stop(): void {
    this.running = false;
    this.clock.stop();
  }
}
