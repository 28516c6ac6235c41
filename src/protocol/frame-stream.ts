import { randomUUID } from 'node:crypto';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_FPS } from '../video/video-clock.js';
import { ErrorCode } from './error-codes.js';
import { frameStreamClientSchemas, type frameStreamServerSchemas } from './frame-stream-schemas.js';
import { serializeFrameStreamMessage } from './frame-stream-server.js';
import { compileValidator, compileValidators, firstError, parseJson, type FieldError, type Validator } from './message-validator.js';
import type { FromSchema } from './schema-types.js';

/**
 * Frame-stream dialect (PROTOCOL.md §2): client message parsing, by validators compiled from
 * frame-stream-schemas.ts, and the small server messages built on the main thread, serialized
 * by frame-stream-server.ts. `frame` messages are built in the video worker (frameMessageJson).
 *
 * Decisions where the contract is silent (docs/video-dialects.md): `timestamp` fields are
 * ISO-8601 strings like `connection_established`'s; `sequence_id` is a UUID per response;
 * `estimated_duration` / `actual_duration` are seconds; `progress.current_frame` is 1-based;
 * `error` carries an extra `code` (one set of codes for every dialect, error-codes.ts) besides
 * the contract's `message` and `timestamp`.
 */
export const FRAME_STREAM_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;
export const FRAME_WIDTH = 640;
export const FRAME_HEIGHT = 480;

export type FrameStreamClientMessage =
  | { type: 'text_input'; text: string }
  | { type: 'audio_input'; audio: Buffer };

/** Codes in `error.code`: the server's one set. */
export const FrameStreamErrorCode = ErrorCode;
export type FrameStreamErrorCode = ErrorCode;

export class FrameStreamError extends Error {
  constructor(message: string, readonly code: ErrorCode = ErrorCode.INVALID_MESSAGE) {
    super(message);
  }
}

const envelope = compileValidator({ type: 'object', properties: { type: { type: 'string' } }, required: ['type'] });
/** By audio limit: one per server in practice, compiled at its first session. */
const validatorsByLimit = new Map<number, ReadonlyMap<string, Validator>>();
function validatorsFor(maxAudioBytes: number): ReadonlyMap<string, Validator> {
  let v = validatorsByLimit.get(maxAudioBytes);
  if (!v) validatorsByLimit.set(maxAudioBytes, v = compileValidators(frameStreamClientSchemas(Number.isFinite(maxAudioBytes) ? maxAudioBytes : undefined)));
  return v;
}

function audioProblem(e: FieldError, maxAudioBytes: number): FrameStreamError {
  const a = e.value as string;
  if (e.base64 === 'tooLong') {
    return new FrameStreamError(`"audio" of about ${Math.round((a.length / 4) * 3)} bytes exceeds the ${maxAudioBytes}-byte limit`, ErrorCode.INVALID_AUDIO);
  }
  if (e.base64 === 'notBase64') return new FrameStreamError('"audio" is not valid base64', ErrorCode.INVALID_AUDIO);
  return new FrameStreamError('audio_input needs "audio": base64 PCM16 16 kHz mono or a WAV file', ErrorCode.INVALID_AUDIO);
}

/**
 * `maxAudioBytes`: the largest decoded `audio` accepted; a longer base64 string is refused from
 * its length alone (INVALID_AUDIO), before it is scanned or decoded.
 */
export function parseFrameStreamMessage(raw: ArrayBuffer, isBinary: boolean, maxAudioBytes = Infinity): FrameStreamClientMessage {
  if (isBinary) throw new FrameStreamError('binary messages are not supported; send JSON text', ErrorCode.BINARY_NOT_SUPPORTED);
  const json = parseJson(raw);
  if (!json.ok) throw new FrameStreamError('message is not valid JSON', ErrorCode.INVALID_JSON);
  const m = json.value as { type: string } & Record<string, unknown>;
  if (!envelope(m)) {
    if (firstError(envelope.errors, ['']).path === '') throw new FrameStreamError('message must be a JSON object', ErrorCode.INVALID_MESSAGE);
    throw new FrameStreamError('message needs a "type"', ErrorCode.MISSING_FIELD);
  }
  const type = m.type;
  const validate = validatorsFor(maxAudioBytes).get(type);
  if (!validate) throw new FrameStreamError(`unknown message type "${type.slice(0, 64)}"`, ErrorCode.UNKNOWN_TYPE);
  if (type === 'text_input') {
    if (!validate(m)) throw new FrameStreamError('text_input needs a non-empty "text" string', ErrorCode.INVALID_FIELD);
    return { type, text: m.text as string };
  }
  if (!validate(m)) throw audioProblem(firstError(validate.errors), maxAudioBytes);
  return { type: 'audio_input', audio: Buffer.from(m.audio as string, 'base64') };
}

const iso = (ms = Date.now()): string => new Date(ms).toISOString();
type ServerMessage<T extends keyof typeof frameStreamServerSchemas> = FromSchema<(typeof frameStreamServerSchemas)[T]>;
/** JSON text of a server message, typed by its schema, by the serializer compiled from it. */
const text = <T extends keyof typeof frameStreamServerSchemas>(msg: ServerMessage<T> & { type: T }): string => serializeFrameStreamMessage(msg);

export function connectionEstablished(sessionId: string): string {
  return text({
    type: 'connection_established',
    session_id: sessionId,
    timestamp: iso(),
    stream_config: { frame_rate: VIDEO_FPS, width: FRAME_WIDTH, height: FRAME_HEIGHT, audio_sample_rate: VIDEO_AUDIO_SAMPLE_RATE, frame_format: 'jpeg' },
  });
}

export function streamStart(sequenceId: string, responseText: string, originalInput: string, totalFrames: number): string {
  return text({
    type: 'stream_start', sequence_id: sequenceId, response_text: responseText, original_input: originalInput,
    total_frames: totalFrames, frame_rate: VIDEO_FPS, estimated_duration: totalFrames / VIDEO_FPS, timestamp: iso(),
  });
}

export function streamEnd(sequenceId: string, totalFrames: number, actualDurationS: number): string {
  return text({ type: 'stream_end', sequence_id: sequenceId, total_frames: totalFrames, actual_duration: +actualDurationS.toFixed(3), timestamp: iso() });
}

/** `error {message, timestamp}` (PROTOCOL.md §2), plus `code` when one is given. */
export function frameStreamError(message: string, code?: ErrorCode): string {
  return text(code ? { type: 'error', message, timestamp: iso(), code } : { type: 'error', message, timestamp: iso() });
}

export const newSequenceId = (): string => randomUUID();
