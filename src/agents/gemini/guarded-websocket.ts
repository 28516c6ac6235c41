import WebSocket from 'ws';
import { GoogleGenAI, Live } from '@google/genai';
import type { Logger } from 'pino';

/**
 * The WebSocket under `@google/genai`'s Live client, with one change: a frame that is not a JSON
 * object is dropped here. The SDK parses every frame inside a promise nobody awaits, so a single
 * malformed frame from upstream would become an unhandled rejection and stop the whole server.
 */
interface SdkCallbacks {
  onopen: () => void;
  onerror: (e: unknown) => void;
  onmessage: (e: { data: string }) => void;
  onclose: (e: { code: number; reason: string }) => void;
}

class GuardedWebSocket {
  private ws: WebSocket | undefined;

  constructor(
    private readonly url: string,
    private readonly headers: Record<string, string>,
    private readonly callbacks: SdkCallbacks,
    private readonly log: Logger,
  ) {}

  connect(): void {
    const ws = new WebSocket(this.url, { headers: this.headers, handshakeTimeout: 10_000, maxPayload: 16 << 20 });
    this.ws = ws;
    ws.on('open', () => this.callbacks.onopen());
    ws.on('error', (err) => this.callbacks.onerror({ type: 'error', message: err.message, error: err }));
    ws.on('close', (code, reason) => this.callbacks.onclose({ code, reason: reason.toString('utf8') }));
    ws.on('message', (data) => {
      // Gemini sends its JSON in binary frames as well as text frames.
      const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(data as Buffer[]).toString('utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch {
        this.log.warn({ bytes: text.length }, 'Gemini Live sent a frame that is not JSON; ignored');
        return;
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        this.log.warn('Gemini Live sent JSON that is not an object; ignored');
        return;
      }
      this.callbacks.onmessage({ data: text });
    });
  }

  send(message: string): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(message);
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
