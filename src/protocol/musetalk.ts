import { ErrorCode, type MuseTalkErrorCode } from './error-codes.js';
import { base64ByteLength, compileValidator, compileValidators, firstError, parseJson, type FieldError } from './message-validator.js';
import {
  MUSETALK_BYTES_PER_MS, MUSETALK_MAX_CHUNK_BYTES, MUSETALK_RESOLUTION, MUSETALK_STATES, museTalkClientDataSchemas,
} from './musetalk-schemas.js';
import type { FromSchema } from './schema-types.js';

export { MUSETALK_MAX_CHUNK_BYTES, MUSETALK_RESOLUTION, MUSETALK_STATES, museTalkClientSchemas, museTalkServerSchemas } from './musetalk-schemas.js';
export type { MuseTalkErrorCode } from './error-codes.js';
export { museTalkError, museTalkMessage, type MuseTalkServerData, type MuseTalkServerType } from './musetalk-server.js';

/**
 * MuseTalk dialect (PROTOCOL.md §3): envelope `{type, session_id, data}`; client message parsing
 * by validators compiled from musetalk-schemas.ts, with the dialect's error codes; the server
 * message builders (musetalk-server.ts, re-exported here) are typed by the server schemas and
 * serialized by serializers compiled from them.
 */
export const MUSETALK_USER_ID = /^[a-zA-Z0-9_-]{1,64}$/;
export const MUSETALK_PATH_PREFIX = '/musetalk/v1/ws/';
export const MUSETALK_SIZE = 512;

export class MuseTalkError extends Error {
  constructor(readonly code: MuseTalkErrorCode, message: string, readonly details?: Record<string, unknown>) {
    super(message);
  }
}

export type MuseTalkState = (typeof MUSETALK_STATES)[number];

export type MuseTalkClientMessage =
  | { type: 'INIT'; sessionId: unknown; userId: string | null; authToken: string | null }
  | { type: 'GENERATE'; sessionId: unknown; pcm: Buffer; videoState: { state: MuseTalkState; video: string | null } | null }
  | { type: 'STATE_CHANGE'; sessionId: unknown; state: MuseTalkState; video: string | null }
  | { type: 'ACTION'; sessionId: unknown; index: 1 | 2 }
  | { type: 'CLOSE'; sessionId: unknown }
  /** A client answering our PING: activity, nothing else. */
  | { type: 'PONG'; sessionId: unknown };

const invalid = (message: string, details?: Record<string, unknown>) => new MuseTalkError(ErrorCode.INVALID_MESSAGE, message, details);
/**
 * Audio outside the dialect's one format. The contract's codes are a closed set, so the code
 * stays INVALID_MESSAGE; `details.reason` says INVALID_AUDIO (docs/video-dialects.md).
 */
const invalidAudio = (field: string, message: string) => invalid(message, { reason: ErrorCode.INVALID_AUDIO, field });

const envelope = compileValidator({ type: 'object', properties: { data: { type: 'object' } } });
const validators = compileValidators(museTalkClientDataSchemas);

const states = MUSETALK_STATES.join(', ');
const MAX_DURATION_MS = MUSETALK_MAX_CHUNK_BYTES / MUSETALK_BYTES_PER_MS;
function audioDataProblem(e: FieldError): MuseTalkError {
  switch (e.base64) {
    case 'tooLong': return invalidAudio('data', `audio_chunk.data exceeds ${MUSETALK_MAX_CHUNK_BYTES} bytes`);
    case 'notBase64': return invalidAudio('data', 'audio_chunk.data is not valid base64');
    case 'badByteCount': return invalidAudio('data', `PCM16 needs an even number of bytes, got ${base64ByteLength(e.value as string)}`);
    default: return invalidAudio('data', 'audio_chunk.data must be base64 PCM16');
  }
}

/** What each field's failure is called, in the order the fields are checked (the first is reported). */
const PROBLEMS: ReadonlyArray<readonly [path: string, problem: (e: FieldError) => MuseTalkError]> = [
  ['/video_config', () => invalid('video_config must be an object')],
  ['/video_config/resolution', () => invalid(`video_config.resolution must be "${MUSETALK_RESOLUTION}"`)],
  ['/video_config/fps', () => invalid('video_config.fps must be 25')],
  ['/user_id', () => invalid('user_id must be a string')],
  ['/auth_token', () => invalid('auth_token must be a string')],
  ['/audio_chunk', () => invalid('audio_chunk must be an object')],
  ['/audio_chunk/format', () => invalidAudio('format', 'audio_chunk.format must be "pcm_s16le"')],
  ['/audio_chunk/sample_rate', () => invalidAudio('sample_rate', 'audio_chunk.sample_rate must be 16000')],
  ['/audio_chunk/channels', () => invalidAudio('channels', 'audio_chunk.channels must be 1')],
  ['/audio_chunk/duration_ms', () => invalidAudio('duration_ms', `audio_chunk.duration_ms must be a number of milliseconds from 0 to ${MAX_DURATION_MS}`)],
  ['/audio_chunk/data', audioDataProblem],
  ['/video_state', () => invalid('video_state must be an object')],
  ['/video_state/type', () => invalid(`video_state.type must be one of ${states}`)],
  ['/video_state/base_video', () => invalid('video_state.base_video must be a video name')],
  ['/target_state', () => invalid(`target_state must be one of ${states}`)],
  ['/base_video', () => invalid('base_video must be a video name')],
  ['/action_index', () => invalid('action_index must be 1 or 2')],
];
const ORDER = PROBLEMS.map(([path]) => path);
const problemOf = new Map(PROBLEMS);

type ClientData<T extends keyof typeof museTalkClientDataSchemas> = FromSchema<(typeof museTalkClientDataSchemas)[T]>;

export function parseMuseTalkMessage(raw: ArrayBuffer, isBinary: boolean): MuseTalkClientMessage {
  if (isBinary) throw invalid('binary messages are not supported; send JSON text');
  const json = parseJson(raw);
  if (!json.ok) throw invalid('message is not valid JSON');
  const m = json.value as Record<string, unknown>;
  if (!envelope(m)) throw invalid(firstError(envelope.errors, ['']).path === '' ? 'message must be an object' : '"data" must be an object');
  const sessionId = m.session_id;
  const data = m.data ?? {};
  const validate = typeof m.type === 'string' ? validators.get(m.type) : undefined;
  if (!validate) throw invalid(typeof m.type === 'string' ? `unknown message type "${m.type}"` : 'message needs a "type"');
  if (!validate(data)) {
    const e = firstError(validate.errors, ORDER);
    throw (problemOf.get(e.path) ?? (() => invalid(`${e.path.slice(1).replaceAll('/', '.')} is not valid`)))(e);
  }
  switch (m.type) {
    case 'INIT': {
      const d = data as ClientData<'INIT'>;
      return { type: 'INIT', sessionId, userId: d.user_id ?? null, authToken: d.auth_token ?? null };
    }
    case 'GENERATE': {
      const d = data as ClientData<'GENERATE'>;
      const pcm = Buffer.from(d.audio_chunk.data, 'base64');
      const durationMs = d.audio_chunk.duration_ms;
      // duration_ms, when given, must describe the data (within one sample's rounding).
      if (durationMs !== undefined && Math.abs(durationMs * MUSETALK_BYTES_PER_MS - pcm.length) >= MUSETALK_BYTES_PER_MS) {
        throw invalidAudio('duration_ms', `audio_chunk.duration_ms ${durationMs} does not match its ${pcm.length} bytes (${pcm.length / MUSETALK_BYTES_PER_MS} ms of PCM16 16 kHz mono)`);
      }
      const vs = d.video_state;
      return { type: 'GENERATE', sessionId, pcm, videoState: vs ? { state: vs.type, video: vs.base_video ?? null } : null };
    }
    case 'STATE_CHANGE': {
      const d = data as ClientData<'STATE_CHANGE'>;
      return { type: 'STATE_CHANGE', sessionId, state: d.target_state, video: d.base_video ?? null };
    }
    case 'ACTION':
      return { type: 'ACTION', sessionId, index: (data as ClientData<'ACTION'>).action_index };
    default:
      return { type: m.type as 'CLOSE' | 'PONG', sessionId };
  }
}
