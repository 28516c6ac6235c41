import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Waiters } from './waiters.js';
import { WidgetClient } from './widget-client.js';

export type Msg = Record<string, unknown>;

/** One Live connection as the fake sees it. */
export interface LiveConn {
  ws: WebSocket;
  /** `key` query parameter (the SDK sends the API key there). */
  key: string | null;
  /** `v1beta`, `v1alpha`, … from the path. */
  apiVersion: string;
  /** The first client message's `setup`. */
  setup: Msg | null;
  received: Msg[];
  /** Send a server message; `binary` like the real service often does. */
  send(msg: unknown, binary?: boolean): void;
}

export interface SpeakOptions {
  /** Output transcription chunks, sent before the audio. */
  words?: string[];
  /** Bytes of 24 kHz PCM16 per serverContent message (default 100 ms). */
  chunkBytes?: number;
  /** Stop before generationComplete/turnComplete. */
  noEnd?: boolean;
}

const PATH = /^\/+ws\/google\.ai\.generativelanguage\.(v\d+\w*)\.GenerativeService\.BidiGenerateContent$/;

/**
 * A local Gemini Live endpoint: the `BidiGenerateContent` WebSocket as `@google/genai` dials it
 * (`<baseUrl>/ws/google.ai.generativelanguage.<version>.GenerativeService.BidiGenerateContent?key=…`;
 * the SDK's URL has a double slash after the host, which the real service tolerates and so does
 * this fake). Answers `setup` with `setupComplete`, records every client message, and is scripted
 * by the test for everything else. A `setup` that resumes with a handle in `expiredHandles` is
 * refused the way the service refuses a resumption it cannot honour: the socket closes with an
 * error before any `setupComplete`.
 */
export class FakeGeminiLive {
  readonly conns: LiveConn[] = [];
  onMessage: ((conn: LiveConn, msg: Msg) => void) | null = null;
  /** Called as soon as a connection is accepted, before the client sent anything. */
  onConnect: ((conn: LiveConn) => void) | null = null;
  /** Session-resumption handles that are no longer valid. */
  readonly expiredHandles = new Set<string>();
  private readonly waiters = new Waiters('fake Gemini Live');

  private constructor(private readonly http: Server, private readonly wss: WebSocketServer) {}

  static async start(): Promise<FakeGeminiLive> {
    const http = createServer((_req, res) => res.writeHead(404).end());
    const wss = new WebSocketServer({ noServer: true });
    const fake = new FakeGeminiLive(http, wss);
    http.on('upgrade', (req, socket, head) => {
      // Not `new URL(req.url, base)`: it would read the SDK's `//ws/…` as a host named "ws".
      const [pathname = '', query = ''] = (req.url ?? '/').split('?', 2);
      const m = PATH.exec(pathname);
      if (!m) {
        socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => fake.accept(ws, new URLSearchParams(query).get('key'), m[1]!));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  private accept(ws: WebSocket, key: string | null, apiVersion: string): void {
    const conn: LiveConn = {
      ws, key, apiVersion, setup: null, received: [],
      send: (msg, binary = false) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg), { binary }),
    };
    this.conns.push(conn);
    this.onConnect?.(conn);
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Msg;
      conn.received.push(msg);
      if (conn.setup === null && msg.setup) {
        conn.setup = msg.setup as Msg;
        const handle = (conn.setup.sessionResumption as Msg | undefined)?.handle;
        if (typeof handle === 'string' && this.expiredHandles.has(handle)) ws.close(1008, 'Session resumption handle is invalid or has expired.');
        else conn.send({ setupComplete: {} }, true);
      }
      this.onMessage?.(conn, msg);
      this.waiters.wake();
    });
    this.waiters.wake();
  }

  /** The `GEMINI_BASE_URL` for the server under test. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
  }

  /** A widget connected to the server at `serverUrl`, and the upstream connection the server opened for it. */
  async connectWidget(serverUrl: string): Promise<{ client: WidgetClient; conn: LiveConn }> {
    const before = this.conns.length;
    const client = await WidgetClient.connect(serverUrl);
    await client.waitType('config');
    const conn = await this.waitFor(() => this.conns[before]);
    await this.waitFor(() => conn.setup);
    return { client, conn };
  }

  waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
    return this.waiters.waitFor(probe, timeoutMs);
  }

  /** The next client message at index ≥ from that has `key` (e.g. `realtimeInput`). */
  waitMessage(conn: LiveConn, key: string, from = 0, timeoutMs?: number): Promise<Msg> {
    return this.waitFor(() => conn.received.slice(from).find((m) => m[key] !== undefined), timeoutMs);
  }

  /** One model turn: output transcription, audio in modelTurn parts, generationComplete, turnComplete. */
  async speak(conn: LiveConn, pcm: Buffer, opts: SpeakOptions = {}): Promise<void> {
    for (const w of opts.words ?? []) conn.send({ serverContent: { outputTranscription: { text: ` ${w}` } } });
    const chunk = opts.chunkBytes ?? 4800;
    let k = 0;
    for (let at = 0; at < pcm.length; at += chunk) {
      if (conn.ws.readyState !== conn.ws.OPEN) return;
      const data = pcm.subarray(at, Math.min(at + chunk, pcm.length)).toString('base64');
      conn.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data } }] } } }, k++ % 2 === 0);
      await new Promise((r) => setImmediate(r));
    }
    if (opts.noEnd) return;
    conn.send({ serverContent: { generationComplete: true } });
    conn.send({ serverContent: { turnComplete: true }, usageMetadata: { totalTokenCount: 42 } });
  }

  /** The service announces it will close this connection (`goAway`). */
  goAway(conn: LiveConn, timeLeft = '10s'): void {
    conn.send({ goAway: { timeLeft } });
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }
}
