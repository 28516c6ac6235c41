import WebSocket from 'ws';
import { GoogleGenAI, Live, LiveServerMessage } from '@google/genai';
import type { Logger } from 'pino';
import { IgnoredUpstreamLog } from '../upstream-fields.js';

/**
 * Frames that arrive before the SDK sent its `setup` are held back (at most this many): the SDK's
 * message callback reads its session object, which does not exist yet at that point.
 */
const MAX_FRAMES_BEFORE_SETUP = 64;

/**
 * The WebSocket under `@google/genai`'s Live client, guarding the SDK against upstream frames it
 * would crash on. The SDK handles every frame inside a promise nobody awaits, so any exception
 * there becomes an unhandled rejection that stops the whole server:
 * - a frame that is not a JSON object (it calls JSON.parse unguarded) is dropped here;
 * - a top-level key that exists on the SDK's `LiveServerMessage` prototype (`text` and `data`
 *   are getters without setters, `__proto__` would replace the prototype) is removed here,
 *   because the SDK copies the frame onto such an object with Object.assign;
 * - frames that arrive before the SDK sent its `setup` are delivered after it (see above).
 */
interface SdkCallbacks {
  onopen: () => void;
  onerror: (e: unknown) => void;
  onmessage: (e: { data: string }) => void;
  onclose: (e: { code: number; reason: string }) => void;
}

class GuardedWebSocket {
  private ws: WebSocket | undefined;
  private setupSent = false;
  private held: string[] = [];
  private readonly ignored: IgnoredUpstreamLog;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly callbacks: SdkCallbacks,
    log: Logger,
  ) {
    this.ignored = new IgnoredUpstreamLog(log, 'Gemini Live');
  }

  connect(): void {
    const ws = new WebSocket(this.url, { headers: this.headers, handshakeTimeout: 10_000, maxPayload: 16 << 20 });
    this.ws = ws;
    ws.on('open', () => this.callbacks.onopen());
    ws.on('error', (err) => this.callbacks.onerror({ type: 'error', message: err.message, error: err }));
    ws.on('close', (code, reason) => this.callbacks.onclose({ code, reason: reason.toString('utf8') }));
    ws.on('message', (data) => {
      try {
        const text = this.checked(data);
        if (text === null) return;
        if (this.setupSent) this.callbacks.onmessage({ data: text });
        else if (this.held.length < MAX_FRAMES_BEFORE_SETUP) this.held.push(text);
        else this.ignored.note('a frame before setup beyond the first few');
      } catch {
        // Nothing thrown here may escape: the socket's 'message' handler has no other catcher.
        this.ignored.note('a frame that could not be handled');
      }
    });
  }

  /** The frame as JSON text the SDK can take safely, or null when it must be dropped. */
  private checked(data: WebSocket.RawData): string | null {
    // Gemini sends its JSON in binary frames as well as text frames.
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.ignored.note('a frame that is not JSON', { bytes: text.length });
      return null;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.ignored.note('JSON that is not an object');
      return null;
    }
    const clashing = Object.keys(parsed).filter((k) => k in LiveServerMessage.prototype);
    if (clashing.length === 0) return text;
    this.ignored.note('top-level fields the SDK cannot take', { fields: clashing.slice(0, 5).map((k) => k.slice(0, 40)) });
    const rest = parsed as Record<string, unknown>;
    for (const k of clashing) delete rest[k];
    try {
      return JSON.stringify(rest);
    } catch {
      this.ignored.note('a frame too deeply nested to pass on');
      return null;
    }
  }

  send(message: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(message);
    if (!this.setupSent) {
      // The SDK's first message is its `setup`: it is ready for server frames from now on.
      this.setupSent = true;
      for (const text of this.held.splice(0)) this.callbacks.onmessage({ data: text });
    }
  }

  close(): void {
    const ws = this.ws;
    if (!ws) return;
    if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
    else if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'session closed');
  }
}

/**
 * `ai.live` built on GuardedWebSocket. `Live`'s constructor is public API of the package; its
 * ApiClient and Auth are taken from the client object the SDK already built.
 */
export function guardedLive(ai: GoogleGenAI, log: Logger): Live {
  const internals = ai as unknown as { apiClient?: unknown };
  const liveInternals = ai.live as unknown as { auth?: unknown };
  if (!internals.apiClient || !liveInternals.auth) {
    log.warn('@google/genai internals changed; using its own WebSocket (malformed upstream frames are then not guarded)');
    return ai.live;
  }
  type Params = ConstructorParameters<typeof Live>;
  const factory = { create: (url: string, headers: Record<string, string>, callbacks: SdkCallbacks) => new GuardedWebSocket(url, headers, callbacks, log) };
  return new Live(internals.apiClient as Params[0], liveInternals.auth as Params[1], factory as unknown as Params[2]);
}
