import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { Waiters } from './waiters.js';

export type Event = Record<string, unknown> & { type: string };

/** One Realtime connection as the fake sees it. */
export interface RealtimeConn {
  ws: WebSocket;
  /** `model` query parameter of the upgrade request. */
  model: string | null;
  authorization: string | undefined;
  betaHeader: string | undefined;
  received: Event[];
  send(ev: unknown): void;
}

export interface SpeakOptions {
  responseId?: string;
  itemId?: string;
  /** Transcript deltas (sent before the audio, like the real service often does). */
  words?: string[];
  /** Bytes per audio delta (default 100 ms at 24 kHz). */
  chunkBytes?: number;
  /** Use the beta event names (`response.audio.delta`, …). */
  beta?: boolean;
  /** Stop before `response.done` (the response stays active). */
  noDone?: boolean;
}

/**
 * A local OpenAI Realtime endpoint over TLS (the `openai` client always dials wss://). It makes a
 * self-signed certificate for 127.0.0.1 in a temporary folder; start the server under test with
 * `NODE_EXTRA_CA_CERTS=<caFile>` so it trusts it. Speaks the Realtime event protocol: sends
 * `session.created` on connect, answers `session.update` with `session.updated`, records every
 * client event, and is scripted by the test for everything else.
 */
export class FakeOpenAIRealtime {
  readonly conns: RealtimeConn[] = [];
  /** HTTP status to refuse the next upgrade with (e.g. 401), once. */
  rejectNext: number | null = null;
  onEvent: ((conn: RealtimeConn, ev: Event) => void) | null = null;
  private readonly waiters = new Waiters('fake OpenAI Realtime');

  private constructor(
    private readonly https: Server,
    private readonly wss: WebSocketServer,
    private readonly dir: string,
    readonly caFile: string,
  ) {
    wss.on('connection', (ws, req) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const conn: RealtimeConn = {
        ws, model: url.searchParams.get('model'), authorization: req.headers.authorization,
        betaHeader: req.headers['openai-beta'] as string | undefined, received: [],
        send: (ev) => ws.send(typeof ev === 'string' ? ev : JSON.stringify(ev)),
      };
      this.conns.push(conn);
      ws.on('message', (data) => {
        const ev = JSON.parse(data.toString()) as Event;
        conn.received.push(ev);
        if (ev.type === 'session.update') conn.send({ type: 'session.updated', event_id: 'evt_su', session: ev.session });
        this.onEvent?.(conn, ev);
        this.waiters.wake();
      });
      conn.send({ type: 'session.created', event_id: 'evt_sc', session: { id: `sess_${this.conns.length}`, type: 'realtime', model: conn.model } });
      this.waiters.wake();
    });
  }

  static async start(): Promise<FakeOpenAIRealtime> {
    const dir = mkdtempSync(join(tmpdir(), 'fake-openai-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    const https = createServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const wss = new WebSocketServer({ noServer: true });
    const fake = new FakeOpenAIRealtime(https, wss, dir, cert);
    https.on('upgrade', (req, socket, head) => {
      const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
      if (fake.rejectNext !== null || path !== '/v1/realtime') {
        const status = fake.rejectNext ?? 404;
        fake.rejectNext = null;
        socket.end(`HTTP/1.1 ${status} Refused\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  /** The `OPENAI_BASE_URL` for the server under test. */
  get baseURL(): string {
    return `https://127.0.0.1:${(this.https.address() as AddressInfo).port}/v1`;
  }

  get last(): RealtimeConn {
    return this.conns[this.conns.length - 1]!;
  }

  waitFor<T>(probe: () => T | undefined | false | null, timeoutMs = 10_000): Promise<T> {
    return this.waiters.waitFor(probe, timeoutMs);
  }

  /** Wait for the next client event of `type` on `conn` at index ≥ from. */
  waitEvent(conn: RealtimeConn, type: string, from = 0, timeoutMs?: number): Promise<Event> {
    return this.waitFor(() => conn.received.slice(from).find((e) => e.type === type), timeoutMs);
  }

  /** One spoken response: created, transcript deltas, audio deltas, done events, response.done. */
  async speak(conn: RealtimeConn, pcm: Buffer, opts: SpeakOptions = {}): Promise<void> {
    const responseId = opts.responseId ?? `resp_${Math.random().toString(16).slice(2, 10)}`;
    const itemId = opts.itemId ?? `item_${Math.random().toString(16).slice(2, 10)}`;
    const audioDelta = opts.beta ? 'response.audio.delta' : 'response.output_audio.delta';
    const transcriptDelta = opts.beta ? 'response.audio_transcript.delta' : 'response.output_audio_transcript.delta';
    const ids = { response_id: responseId, item_id: itemId, output_index: 0, content_index: 0 };
    conn.send({ type: 'response.created', event_id: 'e1', response: { id: responseId, object: 'realtime.response', status: 'in_progress', output: [] } });
    conn.send({ type: 'response.output_item.added', event_id: 'e2', response_id: responseId, output_index: 0, item: { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
    for (const [i, w] of (opts.words ?? []).entries()) conn.send({ type: transcriptDelta, event_id: `t${i}`, ...ids, delta: i === 0 ? w : ` ${w}` });
    const chunk = opts.chunkBytes ?? 4800;
    for (let at = 0; at < pcm.length; at += chunk) {
      if (conn.ws.readyState !== conn.ws.OPEN) return;
      conn.send({ type: audioDelta, event_id: `a${at}`, ...ids, delta: pcm.subarray(at, Math.min(at + chunk, pcm.length)).toString('base64') });
      await new Promise((r) => setImmediate(r));
    }
    if (opts.noDone) return;
    conn.send({ type: opts.beta ? 'response.audio.done' : 'response.output_audio.done', event_id: 'e3', ...ids });
    conn.send({ type: opts.beta ? 'response.audio_transcript.done' : 'response.output_audio_transcript.done', event_id: 'e4', ...ids, transcript: (opts.words ?? []).join(' ') });
    conn.send({ type: 'response.done', event_id: 'e5', response: { id: responseId, object: 'realtime.response', status: 'completed', output: [{ id: itemId, type: 'message', role: 'assistant' }] } });
  }

  /** A response that calls one function (GA events), then ends. */
  callFunction(conn: RealtimeConn, name: string, args: string, callId = `call_${Math.random().toString(16).slice(2, 10)}`): string {
    const responseId = `resp_${Math.random().toString(16).slice(2, 10)}`;
    const itemId = `item_${Math.random().toString(16).slice(2, 10)}`;
    const item = { id: itemId, type: 'function_call', status: 'completed', call_id: callId, name, arguments: args };
    conn.send({ type: 'response.created', event_id: 'f1', response: { id: responseId, status: 'in_progress', output: [] } });
    conn.send({ type: 'response.output_item.added', event_id: 'f2', response_id: responseId, output_index: 0, item: { ...item, status: 'in_progress', arguments: '' } });
    conn.send({ type: 'response.function_call_arguments.delta', event_id: 'f3', response_id: responseId, item_id: itemId, output_index: 0, call_id: callId, delta: args });
    conn.send({ type: 'response.function_call_arguments.done', event_id: 'f4', response_id: responseId, item_id: itemId, output_index: 0, call_id: callId, name, arguments: args });
    conn.send({ type: 'response.output_item.done', event_id: 'f5', response_id: responseId, output_index: 0, item });
    conn.send({ type: 'response.done', event_id: 'f6', response: { id: responseId, status: 'completed', output: [item] } });
    return callId;
  }

  async close(): Promise<void> {
    for (const c of this.conns) c.ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await new Promise<void>((resolve) => this.https.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
