import type { IncomingMessage, ServerResponse } from 'node:http';
import { ChatChunkStream, FakeHttpService } from './fake-net.js';

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

export class FakeOpenClaw extends FakeHttpService {
  readonly requests: OpenClawRequest[] = [];
  /** Requests refused for a bad token. */
  refused = 0;
  script: (req: OpenClawRequest) => OpenClawScript = () => ({ deltas: ['Hello', ' from', ' OpenClaw.'] });
  private constructor(readonly token: string) {
    super('fake OpenClaw gateway');
  }

  /** What OPENCLAW_BASE_URL takes (the gateway's root). */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static start(token: string, port = 0): Promise<FakeOpenClaw> {
    return new FakeOpenClaw(token).listen(port);
  }

  protected async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404).end();
      return;
    }
    if (req.headers.authorization !== `Bearer ${this.token}`) {
      this.refused++;
      this.changed();
      res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'Unauthorized', type: 'unauthorized' } }));
      return;
    }
    const record: OpenClawRequest = { body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as OpenClawRequest['body'], headers: req.headers, aborted: false, completed: false, sent: 0 };
    this.requests.push(record);
    this.changed();
    const script = this.script(record);
    res.on('close', () => {
      if (!record.completed) {
        record.aborted = true;
        this.changed();
      }
    });
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const sse = new ChatChunkStream(res, record.body.model, record, () => this.changed());
    sse.chunk({ role: 'assistant' });
    for (const raw of script.rawBefore ?? []) res.write(`data: ${raw}\n\n`);
    for (let i = 0; i < script.deltas.length; i++) {
      if (script.failAfter === i) return sse.end({ content: 'Error: internal error' });
      if (script.dropAfter === i) {
        res.destroy();
        return;
      }
      if (script.delayMs) await new Promise((r) => setTimeout(r, script.delayMs));
      if (res.destroyed || record.aborted) return;
      sse.piece(script.deltas[i]!);
    }
    sse.end();
  }
}
