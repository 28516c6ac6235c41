import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Agent } from '../agents/agent.js';
import type { InferencePool } from '../inference/pool.js';
import {
  FRAME_HEIGHT, FRAME_WIDTH, FrameStreamError, FrameStreamErrorCode, connectionEstablished, frameStreamError, newSequenceId,
  parseFrameStreamMessage, streamEnd, streamStart,
} from '../protocol/frame-stream.js';
import type { AvatarPackManifest } from './avatar-pack.js';
import { InvalidAudioError, inspectClientAudio, maxClientAudioBytes, type ClientAudioLimits } from './client-audio.js';
import { VideoWorkerHandle } from './video-worker-handle.js';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_FRAME_MS } from './video-clock.js';
import { DeadlineQueue, wallNowMs } from '../pacing/video-frame-clock.js';
import type { FromVideoWorker } from './worker-protocol.js';

export interface VideoTransport {
  send(data: string | Uint8Array): void;
  bufferedAmount(): number;
  close(code: number, reason: string): void;
}

export interface FrameStreamSessionOptions {
  transport: VideoTransport;
  agent: Agent;
  pool: InferencePool;
  logger: Logger;
  pack: AvatarPackManifest | null;
  /** Unsent bytes beyond which the client is too slow for real time: the session is closed. */
  maxBufferedBytes: number;
  /** Bounds on `audio_input` (FRAME_STREAM_MAX_AUDIO_S). */
  audioLimits: ClientAudioLimits;
  /** 24 kHz samples after each inference window fed to the model with it (INFERENCE_RIGHT_CONTEXT_MS; default 0). */
  rightContextSamples?: number;
}

/** Longest response audio kept for one stream; beyond it the client is told and the rest is cut. */
const MAX_RESPONSE_S = 120;
/** Responses waiting to be streamed; more is an error, never a silent drop. */
const MAX_QUEUED_RESPONSES = 4;

interface Pending {
  text: string;
  input: string;
}

/**
 * One frame-stream connection (PROTOCOL.md §2): text or audio in → the agent answers → the
 * whole response's speech goes to the video worker, which renders JPEG frames; this class sends
 * them on the media clock (absolute deadlines the worker stamped) with stream_start/stream_end.
 *
 * An open connection that has sent nothing holds no thread and no agent connection: the agent
 * is connected on the first input, the video worker started on the first audio to convert or
 * response to render (an idle worker costs ~12 MB and a thread; bench/video-idle-cost.ts).
 */
export class FrameStreamSession {
  readonly id = randomUUID();
  private worker: VideoWorkerHandle | null = null;
  private readonly log: Logger;
  private connected: Promise<void> | null = null;
  private readonly maxAudioBytes: number;
  private closed = false;
  /** Inputs whose answer has not started yet, oldest first (for `original_input`). */
  private readonly inputs: string[] = [];
  private lastUserTranscript = '';
  private response: { chunks: Buffer[]; bytes: number; input: string; truncated: boolean } | null = null;
  private readonly meta = new Map<string, Pending>();
  /** Outgoing messages, sent at the deadlines the worker stamped (they arrive in due order). */
  private readonly outbox = new DeadlineQueue();
  private firstFrameAt = new Map<string, number>();
  private nextInputId = 1;
  private readonly inputWaiters = new Map<number, (pcm: Int16Array | null, error: string | null) => void>();

  constructor(private readonly o: FrameStreamSessionOptions) {
    this.log = o.logger.child({ sessionId: this.id, dialect: 'frame-stream' });
    this.maxAudioBytes = maxClientAudioBytes(o.audioLimits);
    this.bindAgent();
  }

  /** The agent, connected on first use. */
  private agentReady(): Promise<void> {
    if (!this.connected) {
      this.connected = this.o.agent.connect().catch((err: unknown) => {
        this.log.error({ err }, 'agent could not connect');
        this.sendText(frameStreamError('the agent is unavailable', FrameStreamErrorCode.AGENT_UNAVAILABLE));
        throw err;
      });
      this.connected.catch(() => {});
    }
    return this.connected;
  }

  /** The video worker, started on first use. */
  private videoWorker(): VideoWorkerHandle {
    if (!this.worker) {
      this.worker = new VideoWorkerHandle({
        data: {
          mode: 'frame-stream', sessionId: this.id, width: FRAME_WIDTH, height: FRAME_HEIGHT, seed: Math.floor(Math.random() * 1e9),
          jpegQuality: 80, pack: this.o.pack, renderLeadMs: 600, rightContextSamples: this.o.rightContextSamples ?? 0,
        },
        pool: this.o.pool, logger: this.log, onMessage: (m) => this.onWorker(m),
      });
      this.log.info('frame-stream video worker started');
    }
    return this.worker;
  }

  start(): void {
    this.sendText(connectionEstablished(this.id));
    this.log.info('frame-stream session opened');
  }

  private sendText(text: string): void {
    if (!this.closed) this.o.transport.send(text);
  }

  private bindAgent(): void {
    const a = this.o.agent;
    a.on('responseStart', () => {
      this.response = { chunks: [], bytes: 0, input: this.inputs.shift() ?? this.lastUserTranscript, truncated: false };
    });
    a.on('audio', (pcm) => {
      const r = this.response ?? (this.response = { chunks: [], bytes: 0, input: this.inputs.shift() ?? '', truncated: false });
      if (r.bytes + pcm.length > MAX_RESPONSE_S * a.outputSampleRate * 2) {
        if (!r.truncated) this.sendText(frameStreamError(`response longer than ${MAX_RESPONSE_S} s: the rest is not streamed`, FrameStreamErrorCode.RESPONSE_TOO_LONG));
        r.truncated = true;
        return;
      }
      r.chunks.push(pcm);
      r.bytes += pcm.length;
    });
    a.on('userTranscript', ({ text }) => {
      this.lastUserTranscript = text;
    });
    a.on('responseEnd', (info) => {
      const r = this.response ?? { chunks: [], bytes: 0, input: this.inputs.shift() ?? '', truncated: false };
      this.response = null;
      if (this.meta.size >= MAX_QUEUED_RESPONSES) {
        this.sendText(frameStreamError('too many responses queued; this one is not streamed', FrameStreamErrorCode.TOO_MANY_RESPONSES));
        return;
      }
      const sequenceId = newSequenceId();
      this.meta.set(sequenceId, { text: info.transcript, input: r.input });
      const all = Buffer.concat(r.chunks);
      const pcm = new Int16Array(all.length >> 1);
      Buffer.from(pcm.buffer).set(all.subarray(0, pcm.length * 2));
      if (this.closed) return;
      this.videoWorker().post({ type: 'response', sequenceId, pcm, sampleRate: a.outputSampleRate }, [pcm.buffer]);
    });
    a.on('error', (err) => {
      this.sendText(frameStreamError(`agent error: ${err.message}`, FrameStreamErrorCode.AGENT_ERROR));
      if (err.fatal) this.o.transport.close(1011, 'agent failed');
    });
  }

  onMessage(raw: ArrayBuffer, isBinary: boolean): void {
    let msg;
    try {
      msg = parseFrameStreamMessage(raw, isBinary, this.maxAudioBytes);
    } catch (err) {
      if (err instanceof FrameStreamError) return this.sendText(frameStreamError(err.message, err.code));
      throw err;
    }
    if (msg.type === 'text_input') {
      const text = msg.text;
      this.inputs.push(text);
      void this.agentReady().then(() => this.o.agent.sendText(text), () => {});
      return;
    }
    // The header is checked here, before a worker starts or a sample is produced: a hostile
    // header (1 Hz, 255 channels, a size that lies) costs nothing but this answer.
    let format;
    try {
      format = inspectClientAudio(msg.audio, VIDEO_AUDIO_SAMPLE_RATE, this.o.audioLimits);
    } catch (err) {
      if (!(err instanceof InvalidAudioError)) throw err;
      this.log.info({ reason: err.message }, 'audio_input refused');
      return this.sendText(frameStreamError(`audio_input refused: ${err.message}`, FrameStreamErrorCode.INVALID_AUDIO));
    }
    const id = this.nextInputId++;
    const bytes = new Uint8Array(msg.audio.length);
    bytes.set(msg.audio);
    this.inputWaiters.set(id, (pcm, error) => {
      if (!pcm) return this.sendText(frameStreamError(`audio_input could not be read: ${error}`, FrameStreamErrorCode.INVALID_AUDIO));
      this.inputs.push('');
      void this.agentReady().then(() => {
        const a = this.o.agent;
        a.appendAudio(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength));
        a.commitAudio();
      }, () => {});
    });
    this.videoWorker().post({ type: 'convertInput', id, bytes, format, toRate: this.o.agent.inputSampleRate }, [bytes.buffer]);
  }

  private onWorker(m: FromVideoWorker): void {
    if (this.closed) return;
    switch (m.type) {
      case 'convertedInput': {
        const waiter = this.inputWaiters.get(m.id);
        this.inputWaiters.delete(m.id);
        waiter?.(m.pcm, m.error);
        return;
      }
      case 'streamStart': {
        const meta = this.meta.get(m.sequenceId) ?? { text: '', input: '' };
        this.outbox.schedule(m.due, () => {
          this.firstFrameAt.set(m.sequenceId, wallNowMs());
          this.sendText(streamStart(m.sequenceId, meta.text, meta.input, m.totalFrames));
        });
        return;
      }
      case 'frame':
        this.outbox.schedule(m.due, () => this.sendFrame(m.bytes));
        return;
      case 'streamEnd':
        this.outbox.schedule(m.due, () => {
          const started = this.firstFrameAt.get(m.sequenceId) ?? wallNowMs();
          this.firstFrameAt.delete(m.sequenceId);
          this.meta.delete(m.sequenceId);
          // The last frame is shown for its full 40 ms: duration = frames sent × 40 ms as played.
          const actual = m.totalFrames === 0 ? 0 : Math.max(wallNowMs() - started, m.totalFrames * VIDEO_FRAME_MS) / 1000;
          this.sendText(streamEnd(m.sequenceId, m.totalFrames, actual));
        });
        return;
      case 'error':
        this.sendText(frameStreamError(m.message, FrameStreamErrorCode.INTERNAL_ERROR));
        if (m.fatal) this.o.transport.close(1011, 'video renderer failed');
        return;
      default:
        return;
    }
  }

  private sendFrame(bytes: Uint8Array): void {
    if (this.closed) return;
    if (this.o.transport.bufferedAmount() > this.o.maxBufferedBytes) {
      // Frames carry the speech: dropping them would drop audio. A client this far behind real
      // time is told and disconnected instead.
      this.log.warn({ buffered: this.o.transport.bufferedAmount() }, 'frame-stream client too slow; closing');
      this.sendText(frameStreamError('client too slow for the 25 FPS stream; closing', FrameStreamErrorCode.CLIENT_TOO_SLOW));
      this.o.transport.close(1008, 'client too slow');
      return;
    }
    this.o.transport.send(bytes);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.outbox.clear();
    void this.o.agent.disconnect().catch(() => {});
    void this.worker?.stop();
    this.log.info('frame-stream session closed');
  }
}
