import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { Waiters } from './waiters.js';

/** Listens on 127.0.0.1 (`port` 0: any free port) and resolves the port. */
export async function listenLoopback(server: Server, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** A loopback port with nothing listening on it (for "down" services brought up later on it). */
export async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/**
 * An HTTP fake on 127.0.0.1: every request goes to `handle` (a throw there destroys the
 * response); `changed()` wakes whoever waits in `waitFor`.
 */
export abstract class FakeHttpService {
  port = 0;
  protected readonly server: Server = createServer((req, res) => {
    this.handle(req, res).catch((err: unknown) => res.destroy(err instanceof Error ? err : new Error(String(err))));
  });
  private readonly waiters: Waiters;

  protected constructor(label: string) {
    this.waiters = new Waiters(label);
  }

  protected abstract handle(req: IncomingMessage, res: ServerResponse): Promise<void>;

  /** Starts listening (`port` 0: any free port). */
  async listen(port = 0): Promise<this> {
    this.port = await listenLoopback(this.server, port);
    return this;
  }

  /** Resolves when `pred` holds (checked after every recorded event). */
  async waitFor(pred: () => boolean, timeoutMs = 10_000): Promise<void> {
    await this.waiters.waitFor(pred, timeoutMs);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  protected changed(): void {
    this.waiters.wake();
  }
}

/** A streamed chat completion as OpenAI-compatible servers write it: SSE `chat.completion.chunk`s, then `[DONE]`. */
export class ChatChunkStream {
  private readonly id = `chatcmpl-${Date.now()}`;

  constructor(
    private readonly res: ServerResponse,
    private readonly model: unknown,
    private readonly record: { sent: number; completed: boolean },
    private readonly changed: () => void,
  ) {}

  chunk(delta: Record<string, unknown>, finish: string | null = null): void {
    const body = { id: this.id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: this.model, choices: [{ index: 0, delta, finish_reason: finish }] };
    this.res.write(`data: ${JSON.stringify(body)}\n\n`);
  }

  /** One piece of the reply's text, counted in the record. */
  piece(content: string): void {
    this.chunk({ content });
    this.record.sent++;
    this.changed();
  }

  /** The last chunk (finish_reason "stop", with `delta`), then `[DONE]`. */
  end(delta: Record<string, unknown> = {}): void {
    this.chunk(delta, 'stop');
    this.record.completed = true;
    this.res.end('data: [DONE]\n\n');
    this.changed();
  }
}
