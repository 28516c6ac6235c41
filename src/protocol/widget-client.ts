import { ErrorCode } from './error-codes.js';
import { base64ByteLength, compileValidator, compileValidators, firstError, parseJson, type FieldError } from './message-validator.js';
import { clientMessageSchemas } from './widget-schemas.js';

export { ErrorCode } from './error-codes.js';

/**
 * Parsing and validation of widget-dialect client messages (PROTOCOL.md §1.2), by validators
 * compiled from `clientMessageSchemas`. Every failure is a `ProtocolError` with a stable code the
 * client can act on; the session stays open.
 */
export type ClientMessage =
  | { type: 'text'; data: string }
  | { type: 'audio_stream_start' }
  | { type: 'audio'; pcm: Buffer }
  | { type: 'audio_stream_end' }
  | { type: 'interrupt' }
  | { type: 'ping' };

export class ProtocolError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const envelope = compileValidator({ type: 'object', properties: { type: { type: 'string' } }, required: ['type'] });
const validators = compileValidators(clientMessageSchemas);

function envelopeProblem(e: FieldError): ProtocolError {
  if (e.path === '') return new ProtocolError(ErrorCode.INVALID_MESSAGE, 'message must be a JSON object');
  if (e.value === undefined || e.value === null) return new ProtocolError(ErrorCode.MISSING_FIELD, 'message needs field "type"');
  return new ProtocolError(ErrorCode.INVALID_FIELD, '"type" must be a string');
}

function fieldProblem(type: string, e: FieldError): ProtocolError {
  const name = e.path.slice(1);
  if (e.value === undefined || e.value === null) return new ProtocolError(ErrorCode.MISSING_FIELD, `"${type}" needs field "${name}"`);
  switch (e.base64) {
    case 'empty': return new ProtocolError(ErrorCode.INVALID_AUDIO, 'audio data is empty');
    case 'badByteCount': return new ProtocolError(ErrorCode.INVALID_AUDIO, `PCM16 needs an even number of bytes, got ${base64ByteLength(e.value as string)}`);
    case undefined: break;
    default: return new ProtocolError(ErrorCode.INVALID_AUDIO, 'audio data is not valid base64');
  }
  if (e.keyword === 'type') return new ProtocolError(ErrorCode.INVALID_FIELD, `"${name}" must be a ${e.expected}, got ${typeof e.value}`);
  if (e.keyword === 'pattern') return new ProtocolError(ErrorCode.INVALID_FIELD, `"${name}" must not be empty`);
  return new ProtocolError(ErrorCode.INVALID_FIELD, `"${name}" is not valid`);
}

/** Parse one text frame. `maxBytes` is the byte length cap of the frame. */
export function parseClientMessage(raw: ArrayBuffer, isBinary: boolean, maxBytes: number): ClientMessage {
  if (raw.byteLength > maxBytes) {
    throw new ProtocolError(ErrorCode.MESSAGE_TOO_LARGE, `message of ${raw.byteLength} bytes exceeds the ${maxBytes}-byte limit`);
  }
  if (isBinary) throw new ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED, 'binary frames are not supported; send JSON text');
  const json = parseJson(raw);
  if (!json.ok) throw new ProtocolError(ErrorCode.INVALID_JSON, 'message is not valid JSON');
  const msg = json.value as { type: string } & Record<string, unknown>;
  if (!envelope(msg)) throw envelopeProblem(firstError(envelope.errors, ['', '/type']));
  const type = msg.type;
  const validate = validators.get(type);
  if (!validate) throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown message type "${type.slice(0, 64)}"`);
  if (!validate(msg)) throw fieldProblem(type, firstError(validate.errors));
  switch (type) {
    case 'text':
      return { type: 'text', data: msg.data as string };
    case 'audio':
      return { type: 'audio', pcm: Buffer.from(msg.data as string, 'base64') };
    default:
      return { type: type as Exclude<ClientMessage['type'], 'text' | 'audio'> };
  }
}
