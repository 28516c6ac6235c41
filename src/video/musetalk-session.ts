import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { InferencePool } from '../inference/pool.js';
import {
  MUSETALK_SIZE, MuseTalkError, museTalkError, museTalkMessage, parseMuseTalkMessage,
  type MuseTalkClientMessage, type MuseTalkErrorCode, type MuseTalkState,
} from '../protocol/musetalk.js';
import { BUILT_IN_VIDEO, type AvatarPackManifest } from './avatar-pack.js';
import type { VideoTransport } from './frame-stream-session.js';
import { VideoWorker } from './video-worker.js';
import { VIDEO_SAMPLES_PER_FRAME } from './video-clock.js';
import type { FromVideoWorker } from './worker-protocol.js';

export interface MuseTalkSettings {
  idleTimeoutS: number;
  pingIntervalS: number;
  /** Speech queued beyond this (seconds of audio not yet shown) is refused with RATE_LIMIT_EXCEEDED. */
  maxQueuedSpeechS: number;
  maxBufferedBytes: number;
  /** null: no encoder available (INIT answers INTERNAL_ERROR). */
  ffmpegPath: string | null;
}

export interface MuseTalkSessionOptions {
  userId: string;
  transport: VideoTransport;
  pool: InferencePool;
  logger: Logger;
  packs: readonly AvatarPackManifest[];
  settings: MuseTalkSettings;
  /** Called once the session is over (socket closing). */
  onEnd(): void;
}

export type CloseReason = 'client_request' | 'server_shutdown' | 'timeout' | 'error';

/**
 * One MuseTalk-dialect connection (PROTOCOL.md §3). After INIT the video worker streams 25 FPS
 * H.264 continuously; GENERATE audio becomes lip-synced frames through the shared ONNX pool.
 *
 * Back-pressure policy: when the client's socket falls behind (unsent bytes over a quarter of
 * the limit), idle frames are dropped until the next keyframe (the stream stays decodable);
 * speech frames are always sent. Over the full limit the client is told (RATE_LIMIT_EXCEEDED)
 * and closed. The worker drops idle frames first when the encoder falls behind.
 */
export class MuseTalkSession {
  readonly id = randomUUID();
  private readonly log: Logger;
  private worker: VideoWorker | null = null;
  private state: MuseTalkState = 'idle';
  private video = BUILT_IN_VIDEO;
  private ended = false;
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

  private send(type: string, data: Record<string, unknown>): void {
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
    if (!this.worker) return this.error('INVALID_SESSION', 'no session yet: send INIT first');
    if (msg.sessionId !== this.id) return this.error('INVALID_SESSION', 'session_id does not match this session', { expected: this.id });
    switch (msg.type) {
      case 'GENERATE':
        if (msg.videoState && !this.applyState(msg.videoState.state, msg.videoState.video)) return;
        return this.generate(msg.pcm);
      case 'STATE_CHANGE':
        this.applyState(msg.state, msg.video);
        return;
      case 'ACTION':
        this.worker.post({ type: 'action', index: msg.index });
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
    if (this.worker) return this.error('INVALID_MESSAGE', 'session already initialised');
    if (msg.userId !== null && msg.userId !== this.o.userId) return this.error('INVALID_MESSAGE', 'user_id does not match the connection path');
    if (!this.o.pool.info) return this.error('MODEL_NOT_FOUND', 'the lip-sync model is not loaded');
    if (!this.o.settings.ffmpegPath) return this.error('INTERNAL_ERROR', 'no H.264 encoder (ffmpeg) is available on this server');
    this.worker = new VideoWorker({
      mode: 'musetalk', sessionId: this.id, width: MUSETALK_SIZE, height: MUSETALK_SIZE, seed: Math.floor(Math.random() * 1e9),
      jpegQuality: 0, ffmpegPath: this.o.settings.ffmpegPath, pack: null, renderLeadMs: 0, speechStartDelayMs: 80, speechGapMs: 120,
      pool: this.o.pool, logger: this.log, onMessage: (m) => this.onWorker(m),
    });
    this.send('INIT_SUCCESS', { model_loaded: true, available_videos: this.availableVideos, default_video: BUILT_IN_VIDEO, streaming_started: true });
    this.pingTimer = setInterval(() => this.send('PING', {}), this.o.settings.pingIntervalS * 1000);
    this.log.info('musetalk session started');
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
    if (name !== this.video || changed) this.worker!.post({ type: 'video', pack, state });
    this.video = name;
    this.send('STATE_CHANGED', { current_state: state, current_video: name });
    return true;
  }

  private generate(pcm: Buffer): void {
    const maxSamples = this.o.settings.maxQueuedSpeechS * 16_000;
    if (this.queuedSpeechSamples + pcm.length / 2 > maxSamples) {
      return this.error('RATE_LIMIT_EXCEEDED', 'too much audio queued ahead of the video; this chunk was not accepted', { queued_ms: Math.round(this.queuedSpeechSamples / 16) });
    }
    this.queuedSpeechSamples += pcm.length / 2;
    const samples = new Int16Array(pcm.length / 2);
    Buffer.from(samples.buffer).set(pcm);
    this.worker!.post({ type: 'speech', pcm: samples }, [samples.buffer]);
  }

  private onWorker(m: FromVideoWorker): void {
    switch (m.type) {
      case 'videoFrame':
        return this.sendVideoFrame(m);
      case 'segmentPlayed':
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

  private sendVideoFrame(m: Extract<FromVideoWorker, { type: 'videoFrame' }>): void {
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
    this.o.transport.send(m.bytes);
    this.framesSent++;
  }

  /**
   * End the session: CLOSE_ACK with `reason`, close the socket, stop the worker (its ffmpeg is
   * closed, then killed if it lingers). Safe to call more than once and from the socket's close.
   */
  end(reason: CloseReason | null, code = 1000, text = ''): Promise<void> {
    if (this.ended) return this.worker?.stop() ?? Promise.resolve();
    if (reason) this.send('CLOSE_ACK', { reason });
    this.ended = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (reason) this.o.transport.close(code, text);
    this.o.onEnd();
    this.log.info({ reason: reason ?? 'disconnect', framesSent: this.framesSent, droppedClientFrames: this.droppedClientFrames }, 'musetalk session ended');
    return this.worker?.stop() ?? Promise.resolve();
  }
}

