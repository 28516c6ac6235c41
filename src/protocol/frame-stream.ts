import { randomUUID } from 'node:crypto';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_FPS } from '../video/video-clock.js';
import { ErrorCode } from './widget-client.js';

/**
 * Frame-stream dialect (PROTOCOL.md §2): client message parsing and the small server messages
 * built on the main thread. `frame` messages are built in the video worker.
 *
 * Decisions where the contract is silent (docs/video-dialects.md): `timestamp` fields are
 * ISO-8601 strings like `connection_established`'s; `sequence_id` is a UUID per response;
 * `estimated_duration` / `actual_duration` are seconds; `progress.current_frame` is 1-based;
 * `error` carries an extra `code` (the widget dialect's codes plus a few of this dialect's own)
 * besides the contract's `message` and `timestamp`.
 */
export const FRAME_STREAM_MAX_MESSAGE_BYTES = 50 * 1024 * 1024;
export const FRAME_WIDTH = 640;
export const FRAME_HEIGHT = 480;

export type FrameStreamClientMessage =
  | { type: 'text_input'; text: string }
  | { type: 'audio_input'; audio: Buffer };

/** Codes in `error.code`: the widget dialect's (one set of codes), and this dialect's own. */
export const FrameStreamErrorCode = {
  ...ErrorCode,
  SERVER_BUSY: 'SERVER_BUSY',
  RATE_LIMITED: 'RATE_LIMITED',
  CLIENT_TOO_SLOW: 'CLIENT_TOO_SLOW',
  RESPONSE_TOO_LONG: 'RESPONSE_TOO_LONG',
  TOO_MANY_RESPONSES: 'TOO_MANY_RESPONSES',
} as const;
export type FrameStreamErrorCode = (typeof FrameStreamErrorCode)[keyof typeof FrameStreamErrorCode];

export class FrameStreamError extends Error {
  constructor(message: string, readonly code: FrameStreamErrorCode = ErrorCode.INVALID_MESSAGE) {
    super(message);
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * `maxAudioBytes`: the largest decoded `audio` accepted; a longer base64 string is refused from
 * its length alone (INVALID_AUDIO), before it is scanned or decoded.
 */
export function parseFrameStreamMessage(raw: ArrayBuffer, isBinary: boolean, maxAudioBytes = Infinity): FrameStreamClientMessage {
  if (isBinary) throw new FrameStreamError('binary messages are not supported; send JSON text', ErrorCode.BINARY_NOT_SUPPORTED);
  let msg: unknown;
  try {
    msg = JSON.parse(Buffer.from(raw).toString('utf8'));
  } catch {
    throw new FrameStreamError('message is not valid JSON', ErrorCode.INVALID_JSON);
  }
  if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new FrameStreamError('message must be a JSON object', ErrorCode.INVALID_MESSAGE);
  const m = msg as Record<string, unknown>;
  switch (m.type) {
    case 'text_input':
      if (typeof m.text !== 'string' || m.text.trim() === '') throw new FrameStreamError('text_input needs a non-empty "text" string', ErrorCode.INVALID_FIELD);
      return { type: 'text_input', text: m.text };
    case 'audio_input': {
      const a = m.audio;
      if (typeof a !== 'string' || a.length === 0) throw new FrameStreamError('audio_input needs "audio": base64 PCM16 16 kHz mono or a WAV file', ErrorCode.INVALID_AUDIO);
      if ((a.length / 4) * 3 - 2 > maxAudioBytes) {
        throw new FrameStreamError(`"audio" of about ${Math.round((a.length / 4) * 3)} bytes exceeds the ${maxAudioBytes}-byte limit`, ErrorCode.INVALID_AUDIO);
      }
      if (a.length % 4 !== 0 || !BASE64.test(a)) throw new FrameStreamError('"audio" is not valid base64', ErrorCode.INVALID_AUDIO);
      return { type: 'audio_input', audio: Buffer.from(a, 'base64') };
    }
    default:
      if (typeof m.type !== 'string') throw new FrameStreamError('message needs a "type"', ErrorCode.MISSING_FIELD);
      throw new FrameStreamError(`unknown message type "${m.type.slice(0, 64)}"`, ErrorCode.UNKNOWN_TYPE);
  }
}

const iso = (ms = Date.now()): string => new Date(ms).toISOString();

export function connectionEstablished(sessionId: string): string {
  return JSON.stringify({
    type: 'connection_established',
    session_id: sessionId,
    timestamp: iso(),
    stream_config: { frame_rate: VIDEO_FPS, width: FRAME_WIDTH, height: FRAME_HEIGHT, audio_sample_rate: VIDEO_AUDIO_SAMPLE_RATE, frame_format: 'jpeg' },
  });
}

export function streamStart(sequenceId: string, responseText: string, originalInput: string, totalFrames: number): string {
  return JSON.stringify({
    type: 'stream_start', sequence_id: sequenceId, response_text: responseText, original_input: originalInput,
    total_frames: totalFrames, frame_rate: VIDEO_FPS, estimated_duration: totalFrames / VIDEO_FPS, timestamp: iso(),
  });
}

export function streamEnd(sequenceId: string, totalFrames: number, actualDurationS: number): string {
  return JSON.stringify({ type: 'stream_end', sequence_id: sequenceId, total_frames: totalFrames, actual_duration: +actualDurationS.toFixed(3), timestamp: iso() });
}

/** `error {message, timestamp}` (PROTOCOL.md §2), plus `code` when one is given. */
export function frameStreamError(message: string, code?: FrameStreamErrorCode): string {
  return JSON.stringify(code ? { type: 'error', message, timestamp: iso(), code } : { type: 'error', message, timestamp: iso() });
}

export const newSequenceId = (): string => randomUUID();
