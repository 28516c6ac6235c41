/**
 * MuseTalk dialect (PROTOCOL.md §3): envelope `{type, session_id, data}`; client message parsing
 * with the dialect's error codes, server message builders, and JSON schemas for /openapi.json.
 */
export const MUSETALK_USER_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const MUSETALK_PATH_PREFIX = '/musetalk/v1/ws/';
export const MUSETALK_RESOLUTION = '512x512';
export const MUSETALK_SIZE = 512;
/** Largest GENERATE audio chunk accepted (chunks are 40 ms = 1280 bytes; a client may send more). */
export const MUSETALK_MAX_CHUNK_BYTES = 32_000 * 10;

export const MuseTalkErrorCode = {
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  INVALID_SESSION: 'INVALID_SESSION',
  MODEL_NOT_FOUND: 'MODEL_NOT_FOUND',
  PROCESSING_ERROR: 'PROCESSING_ERROR',
  RATE_LIMIT_EXCEEDED: 'RATE_LIMIT_EXCEEDED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type MuseTalkErrorCode = (typeof MuseTalkErrorCode)[keyof typeof MuseTalkErrorCode];

export class MuseTalkError extends Error {
  constructor(readonly code: MuseTalkErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

export const MUSETALK_STATES = ['idle', 'speaking', 'action'] as const;
export type MuseTalkState = (typeof MUSETALK_STATES)[number];

export type MuseTalkClientMessage =
  | { type: 'INIT'; sessionId: unknown; userId: string | null; authToken: string | null }
  | { type: 'GENERATE'; sessionId: unknown; pcm: Buffer; videoState: { state: MuseTalkState; video: string | null } | null }
  | { type: 'STATE_CHANGE'; sessionId: unknown; state: MuseTalkState; video: string | null }
  | { type: 'ACTION'; sessionId: unknown; index: 1 | 2 }
  | { type: 'CLOSE'; sessionId: unknown }
  /** A client answering our PING: activity, nothing else. */
  | { type: 'PONG'; sessionId: unknown };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const invalid = (message: string, details?: Record<string, unknown>) => new MuseTalkError('INVALID_MESSAGE', message, details);
/**
 * Audio outside the dialect's one format. The contract's codes are a closed set, so the code
 * stays INVALID_MESSAGE; `details.reason` says INVALID_AUDIO (docs/video-dialects.md).
 */
const invalidAudio = (field: string, message: string) => invalid(message, { reason: 'INVALID_AUDIO', field });
/** Bytes of PCM16 16 kHz mono per millisecond. */
const BYTES_PER_MS = 32;

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} must be an object`);
  return v as Record<string, unknown>;
}

function state(v: unknown, field: string): MuseTalkState {
  if (typeof v !== 'string' || !(MUSETALK_STATES as readonly string[]).includes(v)) throw invalid(`${field} must be one of ${MUSETALK_STATES.join(', ')}`);
  return v as MuseTalkState;
}

function video(v: unknown, field: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || v.length === 0 || v.length > 200) throw invalid(`${field} must be a video name`);
  return v;
}

export function parseMuseTalkMessage(raw: ArrayBuffer, isBinary: boolean): MuseTalkClientMessage {
  if (isBinary) throw invalid('binary messages are not supported; send JSON text');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw invalid('message is not valid JSON');
  }
  const m = obj(parsed, 'message');
  const sessionId = m.session_id;
  const data = m.data === undefined ? {} : obj(m.data, '"data"');
  switch (m.type) {
    case 'INIT': {
      const vc = data.video_config === undefined ? {} : obj(data.video_config, 'video_config');
      if (vc.resolution !== undefined && vc.resolution !== MUSETALK_RESOLUTION) throw invalid(`video_config.resolution must be "${MUSETALK_RESOLUTION}"`);
      if (vc.fps !== undefined && vc.fps !== 25) throw invalid('video_config.fps must be 25');
      if (data.user_id !== undefined && typeof data.user_id !== 'string') throw invalid('user_id must be a string');
      if (data.auth_token !== undefined && data.auth_token !== null && typeof data.auth_token !== 'string') throw invalid('auth_token must be a string');
      return { type: 'INIT', sessionId, userId: (data.user_id as string | undefined) ?? null, authToken: (data.auth_token as string | undefined) ?? null };
    }
    case 'GENERATE': {
      const a = obj(data.audio_chunk, 'audio_chunk');
      if (a.format !== undefined && a.format !== 'pcm_s16le') throw invalidAudio('format', 'audio_chunk.format must be "pcm_s16le"');
      if (a.sample_rate !== undefined && a.sample_rate !== 16000) throw invalidAudio('sample_rate', 'audio_chunk.sample_rate must be 16000');
      if (a.channels !== undefined && a.channels !== 1) throw invalidAudio('channels', 'audio_chunk.channels must be 1');
      const durationMs = a.duration_ms;
      if (durationMs !== undefined && (typeof durationMs !== 'number' || !Number.isFinite(durationMs) || durationMs <= 0 || durationMs > MUSETALK_MAX_CHUNK_BYTES / BYTES_PER_MS)) {
        throw invalidAudio('duration_ms', `audio_chunk.duration_ms must be a number of milliseconds from 0 to ${MUSETALK_MAX_CHUNK_BYTES / BYTES_PER_MS}`);
      }
      if (typeof a.data !== 'string' || a.data.length === 0) throw invalidAudio('data', 'audio_chunk.data must be base64 PCM16');
      // Refused from its length alone, before the string is scanned or decoded.
      if ((a.data.length / 4) * 3 - 2 > MUSETALK_MAX_CHUNK_BYTES) throw invalidAudio('data', `audio_chunk.data exceeds ${MUSETALK_MAX_CHUNK_BYTES} bytes`);
      if (a.data.length % 4 !== 0 || !BASE64.test(a.data)) throw invalidAudio('data', 'audio_chunk.data is not valid base64');
      const pcm = Buffer.from(a.data, 'base64');
      if (pcm.length % 2 !== 0) throw invalidAudio('data', `PCM16 needs an even number of bytes, got ${pcm.length}`);
      if (pcm.length > MUSETALK_MAX_CHUNK_BYTES) throw invalidAudio('data', `audio_chunk of ${pcm.length} bytes exceeds ${MUSETALK_MAX_CHUNK_BYTES}`);
      // duration_ms, when given, must describe the data (within one sample's rounding).
      if (typeof durationMs === 'number' && Math.abs(durationMs * BYTES_PER_MS - pcm.length) >= BYTES_PER_MS) {
        throw invalidAudio('duration_ms', `audio_chunk.duration_ms ${durationMs} does not match its ${pcm.length} bytes (${pcm.length / BYTES_PER_MS} ms of PCM16 16 kHz mono)`);
      }
      let videoState: { state: MuseTalkState; video: string | null } | null = null;
      if (data.video_state !== undefined && data.video_state !== null) {
        const vs = obj(data.video_state, 'video_state');
        videoState = { state: state(vs.type, 'video_state.type'), video: video(vs.base_video, 'video_state.base_video') };
      }
      return { type: 'GENERATE', sessionId, pcm, videoState };
    }
    case 'STATE_CHANGE':
      return { type: 'STATE_CHANGE', sessionId, state: state(data.target_state, 'target_state'), video: video(data.base_video, 'base_video') };
    case 'ACTION':
      if (data.action_index !== 1 && data.action_index !== 2) throw invalid('action_index must be 1 or 2');
      return { type: 'ACTION', sessionId, index: data.action_index };
    case 'CLOSE':
      return { type: 'CLOSE', sessionId };
    case 'PONG':
      return { type: 'PONG', sessionId };
    default:
      throw invalid(typeof m.type === 'string' ? `unknown message type "${m.type}"` : 'message needs a "type"');
  }
}

export function museTalkMessage(type: string, sessionId: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, session_id: sessionId, data });
}

export function museTalkError(sessionId: string, code: MuseTalkErrorCode, message: string, details?: Record<string, unknown>): string {
  return museTalkMessage('ERROR', sessionId, details ? { code, message, details } : { code, message });
}

const envelope = (type: string, data: object): object => ({
  type: 'object',
  required: ['type', 'session_id', 'data'],
  properties: { type: { const: type }, session_id: { type: 'string', format: 'uuid' }, data },
});
const obj0 = (properties: Record<string, object>, required: string[] = Object.keys(properties)): object => ({ type: 'object', required, properties });
const stateSchema = { type: 'string', enum: [...MUSETALK_STATES] };

/** JSON schemas of the dialect's messages, for /openapi.json components. */
export const museTalkClientSchemas: Record<string, object> = {
  INIT: envelope('INIT', obj0({
    user_id: { type: 'string', pattern: MUSETALK_USER_ID.source },
    auth_token: { type: 'string' },
    video_config: obj0({ resolution: { const: MUSETALK_RESOLUTION }, fps: { const: 25 } }),
  }, ['user_id'])),
  GENERATE: envelope('GENERATE', obj0({
    audio_chunk: obj0({
      format: { const: 'pcm_s16le' }, sample_rate: { const: 16000 }, channels: { const: 1 },
      duration_ms: { type: 'number', exclusiveMinimum: 0, maximum: MUSETALK_MAX_CHUNK_BYTES / BYTES_PER_MS, example: 40, description: 'must match the data: bytes / 32' }, data: { type: 'string', contentEncoding: 'base64', description: 'PCM16 LE mono 16 kHz; 40 ms = 1280 bytes' },
    }, ['data']),
    video_state: obj0({ type: stateSchema, base_video: { type: 'string' } }, ['type']),
  }, ['audio_chunk'])),
  STATE_CHANGE: envelope('STATE_CHANGE', obj0({ target_state: stateSchema, base_video: { type: 'string' } }, ['target_state'])),
  ACTION: envelope('ACTION', obj0({ action_index: { type: 'integer', enum: [1, 2] } })),
  CLOSE: envelope('CLOSE', { type: 'object' }),
};

export const museTalkServerSchemas: Record<string, object> = {
  INIT_SUCCESS: envelope('INIT_SUCCESS', obj0({
    model_loaded: { const: true }, available_videos: { type: 'array', items: { type: 'string' } }, default_video: { type: 'string' }, streaming_started: { const: true },
  })),
  VIDEO_FRAME: envelope('VIDEO_FRAME', obj0({
    frame_data: { type: 'string', contentEncoding: 'base64', description: 'one H.264 Annex-B access unit, 512x512; IDR with SPS/PPS every 25 frames' },
    frame_timestamp: { type: 'integer', description: 'frame number × 40 ms' },
  })),
  STATE_CHANGED: envelope('STATE_CHANGED', obj0({ current_state: stateSchema, current_video: { type: 'string' } })),
  ACTION_TRIGGERED: envelope('ACTION_TRIGGERED', obj0({ action_index: { type: 'integer', enum: [1, 2] }, inserted: { const: true } })),
  CLOSE_ACK: envelope('CLOSE_ACK', obj0({ reason: { type: 'string', enum: ['client_request', 'server_shutdown', 'timeout', 'error'] } })),
  ERROR: envelope('ERROR', obj0({ code: { type: 'string', enum: Object.values(MuseTalkErrorCode) }, message: { type: 'string' }, details: { type: 'object' } }, ['code', 'message'])),
  PING: envelope('PING', { type: 'object' }),
};
