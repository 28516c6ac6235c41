import type { Logger } from 'pino';
import { isRecord, toolArguments } from './tools.js';
import { decodeStrictBase64 } from '../protocol/base64.js';

/**
 * Type checks for fields that come from a cloud agent service (OpenAI Realtime, Gemini Live).
 * Everything upstream sends is untrusted input: a field of the wrong type, an absurd size or a
 * malformed value makes the reader return "absent" (empty string, null), never throw, so one bad
 * message can only be ignored, not take the session or the server down.
 */

/** Upstream ids (response, item, call ids) are short tokens; anything longer is not an id. */
export const MAX_UPSTREAM_ID_CHARS = 256;
/** Tool-call arguments as JSON text: more than this is not an action for the widget. */
export const MAX_TOOL_ARGUMENT_CHARS = 64 * 1024;
/** Error text passed on to the client. */
export const MAX_UPSTREAM_ERROR_CHARS = 500;
/** Text of one response: a reply is a few hundred characters; more is dropped (and logged). */
export const MAX_RESPONSE_TEXT_CHARS = 100_000;

/** A string id of 1–MAX_UPSTREAM_ID_CHARS characters, else ''. */
export function upstreamId(v: unknown): string {
  return typeof v === 'string' && v.length <= MAX_UPSTREAM_ID_CHARS ? v : '';
}

/** A string, else ''. */
export function upstreamText(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/**
 * Base64 audio (standard alphabet, padded, as both services send it) → PCM bytes; null when it
 * is not a string or not valid base64 (Buffer.from would silently decode junk into noise).
 */
export function decodeUpstreamAudio(v: unknown): Buffer | null {
  return typeof v === 'string' ? decodeStrictBase64(v) : null;
}

/**
 * The human text of an upstream error: the error itself when it is a string, else its `message`
 * when that is a string (whatever else the object holds — an object `message` must not be turned into text, it may not even convert), else
 * its `code`, else `fallback`. Cut to MAX_UPSTREAM_ERROR_CHARS.
 */
export function upstreamErrorText(error: unknown, fallback = 'unknown error'): string {
  const e = isRecord(error) ? error : {};
  const text = typeof error === 'string' && error.trim() ? error
    : typeof e.message === 'string' && e.message.trim() ? e.message : typeof e.code === 'string' && e.code ? e.code : fallback;
  return text.length > MAX_UPSTREAM_ERROR_CHARS ? `${text.slice(0, MAX_UPSTREAM_ERROR_CHARS)}…` : text;
}

/**
 * One tool call checked against the declared tools: the name must be one we declared (the model
 * can call nothing else; anything else is not forwarded to the widget), the arguments a JSON
 * object of bounded size (a JSON string, as OpenAI sends them, or an object, as Gemini does).
 * Returns null for a call that must be ignored; unusable arguments alone give `{}`.
 */
export function checkedToolCall(
  rawName: unknown,
  rawArgs: unknown,
  declared: ReadonlySet<string>,
): { name: string; arguments: Record<string, unknown> } | null {
  if (typeof rawName !== 'string' || !declared.has(rawName)) return null;
  if (typeof rawArgs === 'string' && rawArgs.length > MAX_TOOL_ARGUMENT_CHARS) return { name: rawName, arguments: {} };
  const args = toolArguments(rawArgs);
  // The arguments go to the widget as JSON: they must serialise (not too deep) and stay small.
  let json: string;
  try {
    json = JSON.stringify(args);
  } catch {
    return { name: rawName, arguments: {} };
  }
  return { name: rawName, arguments: json.length > MAX_TOOL_ARGUMENT_CHARS ? {} : args };
}

/**
 * Logs upstream messages that were ignored, without flooding the log when a broken upstream sends
 * thousands: the first 10, then every 100th, each with the running count. Never logs the message
 * itself (it could echo a key); callers pass a short description.
 */
export class IgnoredUpstreamLog {
  private count = 0;

  constructor(private readonly logger: Logger, private readonly provider: string) {}

  note(why: string, detail: Record<string, unknown> = {}): void {
    this.count++;
    if (this.count <= 10 || this.count % 100 === 0) {
      this.logger.warn({ ...detail, ignored: this.count }, `${this.provider} sent ${why}; ignored`);
    }
  }

  get ignored(): number {
    return this.count;
  }
}
