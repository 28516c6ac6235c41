import { WebSocketServer, type WebSocket } from 'ws';
import type { AddressInfo } from 'node:net';
import { Waiters } from './waiters.js';
import { WidgetClient } from './widget-client.js';

export interface Upstream {
  ws: WebSocket;
  received: Array<Record<string, unknown>>;
  send(msg: unknown): void;
}

export interface SpeakOptions {
  /** Bytes per audio_delta (default 100 ms at 24 kHz). */
  chunkBytes?: number;
  /** Delay between chunks, ms (0 = as fast as possible, like a cloud agent). */
  chunkIntervalMs?: number;
  words?: string[];
  /** Stop before response_end (for interrupt tests). */
  noEnd?: boolean;
  /** Reference dialect: the conversation item of this response (sent with every delta and the end). */
  itemId?: string;
  previousItemId?: string;
}

/**
 * Which spelling the fake speaks. `ours`: docs/remote-agent-protocol.md's own fields (`text`).
 * `reference`: exactly the Python reference server's remote protocol (shared/REFERENCE-AGENTS.md
 * §1): it reads typed text from `data`, sends `transcript_delta.delta` with `role` and item ids,
 * `response_start {session_id}`, `response_end {transcript, itemId}`, and knows nothing of our
 * extras (`session.start`, `audio_commit`, `cancel` are received and ignored).
 */
export type RemoteDialect = 'ours' | 'reference';

/** A local agent server speaking the remote-agent protocol, scripted by the test. */
export class FakeRemoteAgent {
  readonly wss: WebSocketServer;
  readonly sessions: Upstream[] = [];
  private readonly waiters = new Waiters('fake agent');
  onText: ((up: Upstream, text: string) => void) | null = null;

  private constructor(wss: WebSocketServer, readonly dialect: RemoteDialect) {
    this.wss = wss;
    wss.on('connection', (ws) => {
      const up: Upstream = { ws, received: [], send: (m) => ws.send(JSON.stringify(m)) };
      this.sessions.push(up);
      ws.on('message', (d) => {
        const msg = JSON.parse(d.toString()) as Record<string, unknown>;
        up.received.push(msg);
        const typed = dialect === 'reference' ? msg.data : msg.text;
        if (msg.type === 'text' && this.onText && typeof typed === 'string') this.onText(up, typed);
        this.waiters.wake();
      });
      this.waiters.wake();
    });
  }

  static start(dialect: RemoteDialect = 'ours'): Promise<FakeRemoteAgent> {
    return new Promise((resolve) => {
      const wss: WebSocketServer = new WebSocketServer({ host: '127.0.0.1', port: 0 }, () => resolve(new FakeRemoteAgent(wss, dialect)));
    });
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
    return this.waiters.waitFor(probe, timeoutMs);
  }

  /** A widget client of `serverUrl`, once its config came and its session's upstream got `session.start`. */
  async connectWidget(serverUrl: string): Promise<{ client: WidgetClient; up: Upstream; index: number }> {
    const index = this.sessions.length;
    const client = await WidgetClient.connect(serverUrl);
    await client.waitType('config');
    const up = await this.waitFor(() => this.sessions[index]?.received.some((m) => m.type === 'session.start') && this.sessions[index]);
    return { client, up, index };
  }

  /** Stream one response: response_start, words, audio chunks, response_end. */
  async speak(up: Upstream, pcm: Buffer, opts: SpeakOptions = {}): Promise<void> {
    const chunk = opts.chunkBytes ?? 4800;
    const words = opts.words ?? [];
    if (this.dialect === 'reference') {
      up.send({ type: 'response_start', session_id: 'ref-session' });
      words.forEach((w, i) => up.send({ type: 'transcript_delta', delta: i === 0 ? w : ` ${w}`, role: 'assistant', itemId: opts.itemId, previousItemId: opts.previousItemId }));
    } else {
      up.send({ type: 'response_start' });
      for (const w of words) up.send({ type: 'transcript_delta', text: ` ${w}` });
    }
    // With an interval, chunk k goes out at start + k × interval (absolute, like a TTS service
    // pacing itself): relative timers would drift slower than real time.
    const startedAt = performance.now();
    for (let at = 0, k = 1; at < pcm.length; at += chunk, k++) {
      if (up.ws.readyState !== up.ws.OPEN) return;
      up.send({ type: 'audio_delta', data: pcm.subarray(at, Math.min(at + chunk, pcm.length)).toString('base64') });
      // Nothing to pace after the last chunk: the end follows it at once, as a TTS stream's does.
      if (at + chunk >= pcm.length && opts.chunkIntervalMs) break;
      const interval = opts.chunkIntervalMs;
      await new Promise((r) => (interval ? setTimeout(r, Math.max(0, startedAt + k * interval - performance.now())) : setImmediate(r)));
    }
    if (opts.noEnd) return;
    if (this.dialect === 'reference') up.send({ type: 'response_end', transcript: words.join(' '), itemId: opts.itemId });
    else up.send({ type: 'response_end' });
  }

  close(): Promise<void> {
    for (const s of this.sessions) s.ws.terminate();
    return new Promise((resolve) => this.wss.close(() => resolve()));
  }
}

/** Speech-like test audio at 24 kHz: voiced syllables (harmonics, 4 Hz envelope) and a pause. */
export function syntheticSpeech(seconds: number, opts: { f0?: number; seed?: number; pauseAt?: [number, number] } = {}): Buffer {
  const rate = 24_000;
  const n = Math.round(seconds * rate);
  const buf = Buffer.alloc(n * 2);
  const f0 = opts.f0 ?? 140;
  let seed = opts.seed ?? 1;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff) * 2 - 1;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const inPause = opts.pauseAt && t >= opts.pauseAt[0] && t < opts.pauseAt[1];
    const env = inPause ? 0 : 0.5 - 0.5 * Math.cos(2 * Math.PI * 4 * t);
    let v = 0;
    for (let h = 1; h <= 8; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
    v = 0.25 * env * v + 0.002 * rand() * env;
    buf.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(v * 32767))), i * 2);
  }
  return buf;
}
