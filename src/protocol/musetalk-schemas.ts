import { MUSETALK_ERROR_CODES } from './error-codes.js';

/**
 * JSON schemas of the MuseTalk dialect (PROTOCOL.md §3), by message type, of the `data` of the
 * envelope `{type, session_id, data}`. Incoming `data` is validated by validators compiled from
 * the client schemas (musetalk.ts); server messages are typed from the server schemas;
 * /openapi.json shows both in their envelope.
 */
export const MUSETALK_RESOLUTION = '512x512';
/** Largest GENERATE audio chunk accepted (chunks are 40 ms = 1280 bytes; a client may send more). */
export const MUSETALK_MAX_CHUNK_BYTES = 32_000 * 10;
/** Bytes of PCM16 16 kHz mono per millisecond. */
export const MUSETALK_BYTES_PER_MS = 32;
export const MUSETALK_STATES = ['idle', 'speaking', 'action'] as const;

const stateSchema = { type: 'string', enum: MUSETALK_STATES } as const;
/** A video name; absent or null: the current one. Lengths in UTF-16 units. */
const videoName = { type: ['string', 'null'], pattern: '^[\\s\\S]{1,200}$', description: 'a video name, 1 to 200 characters' } as const;

export const museTalkClientDataSchemas = {
  INIT: {
    type: 'object',
    properties: {
      video_config: {
        type: 'object',
        properties: { resolution: { const: MUSETALK_RESOLUTION }, fps: { const: 25 } },
      },
      user_id: { type: 'string', description: 'must match the path\'s user_id' },
      auth_token: { type: ['string', 'null'] },
    },
  },
  GENERATE: {
    type: 'object',
    properties: {
      audio_chunk: {
        type: 'object',
        properties: {
          format: { const: 'pcm_s16le' },
          sample_rate: { const: 16000 },
          channels: { const: 1 },
          duration_ms: {
            type: 'number', exclusiveMinimum: 0, maximum: MUSETALK_MAX_CHUNK_BYTES / MUSETALK_BYTES_PER_MS,
            description: 'must match the data: bytes / 32 (40 for the usual chunk)',
          },
          data: {
            type: 'string', contentEncoding: 'base64', base64Bytes: { maxBytes: MUSETALK_MAX_CHUNK_BYTES, multipleOf: 2 },
            description: 'PCM16 LE mono 16 kHz; 40 ms = 1280 bytes',
          },
        },
        required: ['data'],
      },
      video_state: {
        type: ['object', 'null'],
        properties: { type: stateSchema, base_video: videoName },
        required: ['type'],
      },
    },
    required: ['audio_chunk'],
  },
  STATE_CHANGE: {
    type: 'object',
    properties: { target_state: stateSchema, base_video: videoName },
    required: ['target_state'],
  },
  ACTION: {
    type: 'object',
    properties: { action_index: { type: 'integer', enum: [1, 2] } },
    required: ['action_index'],
  },
  CLOSE: { type: 'object' },
  /** A client answering our PING: activity, nothing else. */
  PONG: { type: 'object' },
} as const;

export const museTalkServerDataSchemas = {
  INIT_SUCCESS: {
    type: 'object',
    properties: {
      model_loaded: { const: true }, available_videos: { type: 'array', items: { type: 'string' } },
      default_video: { type: 'string' }, streaming_started: { const: true },
    },
    required: ['model_loaded', 'available_videos', 'default_video', 'streaming_started'],
  },
  VIDEO_FRAME: {
    type: 'object',
    properties: {
      frame_data: { type: 'string', contentEncoding: 'base64', description: 'one H.264 Annex-B access unit, 512x512; IDR with SPS/PPS every 25 frames' },
      frame_timestamp: { type: 'integer', description: 'frame number × 40 ms' },
    },
    required: ['frame_data', 'frame_timestamp'],
  },
  STATE_CHANGED: {
    type: 'object',
    properties: { current_state: stateSchema, current_video: { type: 'string' } },
    required: ['current_state', 'current_video'],
  },
  ACTION_TRIGGERED: {
    type: 'object',
    properties: { action_index: { type: 'integer', enum: [1, 2] }, inserted: { const: true } },
    required: ['action_index', 'inserted'],
  },
  CLOSE_ACK: {
    type: 'object',
    properties: { reason: { type: 'string', enum: ['client_request', 'server_shutdown', 'timeout', 'error'] } },
    required: ['reason'],
  },
  ERROR: {
    type: 'object',
    properties: {
      code: { type: 'string', enum: MUSETALK_ERROR_CODES }, message: { type: 'string' },
      details: { type: 'object', additionalProperties: true },
    },
    required: ['code', 'message'],
  },
  PING: { type: 'object' },
} as const;

/** The whole message: `{type, session_id, data}`. */
export function museTalkEnvelope<T extends string, D extends object>(type: T, data: D) {
  return {
    type: 'object',
    properties: { type: { const: type }, session_id: { type: 'string', format: 'uuid' }, data },
    required: ['type', 'session_id', 'data'],
  } as const;
}

const inEnvelopes = <K extends string>(schemas: Readonly<Record<K, object>>): Record<K, object> =>
  Object.fromEntries(Object.entries<object>(schemas).map(([type, data]) => [type, museTalkEnvelope(type, data)])) as Record<K, object>;

/** Whole messages, for /openapi.json components and the server messages' serializers (musetalk-server.ts). */
export const museTalkClientSchemas = inEnvelopes(museTalkClientDataSchemas);
export const museTalkServerSchemas = inEnvelopes(museTalkServerDataSchemas);
