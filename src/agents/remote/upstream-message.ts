import type { FromRemoteAgent } from './protocol.js';
import { decodeStrictBase64 } from '../../protocol/base64.js';

/**
 * Validation of one frame from a remote agent. Everything an agent sends is untrusted: this
 * module only reads fields with `typeof` checks (never String(), template strings or property
 * lookups on agent-made objects, which can carry toString/valueOf traps), bounds every size, and
 * turns the wire spellings of both protocols (ours and the Python reference's) into one
 * `FromRemoteAgent`. A required field that is missing or wrong makes the message invalid; an
 * optional field of the wrong type is dropped (null is how Python agents say "absent").
 */
export type UpstreamMessage =
  | { kind: 'message'; msg: FromRemoteAgent }
  /** A JSON object whose `type` we do not know: forward compatible, ignored. */
  | { kind: 'unknown' }
  /** `reason` is our own short text; it never quotes the agent's input. */
  | { kind: 'invalid'; reason: string };

/** Per text field (a delta, a transcript): a long spoken answer is a few thousand characters. */
export const MAX_TEXT_CHARS = 64 * 1024;
const MAX_ID_CHARS = 256;
const MAX_TOOL_NAME_CHARS = 128;
/** Tool arguments go to the client as `trigger_action`: small, shallow objects. */
const MAX_TOOL_ARGUMENTS_CHARS = 64 * 1024;
const MAX_TOOL_ARGUMENTS_DEPTH = 16;
const MAX_ERROR_CHARS = 500;
/** Agent-chosen error codes are forwarded only when they look like ours. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export function parseUpstream(data: Buffer, isBinary: boolean): UpstreamMessage {
  if (isBinary) return invalid('a binary frame (the protocol is JSON text)');
  const audio = audioDeltaFast(data);
  return audio ? ok({ type: 'audio_delta', pcm: audio }) : parseJsonUpstream(data);
}

/** The general path: the whole frame through JSON.parse. `parseUpstream` gives the same verdicts. */
export function parseJsonUpstream(data: Buffer): UpstreamMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch {
    return invalid('text that is not JSON');
  }
  if (!isRecord(parsed)) return invalid('JSON that is not an object');
  const m = parsed;
  switch (m.type) {
    case 'response_start':
      return ok({ type: 'response_start', responseId: id(m.responseId) });
    case 'audio_delta': {
      if (typeof m.data !== 'string') return invalid('audio_delta without a base64 string in "data"');
      // Python's b64encode always pads; anything else is not audio we can trust.
      const pcm = decodeStrictBase64(m.data);
      if (pcm === null) return invalid('audio_delta "data" is not base64');
      return ok({ type: 'audio_delta', pcm });
    }
    case 'transcript_delta': {
      const text = str(m.delta) ?? str(m.text);
      if (text === undefined) return invalid('transcript_delta without a string "delta" (or "text")');
      if (text.length > MAX_TEXT_CHARS) return invalid(`transcript_delta longer than ${MAX_TEXT_CHARS} characters`);
      const role = m.role === undefined || m.role === null ? 'assistant' : m.role;
      if (role !== 'assistant' && role !== 'user') return invalid('transcript_delta "role" is neither "assistant" nor "user"');
      return ok({ type: 'transcript_delta', text, role, itemId: id(m.itemId), previousItemId: id(m.previousItemId) });
    }
    case 'response_end': {
      const transcript = str(m.transcript);
      return ok({
        type: 'response_end', responseId: id(m.responseId), itemId: id(m.itemId),
        transcript: transcript !== undefined && transcript.length <= MAX_TEXT_CHARS ? transcript : undefined,
      });
    }
    case 'user_transcript': {
      const text = str(m.transcript) ?? str(m.text);
      if (text === undefined) return invalid('user_transcript without a string "transcript" (or "text")');
      if (text.length > MAX_TEXT_CHARS) return invalid(`user_transcript longer than ${MAX_TEXT_CHARS} characters`);
      return ok({ type: 'user_transcript', text, itemId: id(m.itemId) });
    }
    case 'interrupted':
      return ok({ type: 'interrupted' });
    case 'tool_call': {
      if (typeof m.name !== 'string' || m.name.length === 0 || m.name.length > MAX_TOOL_NAME_CHARS) {
        return invalid(`tool_call without a "name" of 1–${MAX_TOOL_NAME_CHARS} characters`);
      }
      const args = toolArguments(m.arguments);
      if (args === null) return invalid(`tool_call "arguments" is not an object of at most ${MAX_TOOL_ARGUMENTS_CHARS} characters, ${MAX_TOOL_ARGUMENTS_DEPTH} levels deep`);
      return ok({ type: 'tool_call', name: m.name, arguments: args });
    }
    case 'error':
      return ok({ type: 'error', code: errorCode(m), message: errorText(m) });
    default:
      return { kind: 'unknown' };
  }
}

const DATA_KEY = Buffer.from('"data"');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** JSON whitespace between tokens. */
function skipSpace(b: Buffer, i: number): number {
  while (i < b.length && (b[i] === 0x20 || b[i] === 0x0a || b[i] === 0x0d || b[i] === 0x09)) i++;
  return i;
}

/**
 * The common message, `audio_delta`, without turning its base64 into JS strings twice (the whole
 * frame as text, then JSON.parse's copy of "data"): those two strings were 60 % of all the main
 * thread allocated under load (78 of 130 MB in a 50-session run), and JSON.parse scanned every
 * character of the base64 once more. Here the frame's bytes outside the value are parsed as JSON
 * with the value emptied, and the value's bytes are read once, as they are: the main thread's
 * allocations fell by a quarter and its scavenges from 7 to 4 in the same run.
 *
 * It answers only when the verdict is certainly the one the general path gives on the whole frame,
 * else undefined (the caller then takes the general path): no backslash anywhere (every key is
 * spelled literally, and no string can hide a quote), `"data"` exactly once and as a key, its
 * value a string of strict base64 (characters that JSON needs no escape for, so the frame with
 * and without them is the same JSON), and the rest an object whose `type` is `audio_delta` and
 * whose `data` is the emptied value.
 */
export function audioDeltaFast(frame: Buffer): Buffer | undefined {
  if (frame.indexOf(BACKSLASH) !== -1) return undefined;
  const key = frame.indexOf(DATA_KEY);
  if (key === -1 || frame.indexOf(DATA_KEY, key + DATA_KEY.length) !== -1) return undefined;
  let i = skipSpace(frame, key + DATA_KEY.length);
  if (frame[i] !== 0x3a) return undefined; // ':'
  i = skipSpace(frame, i + 1);
  if (frame[i] !== QUOTE) return undefined;
  const start = i + 1;
  const end = frame.indexOf(QUOTE, start);
  if (end === -1) return undefined;
  let rest: unknown;
  try {
    rest = JSON.parse(frame.toString('utf8', 0, start) + frame.toString('utf8', end));
  } catch {
    return undefined;
  }
  if (!isRecord(rest) || rest.type !== 'audio_delta' || rest.data !== '') return undefined;
  return decodeStrictBase64(frame.toString('latin1', start, end)) ?? undefined;
}

function ok(msg: FromRemoteAgent): UpstreamMessage {
  return { kind: 'message', msg };
}

function invalid(reason: string): UpstreamMessage {
  return { kind: 'invalid', reason };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function id(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_CHARS ? v : undefined;
}

/** An object, or a JSON string of one (OpenAI-style function calls carry their arguments as text). */
function toolArguments(v: unknown): Record<string, unknown> | null {
  if (v === undefined || v === null) return {};
  let args = v;
  if (typeof v === 'string') {
    if (v.length > MAX_TOOL_ARGUMENTS_CHARS) return null;
    try {
      args = JSON.parse(v);
    } catch {
      return null;
    }
  }
  if (!isRecord(args) || !depthAtMost(args, MAX_TOOL_ARGUMENTS_DEPTH)) return null;
  // Safe now: the depth bound keeps JSON.stringify's recursion short.
  return JSON.stringify(args).length <= MAX_TOOL_ARGUMENTS_CHARS ? args : null;
}

function depthAtMost(v: unknown, levels: number): boolean {
  if (typeof v !== 'object' || v === null) return true;
  if (levels === 0) return false;
  for (const x of Object.values(v)) if (!depthAtMost(x, levels - 1)) return false;
  return true;
}

/**
 * The text to show the client: ours is `message`; the reference sends `error` as a string or an
 * object (usually with `message`). Anything else gets a generic text.
 */
function errorText(m: Record<string, unknown>): string {
  const text = textOf(m.error) ?? textOf(m.message) ?? 'the remote agent reported an error';
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}

function textOf(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim() === '' ? undefined : v;
  if (isRecord(v)) return textOf(str(v.message)) ?? textOf(str(v.error));
  return undefined;
}

function errorCode(m: Record<string, unknown>): string {
  const code = str(m.code) ?? (isRecord(m.error) ? str(m.error.code) : undefined);
  return code !== undefined && ERROR_CODE.test(code) ? code : 'AGENT_ERROR';
}
