import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';

/**
 * Byte-level clients for what well-behaved libraries will not send: raw HTTP requests, and
 * WebSocket connections that report every message and how they closed.
 */

/**
 * Send `request` as is on a fresh TCP connection; resolves what was received once `until` holds
 * for it, the server closes, or nothing more arrives for `quietMs`.
 */
export function rawHttp(port: number, request: string | Buffer, until: (text: string) => boolean = () => false, quietMs = 2000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let text = '';
    let timer: NodeJS.Timeout;
    const done = (closedByServer: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closedByServer });
    };
    // "Quiet" only ends a keep-alive exchange that is complete; it is not a timing assertion.
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(false), quietMs);
    };
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (until(text)) done(false);
      else arm();
    });
    socket.on('close', () => done(true));
    socket.on('error', () => undefined);
    arm();
  });
}

/** One TCP connection speaking raw bytes: send, then wait until the received text satisfies a probe. */
export class RawConnection {
  text = '';
  closed = false;
  private readonly socket: Socket;
  private readonly ready: Promise<void>;
  private waiters: Array<() => void> = [];

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.ready = new Promise((resolve) => this.socket.once('connect', () => resolve()));
    this.socket.on('data', (d) => {
      this.text += d.toString('latin1');
      this.wake();
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.socket.on('error', () => undefined);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async send(data: string): Promise<void> {
    await this.ready;
    this.socket.write(data);
  }

  async waitFor(probe: (text: string) => boolean, timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!probe(this.text)) {
      if (this.closed) throw new Error(`connection closed; received: ${JSON.stringify(this.text)}`);
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`timed out; received: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

export interface RawWsResult {
  messages: Array<Record<string, unknown>>;
  code: number;
  reason: string;
}

/** A WebSocket that records messages; `closed` resolves with them and the close code/reason. */
export class RecordingWs {
  readonly messages: Array<Record<string, unknown>> = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<RawWsResult>;
  private waiters: Array<() => void> = [];

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { headers, maxPayload: 256 << 20 });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.ws.on('error', () => undefined);
    this.ws.on('message', (d) => {
      this.messages.push(JSON.parse(d.toString()) as Record<string, unknown>);
      this.wake();
    });
    this.closed = new Promise((resolve) => this.ws.on('close', (code, reason) => {
      this.wake();
      resolve({ messages: this.messages, code, reason: reason.toString() });
    }));
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolves with the first message, or null if the connection closes before one arrives. */
  async firstMessageOrClose(): Promise<Record<string, unknown> | null> {
    const closed = this.closed.then(() => null);
    for (;;) {
      if (this.messages.length) return this.messages[0]!;
      const next = new Promise<void>((r) => this.waiters.push(r));
      const r = await Promise.race([next.then(() => 'wake' as const), closed]);
      if (r === null) return this.messages[0] ?? null;
    }
  }

  /**
   * Write one client frame as given (masked, FIN set): `payload` may be invalid UTF-8, and
   * `declaredLength` may claim more bytes than follow (a frame header announcing a huge message).
   */
  sendRawFrame(opcode: number, payload: Buffer, declaredLength = payload.length): void {
    const mask = Buffer.from([0x12, 0x34, 0x56, 0x78]);
    let header: Buffer;
    if (declaredLength < 126) header = Buffer.from([0x80 | opcode, 0x80 | declaredLength]);
    else if (declaredLength < 65536) {
      header = Buffer.alloc(4);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 126;
      header.writeUInt16BE(declaredLength, 2);
    } else {
      header = Buffer.alloc(10);
      header[0] = 0x80 | opcode;
      header[1] = 0x80 | 127;
      header.writeBigUInt64BE(BigInt(declaredLength), 2);
    }
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i]! ^= mask[i % 4]!;
    (this.ws as unknown as { _socket: import('node:net').Socket })._socket.write(Buffer.concat([header, mask, masked]));
  }
}
