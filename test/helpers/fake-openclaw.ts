import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Waiters } from './waiters.js';

/**
 * A local stand-in for an OpenClaw gateway's OpenAI-compatible endpoint (`POST
 * /v1/chat/completions`, enabled with gateway.http.endpoints.chatCompletions) on 127.0.0.1:
 * Bearer auth (401 otherwise), SSE `chat.completion.chunk`s whose first chunk carries only the
 * role, then `data: [DONE]`; a failed run streams the content chunk "Error: internal error" with
 * finish_reason "stop", as the gateway does. Records every request and whether the client hung up.
 */
export interface OpenClawScript {
  /** Content pieces, one chunk each. */
  deltas: string[];
  delayMs?: number;
  /** After this many pieces, the run fails: the gateway's error chunk, then [DONE]. */
  failAfter?: number;
  /** After this many pieces, the connection is cut (gateway down mid-turn). */
  dropAfter?: number;
  /** Raw SSE `data:` payloads sent before the pieces (fuzzing). */
  rawBefore?: string[];
}

export interface OpenClawRequest {
  body: { model?: unknown; user?: unknown; stream?: unknown; messages?: Array<{ role: string; content: string }> };
  headers: IncomingMessage['headers'];
  aborted: boolean;
  completed: boolean;
  sent: number;
}

export class FakeOpenClaw {
  readonly requests: OpenClawRequest[] = [];
  /** Requests refused for a bad token. */
  refused = 0;
  script: (req: OpenClawRequest) => OpenClawScript = () => ({ deltas: ['Hello', ' from', ' OpenClaw.'] });
  private readonly waiters = new Waiters('fake OpenClaw gateway');

  private constructor(private readonly server: Server, readonly port: number, readonly token: string) {}

  /** What OPENCLAW_BASE_URL takes (the gateway's root). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(token: string, port = 0): Promise<FakeOpenClaw> {
    let fake: FakeOpenClaw | null = null;
    const server = createServer((req, res) => {
      fake!.handle(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    fake = new FakeOpenClaw(server, (server.address() as AddressInfo).port, token);
    return fake;
  }

  async waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    await this.waiters.waitFor(pred, timeoutMs);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.refused++;
      this.waiters.wake();
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Unauthorized', type: 'unauthorized' } }));
      return;
    }
    const record: OpenClawRequest = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OpenClawRequest['body'], headers: req.headers, aborted: false, completed: false, sent: 0 };
    this.requests.push(record);
    this.waiters.wake();
    const script = this.script(record);
    res.on('close', () => {
      if (!record.completed) {
        record.aborted = true;
        this.waiters.wake();
      }
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const id = `chatcmpl_${Date.now()}`;
    const chunk = (delta: Record<string, unknown>, finish: string | null): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: record.body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    res.write(chunk({ role: 'assistant' }, null));
    for (const raw of script.rawBefore ?? []) res.write(`data: ${raw}\n\n`);
    for (let i = 0; i < script.deltas.length; i++) {
      if (script.failAfter === i) {
        res.write(chunk({ content: 'Error: internal error' }, 'stop'));
        record.completed = true;
        res.end('data: [DONE]\n\n');
        this.waiters.wake();
        return;
      }
      if (script.dropAfter === i) {
        res.destroy();
        return;
      }
      if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
      if (res.destroyed || record.aborted) return;
      res.write(chunk({ content: script.deltas[i] }, null));
      record.sent++;
      this.waiters.wake();
    }
    res.write(chunk({}, 'stop'));
    record.completed = true;
    res.end('data: [DONE]\n\n');
    this.waiters.wake();
  }
}
