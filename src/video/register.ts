import { createRequire } from 'node:module';
import { accessSync, constants } from 'node:fs';
import type { Logger } from 'pino';
import type { HttpResponse, HttpRequest, TemplatedApp, WebSocket } from 'uWebSockets.js';
import { uWS } from '../server/uws.js';
import type { Config } from '../config/config.js';
import type { InferencePool } from '../inference/pool.js';
import type { Agent } from '../agents/agent.js';
import { randomUUID } from 'node:crypto';
import { FRAME_STREAM_MAX_MESSAGE_BYTES, FrameStreamErrorCode, frameStreamError } from '../protocol/frame-stream.js';
import { MUSETALK_PATH_PREFIX, MUSETALK_USER_ID, MUSETALK_MAX_CHUNK_BYTES, MUSETALK_SIZE, museTalkError } from '../protocol/musetalk.js';
import { SendStatus, maxBackpressureFor, payloadCeilingFor, uwsForcedCloseCause } from '../server/socket-limits.js';
import type { Admission, Refusal } from '../server/admission.js';
import type { TokenBucket } from '../server/rate-limit.js';
import { listAvatarPacks, type AvatarPackManifest } from './avatar-pack.js';
import { FrameStreamSession, type VideoTransport } from './frame-stream-session.js';
import { MuseTalkSession } from './musetalk-session.js';
import { killAllEncoders } from './video-worker-handle.js';
import { OUTPUT_SAMPLE_RATE } from '../audio/constants.js';
import { IDLE_LOOP_SEED, MuseTalkIdleLoop } from './musetalk-idle-loop.js';

/** What the video dialects need from the server (a subset of ServerDeps). */
export interface VideoDialectDeps {
  config: Config;
  logger: Logger;
  pool: InferencePool;
  createAgent(): Agent;
  /** The server's one admission (connection limits, auth, the MAX_SESSIONS count, message limits). */
  admission: Admission;
}

export interface VideoDialects {
  /** Sessions open now, by dialect. */
  readonly sessions: { frameStream: number; museTalk: number };
  /** Both dialects together, for the server's one session count. */
  readonly openSessions: number;
  /** Server shutdown: MuseTalk sessions get CLOSE_ACK server_shutdown, every encoder is stopped. */
  close(): Promise<void>;
}

interface SocketData {
  open: boolean;
  userId: string | null;
  frameStream: FrameStreamSession | null;
  museTalk: MuseTalkSession | null;
  /** Refused at upgrade (auth, rate limit, capacity): closed with this right after opening. */
  reject: Refusal | null;
  /** RATE_LIMIT_MESSAGES_* (frame-stream) or MUSETALK_RATE_LIMIT_MESSAGES_* (MuseTalk). */
  messages: TokenBucket;
}

/** The ffmpeg shipped inside @ffmpeg-installer/ffmpeg (libx264 included), or null if unusable. */
export function bundledFfmpegPath(logger: Logger): string | null {
  try {
    const path = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
    accessSync(path, constants.X_OK);
    return path;
  } catch (err) {
    logger.error({ err }, 'no usable ffmpeg from @ffmpeg-installer/ffmpeg: the MuseTalk dialect cannot encode video');
    return null;
  }
}

/** A MuseTalk session idle this long gives its own worker and ffmpeg back (the shared idle loop resumes). */
const MUSETALK_RELEASE_WORKER_AFTER_S = 10;

/** A MuseTalk message (GENERATE carries at most 320 kB of PCM, ~427 kB in base64). */
const MUSETALK_MAX_MESSAGE_BYTES = Math.max(1 << 20, MUSETALK_MAX_CHUNK_BYTES * 2);

function transportOf(ws: WebSocket<SocketData>, logger: Logger): VideoTransport {
  const data = ws.getUserData();
  return {
    send: (msg) => {
      // Every message is a JSON text frame (PROTOCOL.md), also the frames built as UTF-8 bytes.
      if (!data.open || ws.send(msg, false) !== SendStatus.DROPPED) return;
      // Never a silent gap in the stream: the slow-client policy closes with a reason.
      logger.warn({ buffered: ws.getBufferedAmount() }, 'video client too slow; closing session');
      data.open = false;
      ws.end(1008, 'client too slow');
    },
    bufferedAmount: () => (data.open ? ws.getBufferedAmount() : 0),
    close: (code, reason) => {
      if (!data.open) return;
      data.open = false;
      ws.end(code, reason);
    },
  };
}

/**
 * Registers the two video dialects: the frame-stream server on `/` (PROTOCOL.md §2) and the
 * MuseTalk service on `/musetalk/v1/ws/{user_id}` (§3). Must be called before the routes that
 * answer plain `GET /` (the demo page): uWS offers a request to handlers in registration order,
 * and a WebSocket route passes plain GETs on to the next handler.
 */
export function registerVideoDialects(app: TemplatedApp, deps: VideoDialectDeps): VideoDialects {
  const { config, logger, pool, admission } = deps;
  const video = config.video;
  // 24 kHz samples; the speech track cuts what it reads to whole 3-sample steps itself.
  const rightContextSamples = Math.floor((config.rightContextMs * OUTPUT_SAMPLE_RATE) / 1000);
  const packs: AvatarPackManifest[] = listAvatarPacks(video.avatarPacksDir, (dir, err) => logger.error({ dir, err: err.message }, 'avatar pack skipped'));
  if (packs.length) logger.info({ packs: packs.map((p) => p.name) }, 'avatar packs loaded');
  const ffmpegPath = bundledFfmpegPath(logger);
  // Encoded on the first MuseTalk INIT, shared by every idle MuseTalk session.
  const idleLoop = ffmpegPath ? new MuseTalkIdleLoop({ ffmpegPath, width: MUSETALK_SIZE, height: MUSETALK_SIZE, seed: IDLE_LOOP_SEED, logger }) : null;
  const frameStreams = new Map<FrameStreamSession, WebSocket<SocketData>>();
  const museTalks = new Set<MuseTalkSession>();
  /** VIDEO_MAX_SESSIONS: an idle MuseTalk session alone streams and encodes continuously. */
  const videoSessionsFull = (): boolean => {
    if (frameStreams.size + museTalks.size < video.maxSessions) return false;
    logger.warn({ limit: video.maxSessions }, 'video session refused: VIDEO_MAX_SESSIONS reached');
    return true;
  };
  const VIDEO_FULL = `the server is at its video session limit (${video.maxSessions}); try again later`;
  const blank = (res: HttpResponse, req: HttpRequest, dialect: 'frame-stream' | 'musetalk'): SocketData => ({
    open: true, userId: null, frameStream: null, museTalk: null,
    reject: admission.check(res, req), messages: admission.messageBucket(dialect),
  });
  /** A message above the dialect's limit: answered, then closed with 1009 (never uWS's silent drop). */
  const tooBig = (ws: WebSocket<SocketData>, bytes: number, limit: number, error: () => string): boolean => {
    if (bytes <= limit) return false;
    const data = ws.getUserData();
    if (!data.open) return true;
    ws.send(error(), false);
    data.open = false;
    ws.end(1009, 'message too big');
    return true;
  };
  const logForcedClose = (code: number, message: ArrayBuffer): void => {
    const cause = uwsForcedCloseCause(code, message);
    if (cause) logger.warn({ cause }, 'video client sent a frame the socket library refuses; it dropped the connection (1006)');
  };
  /**
   * Close a refused connection, told in the dialect's own error message where it has one;
   * true when it was refused. `tell` returns that message, or null for a bare close.
   */
  const refused = (ws: WebSocket<SocketData>, tell: (r: Refusal) => string | null): boolean => {
    const data = ws.getUserData();
    if (!data.reject) return false;
    data.open = false;
    logger.info(data.reject, 'video connection refused');
    const message = tell(data.reject);
    if (message) ws.send(message, false);
    ws.end(data.reject.code, data.reject.reason);
    return true;
  };

  app.ws<SocketData>('/', {
    compression: uWS.DISABLED,
    maxPayloadLength: payloadCeilingFor(FRAME_STREAM_MAX_MESSAGE_BYTES),
    idleTimeout: Math.max(8, Math.round(video.frameStreamIdleTimeoutS / 4) * 4),
    sendPingsAutomatically: true,
    maxBackpressure: maxBackpressureFor(config.maxBufferedBytes),
    upgrade: (res, req, context) => {
      res.upgrade<SocketData>(blank(res, req, 'frame-stream'), req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      if (refused(ws, (r) => (r.errorCode ? frameStreamError(r.reason, r.errorCode) : null))) return;
      if (videoSessionsFull()) {
        ws.getUserData().open = false;
        ws.send(frameStreamError(VIDEO_FULL, FrameStreamErrorCode.SERVER_BUSY), false);
        ws.end(1013, 'video session limit reached');
        return;
      }
      const session = new FrameStreamSession({
        transport: transportOf(ws, logger), agent: deps.createAgent(), pool, logger, pack: packs.find((p) => p.name === video.defaultVideo) ?? null,
        maxBufferedBytes: config.maxBufferedBytes, audioLimits: { maxDurationS: video.frameStreamMaxAudioS }, rightContextSamples,
      });
      ws.getUserData().frameStream = session;
      frameStreams.set(session, ws);
      session.start();
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      const session = data.frameStream;
      if (!session || !data.open) return;
      if (!data.messages.take()) {
        // As on /ws: a flood is told and closed.
        ws.send(frameStreamError('too many messages; closing this connection', FrameStreamErrorCode.RATE_LIMITED), false);
        data.open = false;
        ws.end(1008, 'rate limit exceeded');
        return;
      }
      const limitMb = FRAME_STREAM_MAX_MESSAGE_BYTES / (1 << 20);
      if (tooBig(ws, message.byteLength, FRAME_STREAM_MAX_MESSAGE_BYTES, () => frameStreamError(`message of ${message.byteLength} bytes exceeds the ${limitMb} MB limit`, FrameStreamErrorCode.MESSAGE_TOO_LARGE))) return;
      try {
        session.onMessage(message, isBinary);
      } catch (err) {
        logger.error({ err }, 'frame-stream message handling failed');
        ws.send(frameStreamError('the server could not handle this message', FrameStreamErrorCode.INTERNAL_ERROR), false);
      }
    },
    close: (ws, code, message) => {
      logForcedClose(code, message);
      const data = ws.getUserData();
      data.open = false;
      if (data.frameStream) {
        frameStreams.delete(data.frameStream);
        data.frameStream.close();
      }
    },
  });

  app.ws<SocketData>(`${MUSETALK_PATH_PREFIX}*`, {
    compression: uWS.DISABLED,
    maxPayloadLength: payloadCeilingFor(MUSETALK_MAX_MESSAGE_BYTES),
    // The application-level idle timeout (300 s) is ours; uWS only detects dead peers (it pings).
    idleTimeout: 120,
    sendPingsAutomatically: true,
    maxBackpressure: maxBackpressureFor(config.maxBufferedBytes),
    upgrade: (res, req, context) => {
      const rest = req.getUrl().slice(MUSETALK_PATH_PREFIX.length);
      const data = blank(res, req, 'musetalk');
      data.userId = MUSETALK_USER_ID.test(rest) ? rest : null;
      res.upgrade<SocketData>(data, req.getHeader('sec-websocket-key'), req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'), context);
    },
    open: (ws) => {
      // The dialect's one code for "too much" is RATE_LIMIT_EXCEEDED; a refused connection attempt
      // (limits, auth) is closed bare, as the MuseTalk service says nothing until spoken to.
      // No session yet: a fresh id keeps the envelope valid for strict clients.
      if (refused(ws, (r) => (r.errorCode === 'SERVER_BUSY' ? museTalkError(randomUUID(), 'RATE_LIMIT_EXCEEDED', r.reason) : null))) return;
      const data = ws.getUserData();
      if (data.userId === null) {
        data.open = false;
        ws.end(1003, 'invalid user_id');
        return;
      }
      if (videoSessionsFull()) {
        data.open = false;
        // No session yet: a fresh id keeps the envelope valid for strict clients.
        ws.send(museTalkError(randomUUID(), 'RATE_LIMIT_EXCEEDED', VIDEO_FULL), false);
        ws.end(1013, 'video session limit reached');
        return;
      }
      const session: MuseTalkSession = new MuseTalkSession({
        userId: data.userId, transport: transportOf(ws, logger), pool, logger, packs,
        settings: {
          idleTimeoutS: video.museTalkIdleTimeoutS, pingIntervalS: video.museTalkPingIntervalS, maxQueuedSpeechS: 60,
          maxBufferedBytes: config.maxBufferedBytes, ffmpegPath, releaseWorkerAfterS: MUSETALK_RELEASE_WORKER_AFTER_S, rightContextSamples,
        },
        idleLoop,
        onEnd: () => museTalks.delete(session),
      });
      data.museTalk = session;
      museTalks.add(session);
    },
    message: (ws, message, isBinary) => {
      const data = ws.getUserData();
      const session = data.museTalk;
      if (!session || !data.open) return;
      // The dialect's own answer to a flood: this message is ignored, the session stays.
      if (!data.messages.take()) return session.refuseRateLimited();
      const error = () => museTalkError(session.id, 'INVALID_MESSAGE', `message of ${message.byteLength} bytes exceeds the ${MUSETALK_MAX_MESSAGE_BYTES}-byte limit`);
      if (tooBig(ws, message.byteLength, MUSETALK_MAX_MESSAGE_BYTES, error)) return;
      try {
        session.onMessage(message, isBinary);
      } catch (err) {
        logger.error({ err }, 'musetalk message handling failed');
        ws.send(museTalkError(session.id, 'INTERNAL_ERROR', 'the server could not handle this message'), false);
      }
    },
    close: (ws, code, message) => {
      logForcedClose(code, message);
      const data = ws.getUserData();
      data.open = false;
      void data.museTalk?.end(null);
    },
  });

  return {
    get sessions() {
      return { frameStream: frameStreams.size, museTalk: museTalks.size };
    },
    get openSessions() {
      return frameStreams.size + museTalks.size;
    },
    async close() {
      const stops = [...museTalks].map((s) => s.end('server_shutdown', 1001, 'server shutting down'));
      for (const [s, ws] of frameStreams) {
        s.close();
        const data = ws.getUserData();
        if (data.open) {
          data.open = false;
          ws.end(1001, 'server shutting down');
        }
      }
      idleLoop?.stop();
      await Promise.race([Promise.all(stops), new Promise((r) => setTimeout(r, 3000))]);
      killAllEncoders();
    },
  };
}
