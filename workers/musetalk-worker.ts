/**
 * MuseTalk video worker (PROTOCOL.md §3), started for a session only once it needs its own
 * pictures (first GENERATE audio, a state, video or action change); until then the main thread
 * streams the shared idle loop. From `start` on it runs the session's 25 FPS media clock: speech
 * → inference windows (run by the main thread's ONNX pool) → blendshape frames → rendered avatar
 * → its own persistent ffmpeg (H.264) → finished VIDEO_FRAME messages (JSON bytes).
 * All state lives in one MuseTalkWorker per thread.
 */
import { VideoWorkerBase, runVideoWorker } from './video-worker-base.js';
import { H264Encoder } from '../src/video/h264-encoder.js';
import { isKeyframe } from '../src/video/annexb.js';
import { IDLE_LOOP_S } from '../src/video/idle-motion.js';
import { videoFrameMessage } from '../src/video/musetalk-video-frame.js';
import { VIDEO_FRAME_MS, VIDEO_FPS } from '../src/video/video-clock.js';
import { VideoFrameClock } from '../src/pacing/video-frame-clock.js';
import type { MuseTalkWorkerData, ToVideoWorker } from '../src/video/worker-protocol.js';

/**
 * Idle frames are drawn on every IDLE_DRAW_EVERY-th tick; the ticks between repeat the last
 * picture. Idle motion is slow (breathing, sway, blinks of ~160 ms), and a repeated picture is
 * nearly free for libx264 (all-skip P-frame) and free for the canvas. Speech frames are always drawn.
 */
const IDLE_DRAW_EVERY = 2;
/** Late by more than this many frames (a stalled thread): idle frames are skipped to catch up. */
const MAX_LATE_FRAMES = 5;
const LOOP_FRAMES = IDLE_LOOP_S * VIDEO_FPS;

export class MuseTalkWorker extends VideoWorkerBase<MuseTalkWorkerData> {
  /** The session's media clock, from `start` (the main thread's, continued). */
  private clock: VideoFrameClock | null = null;
  /** An ACTION that came before `start`: it begins with the first frame. */
  private pendingAction: number | null = null;
  private encoder: H264Encoder | null = null;
  private idlePhaseFrame = 0;
  private gapTimer: NodeJS.Timeout | null = null;
  private playing = false;
  private firstReadyAt = 0;
  private segmentFirstFrame = -1;
  private segmentFrames = 0;
  private droppedIdleFrames = 0;
  private lastIdlePicture: Uint8ClampedArray | null = null;
  private lastFrame = 0;

  /** The encoder starts with the worker, so it is warm when the main thread hands over. */
  startEncoder(): void {
    const sessionId = this.data.sessionId;
    this.encoder = new H264Encoder({
      ffmpegPath: this.data.ffmpegPath,
      width: this.data.width,
      height: this.data.height,
      onFrame: ({ au, frame, speech }) => {
        const bytes = Buffer.from(videoFrameMessage(sessionId, au.toString('base64'), frame), 'utf8');
        const copy = new Uint8Array(bytes.length);
        copy.set(bytes);
        this.post({ type: 'videoFrame', bytes: copy, frame, keyframe: isKeyframe(au), speech }, [copy.buffer]);
      },
      onFailure: (err) => this.post({ type: 'error', code: 'PROCESSING_ERROR', message: `video encoder failed: ${err.message}`, fatal: true }),
    });
    this.post({ type: 'ready', ffmpegPid: this.encoder.pid ?? null });
  }

  override onMessage(msg: ToVideoWorker): void {
    switch (msg.type) {
      case 'start': {
        if (this.clock || this.stopping) return;
        this.idlePhaseFrame = msg.idlePhaseFrame;
        const clock = new VideoFrameClock(VIDEO_FRAME_MS, msg.clockOriginMs);
        this.clock = clock;
        if (this.pendingAction !== null) this.renderer.triggerAction(this.pendingAction, (msg.firstFrame * VIDEO_FRAME_MS) / 1000);
        return clock.run(msg.firstFrame, (frame, now) => this.tick(clock, frame, now));
      }
      case 'speech':
        return this.onSpeech(msg.pcm);
      case 'weights':
        return this.onWeights(msg.id, msg.weights, msg.frameCount);
      case 'video':
        this.renderer.setState(msg.state);
        void this.renderer.usePack(msg.pack).catch((err: Error) => this.post({ type: 'error', code: 'MODEL_NOT_FOUND', message: `avatar could not be loaded: ${err.message}`, fatal: false }));
        return;
      case 'action':
        if (!this.clock) this.pendingAction = msg.index;
        else this.renderer.triggerAction(msg.index, (Math.max(this.lastFrame, this.clock.frameAt()) * VIDEO_FRAME_MS) / 1000);
        return;
      case 'stop':
        return void this.stop();
      default:
        return;
    }
  }

  /** Seconds into the idle loop at `frame`: the same phase as the loop the main thread sent. */
  private idleT(frame: number): number {
    const k = (((frame - this.idlePhaseFrame) % LOOP_FRAMES) + LOOP_FRAMES) % LOOP_FRAMES;
    return (k * VIDEO_FRAME_MS) / 1000;
  }

  /** One tick of the media clock: render frame `frame` and hand it to the encoder; returns the next frame. */
  private tick(clock: VideoFrameClock, first: number, now: number): number {
    let frame = first;
    while (now - clock.dueMs(frame) > MAX_LATE_FRAMES * VIDEO_FRAME_MS && !this.speechDue(now)) {
      frame++;
      this.droppedIdleFrames++;
    }
    this.lastFrame = frame;
    const encoder = this.encoder!;
    const t = (frame * VIDEO_FRAME_MS) / 1000;
    if (this.nextSpeechFrame(now, frame)) {
      this.renderer.draw({ weights: this.weights, t, idleT: this.idleT(frame) });
      encoder.write(this.renderer.rgba(), frame, true);
      this.lastIdlePicture = null;
    } else if (!encoder.behind) {
      if (!this.lastIdlePicture || frame % IDLE_DRAW_EVERY === 0) {
        this.renderer.draw({ weights: null, t, idleT: this.idleT(frame) });
        this.lastIdlePicture = this.renderer.rgba();
      }
      // The renderer hands out a fresh buffer per picture, so repeating one is safe.
      encoder.write(this.lastIdlePicture, frame, false);
    } else {
      this.droppedIdleFrames++; // the encoder is behind: idle frames go first, speech frames never
    }
    return frame + 1;
  }

  /** Whether a speech frame would play now (so a catch-up never skips speech). */
  private speechDue(now: number): boolean {
    return this.playing || this.startCondition(now);
  }

  private startCondition(now: number): boolean {
    const ready = this.track.readyFrames();
    if (ready === 0) return false;
    if (this.firstReadyAt === 0) this.firstReadyAt = now;
    // Everything queued is ready (a burst, or the end of speech), or enough waited to ride out
    // the next window's inference without a gap.
    return ready >= this.track.queuedFrames || now - this.firstReadyAt >= this.data.speechStartDelayMs;
  }

  private nextSpeechFrame(now: number, frame: number): boolean {
    if (!this.playing && this.startCondition(now)) this.playing = true;
    if (!this.playing) return false;
    const got = this.track.take(this.weights);
    if (!got) {
      this.playing = false; // starved mid-speech: rebuffer (idle frames fill in)
      this.firstReadyAt = 0;
      return false;
    }
    if (this.segmentFirstFrame < 0) this.segmentFirstFrame = frame;
    this.segmentFrames++;
    if (got.last) {
      this.post({ type: 'segmentPlayed', firstFrame: this.segmentFirstFrame, lastFrame: frame, frames: this.segmentFrames });
      this.segmentFirstFrame = -1;
      this.segmentFrames = 0;
      this.playing = false;
      this.firstReadyAt = 0;
    }
    this.pumpWindows();
    return true;
  }

  private onSpeech(pcm: Int16Array): void {
    this.track.append(pcm);
    if (this.gapTimer) clearTimeout(this.gapTimer);
    this.gapTimer = setTimeout(() => {
      this.gapTimer = null;
      this.track.end();
      this.pumpWindows();
    }, this.data.speechGapMs);
    this.pumpWindows();
  }

  private async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.clock?.stop();
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.encoder) await this.encoder.close(500);
    this.post({ type: 'stopped', droppedIdleFrames: this.droppedIdleFrames });
    this.closePort();
  }
}

const worker = await runVideoWorker<MuseTalkWorkerData, MuseTalkWorker>('musetalk', (data, port, renderer) => new MuseTalkWorker(data, port, renderer));
worker?.startEncoder();
