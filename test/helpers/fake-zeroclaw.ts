import { createServer, type IncomingMessage, type Server } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { listenLoopback } from './fake-net.js';
import { Waiters } from './waiters.js';

/**
 * A local stand-in for a ZeroClaw gateway on 127.0.0.1: `GET /ws/chat` (token by `?token=`,
 * `Authorization: Bearer` or `Sec-WebSocket-Protocol: bearer.<token>`, 401 otherwise; 400
 * without `?agent=` when `requireAgent`), `session_start` first, then per `message` a scripted
 * reply in either generation: the old blocking `done {full_response}` or the new stream of
 * `chunk`s, `tool_call`, `approval_request` (waits for `approval_response`), `done`. Old gateways
 * end a turn on `{"type":"cancel"}`; new ones ignore it and stop on `POST
 * /api/sessions/{id}/abort` with `aborted`. A gateway that does neither keeps going and sends
 * its `done` late.
 */
export type Step =
  | { frame: Record<string, unknown> | string; delayMs?: number }
  /** Send an approval_request and wait for its answer. */
  | { approval: string; tool?: string };

export interface ZeroClawBehaviour {
  /** 'old': cancel ends the turn with done; 'new': cancel ignored, the abort endpoint sends aborted; 'deaf': neither. */
  generation: 'old' | 'new' | 'deaf';
  requireAgent?: boolean;
}

export interface GatewaySocket {
  ws: WebSocket;
  url: URL;
  sessionId: string;
  received: Array<Record<string, unknown>>;
  /** The turn running now is stopped. */
  stop: (() => void) | null;
}

export class FakeZeroClaw {
  readonly sockets: GatewaySocket[] = [];
  readonly aborts: Array<{ sessionId: string; authorization: string | undefined }> = [];
  refused = 0;
  behaviour: ZeroClawBehaviour = { generation: 'new' };
  /** The steps answering one `message`. */
  reply: (content: string, socket: GatewaySocket) => Step[] = (content) => [{ frame: { type: 'done', full_response: `You said: ${content}` } }];
  private readonly waiters = new Waiters('fake ZeroClaw gateway');
  private readonly wss = new WebSocketServer({ noServer: true });
  private seq = 0;

  private constructor(private readonly server: Server, readonly port: number, readonly token: string) {
    server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(token: string, port = 0): Promise<FakeZeroClaw> {
    let fake: FakeZeroClaw | null = null;
    const server = createServer((req, res) => {
      const m = /^\/api\/sessions\/([^/]+)\/abort$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.writeHead(404).end();
        return;
      }
      if (req.headers.authorization !== `Bearer ${fake!.token}`) {
        res.writeHead(401).end();
        return;
      }
      const sessionId = decodeURIComponent(m[1]!);
      fake!.aborts.push({ sessionId, authorization: req.headers.authorization });
      const s = fake!.sockets.find((x) => x.sessionId === sessionId);
      if (fake!.behaviour.generation === 'new' && s?.stop) {
        s.stop();
        s.ws.send(JSON.stringify({ type: 'aborted' }));
      }
      fake!.waiters.wake();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"aborted":true}');
    });
    fake = new FakeZeroClaw(server, await listenLoopback(server, port), token);
    return fake;
  }

  async waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    await this.waiters.waitFor(pred, timeoutMs);
  }

  get last(): GatewaySocket {
    return this.sockets.at(-1)!;
  }

  /** Cuts every socket (gateway down mid-turn). */
  dropAll(): void {
    for (const s of this.sockets) s.ws.terminate();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.ws.terminate();
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private upgrade(req: IncomingMessage, socket: import('node:stream').Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const reject = (status: number): void => {
      socket.end(`HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Bad Request'}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    if (url.pathname !== '/ws/chat') return reject(400);
    const protocols = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const ok = url.searchParams.get('token') === this.token || req.headers.authorization === `Bearer ${this.token}` || protocols.includes(`bearer.${this.token}`);
    if (!ok) {
      this.refused++;
      this.waiters.wake();
      return reject(401);
    }
    if (this.behaviour.requireAgent && !url.searchParams.get('agent')) return reject(400);
    this.wss.handleUpgrade(req, socket, head, (ws) => this.connected(ws, url));
  }

  private connected(ws: WebSocket, url: URL): void {
    const s: GatewaySocket = { ws, url, sessionId: `sess-${++this.seq}`, received: [], stop: null };
    this.sockets.push(s);
    ws.send(JSON.stringify({ type: 'session_start', session_id: s.sessionId, resumed: false, message_count: 0 }));
    ws.on('message', (data) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>;
      s.received.push(msg);
      this.waiters.wake();
      if (msg.type === 'message') void this.run(s, String(msg.content));
      if (msg.type === 'cancel' && this.behaviour.generation === 'old' && s.stop) {
        s.stop();
        ws.send(JSON.stringify({ type: 'done', full_response: '' }));
      }
    });
    this.waiters.wake();
  }

  private async run(s: GatewaySocket, content: string): Promise<void> {
    let stopped = false;
    s.stop = () => {
      stopped = true;
    };
    for (const step of this.reply(content, s)) {
      if ('approval' in step) {
        s.ws.send(JSON.stringify({ type: 'approval_request', request_id: step.approval, tool: step.tool ?? 'shell', arguments_summary: 'ls', timeout_secs: 120 }));
        await this.waitFor(() => stopped || s.received.some((m) => m.type === 'approval_response' && m.request_id === step.approval), 130_000).catch(() => {});
        continue;
      }
      if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
      if (stopped || s.ws.readyState !== s.ws.OPEN) return;
      s.ws.send(typeof step.frame === 'string' ? step.frame : JSON.stringify(step.frame));
      this.waiters.wake();
    }
    s.stop = null;
  }
}
