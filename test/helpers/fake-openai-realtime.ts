import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { Waiters } from './waiters.js';
import { WidgetClient } from './widget-client.js';

export type Event = Record<string, unknown> & { type: string };

/** One Realtime connection as the fake sees it. */
export interface RealtimeConn {
  ws: WebSocket;
  /** `model` query parameter of the upgrade request. */
  model: string | null;
  authorization: string | undefined;
  betaHeader: string | undefined;
  received: Event[];
  /** Responses this connection created (`response.created` sent) and has not finished yet. */
  active: Set<string>;
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
  /** `response.done` status (default `completed`) and its `status_details`. */
  status?: 'completed' | 'failed' | 'incomplete';
  statusDetails?: Record<string, unknown>;
  /** `previous_item_id` of the assistant item (`conversation.item.added`); null when absent. */
  previousItemId?: string;
}

/**
 * A local OpenAI Realtime endpoint over TLS (the `openai` client always dials wss://). It makes a
 * self-signed certificate for 127.0.0.1 in a temporary folder; start the server under test with
 * `NODE_EXTRA_CA_CERTS=<caFile>` so it trusts it. Speaks the Realtime event protocol: sends
 * `session.created` on connect, answers `session.update` with `session.updated`, records every
 * client event, and is scripted by the test for everything else — except what the real service
 * does on its own about active responses (set `strictResponses = false` to script that too): it
 * refuses a `response.create` while a response it created is not done
 * (`conversation_already_has_active_response`), and answers `response.cancel` with that
 * response's `response.done` (`cancelled`), or `response_cancel_not_active` when none is active.
 */
export class FakeOpenAIRealtime {
  readonly conns: RealtimeConn[] = [];
  /** HTTP status to refuse the next upgrade with (e.g. 401), once. */
  rejectNext: number | null = null;
  onEvent: ((conn: RealtimeConn, ev: Event) => void) | null = null;
  strictResponses = true;
  private readonly waiters = new Waiters('fake OpenAI Realtime');

  private constructor(
    private readonly https: Server,
    private readonly wss: WebSocketServer,
    private readonly dir: string,
    readonly caFile: string,
  ) {
    wss.on('connection', (ws, req) => {
      const url = new URL(req.url ?? '/', 'https://127.0.0.1');
      const active = new Set<string>();
      const conn: RealtimeConn = {
        ws, model: url.searchParams.get('model'), authorization: req.headers.authorization,
        betaHeader: req.headers['openai-beta'] as string | undefined, received: [], active,
        send: (ev) => {
          const text = typeof ev === 'string' ? ev : JSON.stringify(ev);
          trackActive(active, ev);
          ws.send(text);
        },
      };
      this.conns.push(conn);
      ws.on('message', (data) => {
        const ev = JSON.parse(data.toString()) as Event;
        conn.received.push(ev);
        if (ev.type === 'session.update') conn.send({ type: 'session.updated', event_id: 'evt_su', session: ev.session });
        if (this.strictResponses) this.actAsService(conn, ev);
        this.onEvent?.(conn, ev);
        this.waiters.wake();
      });
      conn.send({ type: 'session.created', event_id: 'evt_sc', session: { id: `sess_${this.conns.length}`, type: 'realtime', model: conn.model } });
      this.waiters.wake();
    });
  }

  /** What the real service does by itself about active responses (see the class comment). */
  private actAsService(conn: RealtimeConn, ev: Event): void {
    const eventId = typeof ev.event_id === 'string' ? ev.event_id : null;
    if (ev.type === 'response.create' && conn.active.size > 0) {
      const busy = [...conn.active][0];
      conn.send({ type: 'error', event_id: 'evt_busy', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: `Conversation already has an active response in progress: ${busy}. Wait until the response is finished before creating a new one.`, param: null, event_id: eventId } });
      ev.refused = true;
    } else if (ev.type === 'response.cancel') {
      const id = typeof ev.response_id === 'string' ? ev.response_id : [...conn.active][0];
      if (id !== undefined && conn.active.has(id)) {
        conn.send({ type: 'response.done', event_id: 'evt_cancelled', response: { id, object: 'realtime.response', status: 'cancelled', status_details: { type: 'cancelled', reason: 'client_cancelled' }, output: [] } });
      } else {
        conn.send({ type: 'error', event_id: 'evt_nocancel', error: { type: 'invalid_request_error', code: 'response_cancel_not_active', message: 'Cancellation failed: no active response found', param: null, event_id: eventId } });
      }
    }
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

  /** A widget connected to the server at `serverUrl`, and the upstream connection the server opened for it. */
  async connectWidget(serverUrl: string): Promise<{ client: WidgetClient; conn: RealtimeConn }> {
    const before = this.conns.length;
    const client = await WidgetClient.connect(serverUrl);
    await client.waitType('config');
    const conn = await this.waitFor(() => this.conns[before]);
    await this.waitEvent(conn, 'session.update');
    return { client, conn };
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
    const assistantItem = { id: itemId, type: 'message', role: 'assistant', status: 'in_progress', content: [] };
    conn.send({ type: 'response.output_item.added', event_id: 'e2', response_id: responseId, output_index: 0, item: assistantItem });
    conn.send({ type: opts.beta ? 'conversation.item.created' : 'conversation.item.added', event_id: 'e2b', previous_item_id: opts.previousItemId ?? null, item: assistantItem });
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
    conn.send({
      type: 'response.done', event_id: 'e5',
      response: { id: responseId, object: 'realtime.response', status: opts.status ?? 'completed', ...(opts.statusDetails && { status_details: opts.statusDetails }), output: [{ id: itemId, type: 'message', role: 'assistant' }] },
    });
  }

  /** A response that ends `failed` or `incomplete` before saying anything (e.g. quota exceeded). */
  failResponse(conn: RealtimeConn, status: 'failed' | 'incomplete', statusDetails: Record<string, unknown>): string {
    const id = `resp_${Math.random().toString(16).slice(2, 10)}`;
    conn.send({ type: 'response.created', event_id: 'x1', response: { id, object: 'realtime.response', status: 'in_progress', output: [] } });
    conn.send({ type: 'response.done', event_id: 'x2', response: { id, object: 'realtime.response', status, status_details: statusDetails, output: [] } });
    return id;
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

/** Keeps `active` in step with the `response.created` / `response.done` the fake sends. */
function trackActive(active: Set<string>, ev: unknown): void {
  let obj = ev;
  if (typeof ev === 'string') {
    if (ev.length > 4096 || !ev.includes('"response.')) return;
    try {
      obj = JSON.parse(ev);
    } catch {
      return;
    }
  }
  if (typeof obj !== 'object' || obj === null) return;
  const e = obj as { type?: unknown; response?: { id?: unknown } };
  const id = typeof e.response?.id === 'string' ? e.response.id : null;
  if (id === null) return;
  if (e.type === 'response.created') active.add(id);
  else if (e.type === 'response.done') active.delete(id);
}
