import WebSocket from 'ws';

export type Msg = Record<string, unknown> & { type: string };

export interface Received {
  msg: Msg;
  /** performance.now() at arrival, ms. */
  at: number;
}

/** A widget-dialect client over a real socket: records every message with its arrival time. */
export class WidgetClient {
  readonly received: Received[] = [];
  private waiters: Array<() => void> = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const msg = JSON.parse((data as Buffer).toString('utf8')) as Msg;
      if (isBinary) throw new Error('server sent a binary frame');
      this.received.push({ msg, at: performance.now() });
      this.wake();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  static connect(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}): Promise<WidgetClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { ...options, headers });
      const client = new WidgetClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  sendRaw(data: Buffer | string, binary = false): void {
    this.ws.send(data, { binary });
  }

  /** Wait until `pred` holds for some message at index ≥ from; returns its index. */
  async waitFor(pred: (m: Msg) => boolean, timeoutMs = 10_000, from = 0): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.received.findIndex((r, idx) => idx >= from && pred(r.msg));
      if (i >= 0) return i;
      if (this.closed) throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out; received: ${this.received.map((r) => r.msg.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitType(type: string, timeoutMs?: number, from = 0): Promise<number> {
    return this.waitFor((m) => m.type === type, timeoutMs, from);
  }

  types(from = 0): string[] {
    return this.received.slice(from).map((r) => r.msg.type);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed) return resolve();
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** The `sync_frame`s among what a client received in [from, to). */
export function syncFrames(client: WidgetClient, from = 0, to = client.received.length): Msg[] {
  return client.received.slice(from, to).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
}

/** The PCM the frames carry, in order. */
export function frameAudio(frames: readonly Msg[]): Buffer {
  return Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
}
