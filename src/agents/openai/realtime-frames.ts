import type { RawData } from 'ws';
import type { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { isRecord } from '../tools.js';
import type { IgnoredUpstreamLog } from '../upstream-fields.js';

/** Event types are short names like `response.output_audio.delta`. */
const MAX_EVENT_TYPE_CHARS = 100;

export type RealtimeEvent = Record<string, unknown> & { type: string };

/**
 * Takes the parsing of server frames away from the `openai` package's Realtime client. Its own
 * listener turns an `error` event into text with a template string (an `error.message` object
 * without a usable toString throws there) and dispatches on `event.type` through a plain object
 * (a type named `toString` or `__proto__` throws there); both would throw inside the socket's
 * 'message' handler, which nothing catches, and stop the whole server. Here every frame is parsed
 * and checked first: only a JSON object with a short string `type` reaches `onEvent`, the rest is
 * logged (counted, never echoed) and dropped. Socket errors still go through the client's
 * `error` event.
 */
export function takeOverRealtimeFrames(rt: OpenAIRealtimeWS, onEvent: (ev: RealtimeEvent) => void, ignored: IgnoredUpstreamLog): void {
  rt.socket.removeAllListeners('message');
  rt.socket.on('message', (data: RawData, isBinary: boolean) => {
    let event: unknown;
    try {
      event = JSON.parse(frameText(data));
    } catch {
      ignored.note('a frame that is not JSON', { binary: isBinary });
      return;
    }
    if (!isRecord(event) || typeof event.type !== 'string' || event.type === '' || event.type.length > MAX_EVENT_TYPE_CHARS) {
      ignored.note('an event without a usable type');
      return;
    }
    try {
      onEvent(event as RealtimeEvent);
    } catch {
      ignored.note('an event that could not be handled', { type: event.type });
    }
  });
}

function frameText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
