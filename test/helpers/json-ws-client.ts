import WebSocket from 'ws';

/**
 * A plain JSON WebSocket client for the video dialects: records every message with its arrival
 * time, and counts binary frames (the contract says every message is a JSON text frame).
 */
export class JsonWsClient {
  readonly received: Array<{ at: number; msg: Record<string, unknown> }> = [];
  /** Messages that arrived as binary frames (a browser would get a Blob): always 0. */
  binaryMessages = 0;
  closeCode: number | null = null;
  closeReason = '';
  private waiters: Array<() => void> = [];
  readonly closed: Promise<number>;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d, isBinary) => {
      if (isBinary) this.binaryMessages++;
      this.received.push({ at: performance.now(), msg: JSON.parse(d.toString()) as Record<string, unknown> });
      this.wake();
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      this.wake();
      resolve(code);
    }));
  }

  static connect(url: string, opts: WebSocket.ClientOptions = {}): Promise<JsonWsClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024, ...opts });
      const c = new JsonWsClient(ws);
      ws.once('open', () => resolve(c));
      ws.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(msg: unknown): void {
    this.ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /** Index of the first message at or after `from` matching `pred`. */
  async waitFor(pred: (m: Record<string, unknown>) => boolean, timeoutMs = 10_000, from = 0): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      for (let i = from; i < this.received.length; i++) if (pred(this.received[i]!.msg)) return i;
      if (this.closeCode !== null) throw new Error(`socket closed (${this.closeCode}) while waiting`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error('timed out waiting for a message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 100));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  waitType(type: string, timeoutMs = 10_000, from = 0): Promise<number> {
    return this.waitFor((m) => m.type === type, timeoutMs, from);
  }

  close(): Promise<number> {
    this.ws.close();
    return this.closed;
  }
}
