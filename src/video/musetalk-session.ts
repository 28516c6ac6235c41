import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { InferencePool } from '../inference/pool.js';
import {
  MUSETALK_SIZE, MuseTalkError, museTalkError, museTalkMessage, parseMuseTalkMessage,
  type MuseTalkClientMessage, type MuseTalkErrorCode, type MuseTalkServerData, type MuseTalkServerType, type MuseTalkState,
} from '../protocol/musetalk.js';
import { BUILT_IN_VIDEO, type AvatarPackManifest } from './avatar-pack.js';
import type { VideoTransport } from './frame-stream-session.js';
import { VideoWorkerHandle } from './video-worker-handle.js';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_SAMPLES_PER_FRAME } from './video-clock.js';
import { IDLE_LOOP_SEED, type MuseTalkIdleLoop } from './musetalk-idle-loop.js';
import { MuseTalkIdleStream } from './musetalk-idle-stream.js';
import { videoFrameMessage } from './musetalk-video-frame.js';
import type { FromVideoWorker } from './worker-protocol.js';

export interface MuseTalkSettings {
  idleTimeoutS: number;
  pingIntervalS: number;
  /** Speech queued beyond this (seconds of audio not yet shown) is refused with RATE_LIMIT_EXCEEDED. */
  maxQueuedSpeechS: number;
  maxBufferedBytes: number;
  /** null: no encoder available (INIT answers INTERNAL_ERROR). */
  ffmpegPath: string | null;
  /** A session idle this long (nothing queued, idle state, built-in video) gives its worker and ffmpeg back. */
  releaseWorkerAfterS: number;
  /** 24 kHz samples after each inference window fed to the model with it (INFERENCE_RIGHT_CONTEXT_MS; default 0). */
  rightContextSamples?: number;
}

/** A frame ready to send: the VIDEO_FRAME JSON (text or UTF-8 bytes) and what the drop policy needs. */
interface OutgoingVideoFrame {
  message: string | Uint8Array;
  keyframe: boolean;
  speech: boolean;
}


export interface MuseTalkSessionOptions {
  userId: string;
  transport: VideoTransport;
  pool: InferencePool;
  logger: Logger;
  packs: readonly AvatarPackManifest[];
  settings: MuseTalkSettings;
  /** The shared idle video (null: no encoder available). */
  idleLoop: MuseTalkIdleLoop | null;
  /** Called once the session is over (socket closing). */
  onEnd(): void;
}

export type CloseReason = 'client_request' | 'server_shutdown' | 'timeout' | 'error';

/**
 * One MuseTalk-dialect connection (PROTOCOL.md §3). After INIT it streams 25 FPS H.264
 * continuously: first the shared idle loop, sent from here on the session's media clock (no
 * thread, no encoder, no buffers of its own); from the first GENERATE audio, state, video or
 * action change on, its own video worker (renderer + ffmpeg) takes over the stream at a frame the
 * two agree on, continuing the loop's idle motion, until the session has been idle for
 * `releaseWorkerAfterS`: then the worker is stopped and the loop resumes after its last frame.
 * GENERATE audio becomes lip-synced frames through the shared ONNX pool.
 *
 * Back-pressure policy: when the client's socket falls behind (unsent bytes over a quarter of
 * the limit), idle frames are dropped until the next keyframe (the stream stays decodable);
 * speech frames are always sent. Over the full limit the client is told (RATE_LIMIT_EXCEEDED)
 * and closed. The worker drops idle frames first when the encoder falls behind.
 */
export class MuseTalkSession {
  readonly id = randomUUID();
  private readonly log: Logger;
  private state: MuseTalkState = 'idle';
  private video = BUILT_IN_VIDEO;
  private initialised = false;
  private ended = false;
  /** The idle loop stream, and its media clock (the session's; from INIT). */
  private idle: MuseTalkIdleStream | null = null;
  private idleStarted = false;
  /** The session's own worker, once needed; `active` once it has taken the stream over. */
  private worker: VideoWorkerHandle | null = null;
  private active = false;
  /** A released worker still sending its last frames; a new one's `ready` waits for it. */
  private retiring: VideoWorkerHandle | null = null;
  private readyWhileRetiring = false;
  private releaseTimer: NodeJS.Timeout | null = null;
  private lastSentFrame = -1;
  /** Where the loop's position 0 falls on the session's frames (the worker's idle motion phase). */
  private idlePhaseFrame = 0;
  private idleTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private queuedSpeechSamples = 0;
  private dropping = false;
  droppedClientFrames = 0;
  framesSent = 0;

  constructor(private readonly o: MuseTalkSessionOptions) {
    this.log = o.logger.child({ sessionId: this.id, dialect: 'musetalk', userId: o.userId });
    this.armIdleTimer();
  }

  private get availableVideos(): string[] {
    return [BUILT_IN_VIDEO, ...this.o.packs.map((p) => p.name)];
  }

  private send<T extends MuseTalkServerType>(type: T, data: MuseTalkServerData<T>): void {
    if (!this.ended) this.o.transport.send(museTalkMessage(type, this.id, data));
  }

  private error(code: MuseTalkErrorCode, message: string, details?: Record<string, unknown>): void {
    if (!this.ended) this.o.transport.send(museTalkError(this.id, code, message, details));
  }

  private armIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = setTimeout(() => void this.end('timeout', 1000, 'idle timeout'), this.o.settings.idleTimeoutS * 1000);
  }

  onMessage(raw: ArrayBuffer, isBinary: boolean): void {
    if (this.ended) return;
    this.armIdleTimer();
    let msg: MuseTalkClientMessage;
    try {
      msg = parseMuseTalkMessage(raw, isBinary);
    } catch (err) {
      if (err instanceof MuseTalkError) return this.error(err.code, err.message, err.details);
      throw err;
    }
    if (msg.type === 'INIT') return this.init(msg);
    if (!this.initialised) return this.error('INVALID_SESSION', 'no session yet: send INIT first');
    if (msg.sessionId !== this.id) return this.error('INVALID_SESSION', 'session_id does not match this session', { expected: this.id });
    switch (msg.type) {
      case 'GENERATE':
        if (msg.videoState && !this.applyState(msg.videoState.state, msg.videoState.video)) return;
        return this.generate(msg.pcm);
      case 'STATE_CHANGE':
        this.applyState(msg.state, msg.video);
        return;
      case 'ACTION':
        this.ownWorker().post({ type: 'action', index: msg.index });
        return this.send('ACTION_TRIGGERED', { action_index: msg.index, inserted: true });
      case 'CLOSE':
        void this.end('client_request', 1000, 'closed by client');
        return;
      case 'PONG':
        return;
    }
  }

  /** Over the session's message limit (RATE_LIMIT_MESSAGES_*): told, the message is ignored. */
  refuseRateLimited(): void {
    if (this.ended) return;
    this.armIdleTimer();
    this.error('RATE_LIMIT_EXCEEDED', 'too many messages; this one was ignored');
  }

  private init(msg: Extract<MuseTalkClientMessage, { type: 'INIT' }>): void {
    if (this.initialised) return this.error('INVALID_MESSAGE', 'session already initialised');
    if (msg.userId !== null && msg.userId !== this.o.userId) return this.error('INVALID_MESSAGE', 'user_id does not match the connection path');
    if (!this.o.pool.info) return this.error('MODEL_NOT_FOUND', 'the lip-sync model is not loaded');
    const loop = this.o.idleLoop;
    if (!this.o.settings.ffmpegPath || !loop) return this.error('INTERNAL_ERROR', 'no H.264 encoder (ffmpeg) is available on this server');
    this.initialised = true;
    this.send('INIT_SUCCESS', { model_loaded: true, available_videos: this.availableVideos, default_video: BUILT_IN_VIDEO, streaming_started: true });
    this.pingTimer = setInterval(() => this.send('PING', {}), this.o.settings.pingIntervalS * 1000);
    loop.ensureStarted();
    // Frame 0 is the first frame sent: the stream starts once the loop has one.
    void loop.firstFrame.then(() => {
      if (this.ended || this.active || this.idleStarted) return;
      this.idle = this.idleStream(loop);
      this.idleStarted = true;
      this.idle.start();
    });
    this.log.info('musetalk session started');
  }

  private idleStream(loop: MuseTalkIdleLoop): MuseTalkIdleStream {
    return this.idle ?? new MuseTalkIdleStream(loop, (frame, au) => {
      this.lastSentFrame = frame;
      this.sendVideoFrame({ message: videoFrameMessage(this.id, au.base64, frame), keyframe: au.keyframe, speech: false });
    }, () => this.ownWorker());
  }

  /**
   * The session's own video worker, started on first need. It starts its encoder, says `ready`,
   * and is told the frame to take over from (the idle loop's next but one) and the loop's phase.
   */
  private ownWorker(): VideoWorkerHandle {
    if (this.active) this.armRelease();
    if (this.worker) return this.worker;
    const worker: VideoWorkerHandle = new VideoWorkerHandle({
      data: {
        mode: 'musetalk', sessionId: this.id, width: MUSETALK_SIZE, height: MUSETALK_SIZE, seed: IDLE_LOOP_SEED, pack: null,
        ffmpegPath: this.o.settings.ffmpegPath!, speechStartDelayMs: 80, speechGapMs: 120, rightContextSamples: this.o.settings.rightContextSamples ?? 0,
      },
      pool: this.o.pool, logger: this.log, onMessage: (m) => this.onWorker(m, worker),
    });
    this.worker = worker;
    this.log.info('musetalk video worker started');
    return worker;
  }

  /** The worker is ready: it takes over the stream where the idle loop stream says. */
  private handOver(): void {
    if (this.ended || this.active || !this.worker) return;
    if (this.retiring) {
      this.readyWhileRetiring = true;
      return;
    }
    const idle = this.idleStream(this.o.idleLoop!);
    this.idle = idle;
    const { firstFrame, idlePhaseFrame } = idle.handOver(this.lastSentFrame);
    this.idlePhaseFrame = idlePhaseFrame;
    this.active = true;
    this.worker.post({ type: 'start', clockOriginMs: idle.clock.originMs, firstFrame, idlePhaseFrame });
    this.armRelease();
  }

  private armRelease(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => this.release(), this.o.settings.releaseWorkerAfterS * 1000);
  }

  /** Idle long enough: the worker and its ffmpeg go; the loop resumes after the worker's last frame. */
  private release(): void {
    this.releaseTimer = null;
    const worker = this.worker;
    if (this.ended || !this.active || !worker) return;
    if (this.queuedSpeechSamples > 0 || this.state !== 'idle' || this.video !== BUILT_IN_VIDEO) return this.armRelease();
    this.worker = null;
    this.active = false;
    this.retiring = worker;
    this.log.info('musetalk video worker released');
    void worker.stop().then(() => {
      this.retiring = null;
      if (this.ended) return;
      this.idleStarted = true;
      this.idle!.resume(this.lastSentFrame, this.idlePhaseFrame);
      if (this.readyWhileRetiring) {
        this.readyWhileRetiring = false;
        this.handOver();
      }
    });
  }

  private applyState(state: MuseTalkState, video: string | null): boolean {
    const name = video ?? this.video;
    const pack = name === BUILT_IN_VIDEO ? null : this.o.packs.find((p) => p.name === name);
    if (pack === undefined) {
      this.error('MODEL_NOT_FOUND', `no video "${name}"`, { available_videos: this.availableVideos });
      return false;
    }
    const changed = state !== this.state || name !== this.video;
    this.state = state;
    if (changed) this.ownWorker().post({ type: 'video', pack, state });
    this.video = name;
    this.send('STATE_CHANGED', { current_state: state, current_video: name });
    return true;
  }

  private generate(pcm: Buffer): void {
    const maxSamples = this.o.settings.maxQueuedSpeechS * VIDEO_AUDIO_SAMPLE_RATE;
    if (this.queuedSpeechSamples + pcm.length / 2 > maxSamples) {
      return this.error('RATE_LIMIT_EXCEEDED', 'too much audio queued ahead of the video; this chunk was not accepted', { queued_ms: Math.round(this.queuedSpeechSamples / 16) });
    }
    this.queuedSpeechSamples += pcm.length / 2;
    const samples = new Int16Array(pcm.length / 2);
    Buffer.from(samples.buffer).set(pcm);
    this.ownWorker().post({ type: 'speech', pcm: samples }, [samples.buffer]);
  }

  private onWorker(m: FromVideoWorker, from: VideoWorkerHandle): void {
    // A released worker only still delivers the frames it had encoded.
    if (from !== this.worker && m.type !== 'videoFrame') return;
    switch (m.type) {
      case 'ready':
        return this.handOver();
      case 'videoFrame':
        this.lastSentFrame = Math.max(this.lastSentFrame, m.frame);
        return this.sendVideoFrame({ message: m.bytes, keyframe: m.keyframe, speech: m.speech });
      case 'segmentPlayed':
        this.armRelease();
        this.queuedSpeechSamples = Math.max(0, this.queuedSpeechSamples - m.frames * VIDEO_SAMPLES_PER_FRAME);
        this.log.debug({ firstFrame: m.firstFrame, lastFrame: m.lastFrame, frames: m.frames }, 'musetalk speech segment played');
        return;
      case 'error':
        this.error(m.code === 'MODEL_NOT_FOUND' ? 'MODEL_NOT_FOUND' : m.code === 'INTERNAL_ERROR' ? 'INTERNAL_ERROR' : 'PROCESSING_ERROR', m.message);
        if (m.fatal) void this.end('error', 1011, 'video pipeline failed');
        return;
      case 'stopped':
        if (m.droppedIdleFrames > 0) this.log.info({ droppedIdleFrames: m.droppedIdleFrames }, 'idle frames dropped while the encoder was behind');
        return;
      default:
        return;
    }
  }

  private sendVideoFrame(m: OutgoingVideoFrame): void {
    if (this.ended) return;
    const buffered = this.o.transport.bufferedAmount();
    const limit = this.o.settings.maxBufferedBytes;
    if (buffered > limit) {
      this.log.warn({ buffered }, 'musetalk client too slow; closing');
      this.error('RATE_LIMIT_EXCEEDED', 'client too slow for the 25 FPS stream; closing');
      void this.end('error', 1008, 'client too slow');
      return;
    }
    if (!this.dropping && buffered > limit / 4) this.dropping = true;
    if (this.dropping && m.keyframe && buffered < limit / 8) this.dropping = false;
    if (this.dropping && !m.speech) {
      // Idle frames go first; resuming at a keyframe keeps the stream decodable.
      this.droppedClientFrames++;
      return;
    }
    this.o.transport.send(m.message);
    this.framesSent++;
  }

  /**
   * End the session: CLOSE_ACK with `reason`, close the socket, stop the worker (its ffmpeg is
   * closed, then killed if it lingers). Safe to call more than once and from the socket's close.
   */
  end(reason: CloseReason | null, code = 1000, text = ''): Promise<void> {
    const stopWorkers = () => Promise.all([this.worker?.stop(), this.retiring?.stop()]).then(() => {});
    if (this.ended) return stopWorkers();
    if (reason) this.send('CLOSE_ACK', { reason });
    this.ended = true;
    this.idle?.stop();
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (reason) this.o.transport.close(code, text);
    this.o.onEnd();
    this.log.info({ reason: reason ?? 'disconnect', framesSent: this.framesSent, droppedClientFrames: this.droppedClientFrames }, 'musetalk session ended');
    return stopWorkers();
  }
}

