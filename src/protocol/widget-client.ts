/**
 * Parsing and validation of widget-dialect client messages (PROTOCOL.md §1.2). Every failure is a
 * `ProtocolError` with a stable code the client can act on; the session stays open.
 */
export type ClientMessage =
  | { type: 'text'; data: string }
  | { type: 'audio_stream_start' }
  | { type: 'audio'; pcm: Buffer }
  | { type: 'audio_stream_end' }
  | { type: 'interrupt' }
  | { type: 'ping' };

export const ErrorCode = {
  INVALID_JSON: 'INVALID_JSON',
  BINARY_NOT_SUPPORTED: 'BINARY_NOT_SUPPORTED',
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  UNKNOWN_TYPE: 'UNKNOWN_TYPE',
  MISSING_FIELD: 'MISSING_FIELD',
  INVALID_FIELD: 'INVALID_FIELD',
  INVALID_AUDIO: 'INVALID_AUDIO',
  AGENT_ERROR: 'AGENT_ERROR',
  AGENT_UNAVAILABLE: 'AGENT_UNAVAILABLE',
  AGENT_DISCONNECTED: 'AGENT_DISCONNECTED',
  AGENT_BACKLOG: 'AGENT_BACKLOG',
  /** The agent sent a message that failed validation; it was ignored (throttled). */
  AGENT_INVALID_MESSAGE: 'AGENT_INVALID_MESSAGE',
  /** The agent did not answer, or went silent inside a response (AGENT_*_TIMEOUT_MS). */
  AGENT_TIMEOUT: 'AGENT_TIMEOUT',
  /** Mic audio sent to an agent that has no speech recognition (offline): type instead. */
  SPEECH_INPUT_UNSUPPORTED: 'SPEECH_INPUT_UNSUPPORTED',
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class ProtocolError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Strict base64 (standard alphabet, padded) → bytes; anything else throws INVALID_AUDIO. */
export function decodeBase64Pcm16(data: string): Buffer {
  if (data.length === 0) throw new ProtocolError(ErrorCode.INVALID_AUDIO, 'audio data is empty');
  if (data.length % 4 !== 0 || !BASE64.test(data)) {
    throw new ProtocolError(ErrorCode.INVALID_AUDIO, 'audio data is not valid base64');
  }
  const pcm = Buffer.from(data, 'base64');
  if (pcm.length % 2 !== 0) {
    throw new ProtocolError(ErrorCode.INVALID_AUDIO, `PCM16 needs an even number of bytes, got ${pcm.length}`);
  }
  return pcm;
}

function field(msg: Record<string, unknown>, name: string, type: 'string'): string {
  const v = msg[name];
  if (v === undefined || v === null) throw new ProtocolError(ErrorCode.MISSING_FIELD, `"${msg.type}" needs field "${name}"`);
  if (typeof v !== type) throw new ProtocolError(ErrorCode.INVALID_FIELD, `"${name}" must be a ${type}, got ${typeof v}`);
  return v as string;
}

/** Parse one text frame. `maxBytes` is the byte length cap of the frame. */
export function parseClientMessage(raw: ArrayBuffer, isBinary: boolean, maxBytes: number): ClientMessage {
  if (raw.byteLength > maxBytes) {
    throw new ProtocolError(ErrorCode.MESSAGE_TOO_LARGE, `message of ${raw.byteLength} bytes exceeds the ${maxBytes}-byte limit`);
  }
  if (isBinary) throw new ProtocolError(ErrorCode.BINARY_NOT_SUPPORTED, 'binary frames are not supported; send JSON text');
  let msg: unknown;
  try {
    msg = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new ProtocolError(ErrorCode.INVALID_JSON, 'message is not valid JSON');
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) {
    throw new ProtocolError(ErrorCode.INVALID_MESSAGE, 'message must be a JSON object');
  }
  const obj = msg as Record<string, unknown>;
  if (obj.type === undefined || obj.type === null) throw new ProtocolError(ErrorCode.MISSING_FIELD, 'message needs field "type"');
  if (typeof obj.type !== 'string') throw new ProtocolError(ErrorCode.INVALID_FIELD, '"type" must be a string');
  switch (obj.type) {
    case 'text': {
      const data = field(obj, 'data', 'string');
      if (data.trim() === '') throw new ProtocolError(ErrorCode.INVALID_FIELD, '"data" must not be empty');
      return { type: 'text', data };
    }
    case 'audio':
      return { type: 'audio', pcm: decodeBase64Pcm16(field(obj, 'data', 'string')) };
    case 'audio_stream_start':
    case 'audio_stream_end':
    case 'interrupt':
    case 'ping':
      return { type: obj.type };
    default:
      throw new ProtocolError(ErrorCode.UNKNOWN_TYPE, `unknown message type "${obj.type.slice(0, 64)}"`);
  }
}
