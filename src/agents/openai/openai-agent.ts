import { EventEmitter } from 'node:events';
import type OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import type { Logger } from 'pino';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { Reconnector } from '../reconnect.js';
import type { Agent, AgentEvents } from '../agent.js';
import { TOOL_RESULT, isRecord, toolArguments, type ToolDefinition } from '../tools.js';
import { sessionUpdate, type OpenAISettings } from './settings.js';
import { redactSecrets } from '../redact-secrets.js';

export interface OpenAIRealtimeAgentOptions {
  /** Holds the API key and base URL; shared by the sessions of one server. */
  client: OpenAI;
  settings: OpenAISettings;
  /** Instructions with the knowledge base already appended. */
  instructions: string;
  tools: readonly ToolDefinition[];
  logger: Logger;
  /** Reconnect attempts after an unexpected close before giving up (fatal error). */
  maxReconnects?: number;
  /** First reconnect delay; doubles per attempt, capped at 5 s. */
  reconnectBaseMs?: number;
  /** Open + `session.created`, ms. */
  connectTimeoutMs?: number;
}

/** Bytes of 24 kHz PCM16 per millisecond. */
const BYTES_PER_MS = (OUTPUT_SAMPLE_RATE * 2) / 1000;
/** Text typed while reconnecting is delivered afterwards (bounded); microphone audio is not. */
const MAX_OUTBOX = 32;
/** Remembered ids (cancelled responses, handled calls, own event ids) — only recent ones matter. */
const MAX_REMEMBERED = 64;

/**
 * What the client hears as one turn: one response, or a chain of them when a response called a
 * tool and the follow-up response (after the tool output) continues speaking.
 */
interface Turn {
  id: string;
  responseIds: Set<string>;
  /** Assistant audio items in arrival order, with the bytes received for each. */
  items: Array<{ itemId: string; bytes: number }>;
  transcript: string;
  /** `responseStart` emitted (first audio or transcript arrived). */
  started: boolean;
  /** Still receiving; false once ended (kept for truncation while the client plays it). */
  open: boolean;
}

/**
 * OpenAI Realtime over WebSocket (the `openai` package's `OpenAIRealtimeWS`, GA interface).
 * Socket I/O only. Server events with GA names and their beta equivalents are both understood.
 *
 * Interrupts: `input_audio_buffer.speech_started` → `interrupted`; on `cancelResponse(offsetMs)`
 * the active response is cancelled and the assistant item being played is truncated to what the
 * client heard, so the model forgets the unspoken rest.
 *
 * Upstream close: a non-fatal `AGENT_DISCONNECTED` error, then reconnects with backoff (a new
 * Realtime session, configured again; the conversation so far is not carried over). After
 * `maxReconnects` failed attempts in a row: a fatal error, and the server closes the session.
 */
export class OpenAIRealtimeAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly inputSampleRate = OUTPUT_SAMPLE_RATE;
  readonly outputSampleRate = OUTPUT_SAMPLE_RATE;
  private rt: OpenAIRealtimeWS | null = null;
  private ready = false;
  private closing = false;
  private readonly reconnector: Reconnector;
  private outbox: object[] = [];
  private turn: Turn | null = null;
  private activeResponseId: string | null = null;
  private readonly cancelled = new BoundedSet();
  private readonly handledCalls = new BoundedSet();
  private readonly ownEventIds = new BoundedSet();
  private readonly callNames = new Map<string, string>();
  /** Responses that called a tool: a follow-up `response.create` goes out when they finish. */
  private readonly toolResponses = new BoundedSet();
  private eventSeq = 0;
  private uncommittedAudio = false;
  private droppedAudioChunks = 0;

  constructor(private readonly o: OpenAIRealtimeAgentOptions) {
    super();
    this.reconnector = new Reconnector({
      open: () => this.open(),
      onGiveUp: () => this.emit('error', { code: 'AGENT_DISCONNECTED', message: 'the connection to OpenAI Realtime was lost and could not be restored', fatal: true }),
      onReconnected: (attempts) => this.o.logger.info({ attempts }, 'OpenAI Realtime reconnected'),
      onAttemptFailed: (err, attempt) => this.o.logger.warn({ attempt }, err.message),
      maxAttempts: this.o.maxReconnects,
      baseMs: this.o.reconnectBaseMs,
    });
  }

  async connect(): Promise<void> {
    await this.open();
  }

  // ---- connection ------------------------------------------------------------------------

  private open(): Promise<void> {
    const { client, settings, logger } = this.o;
    return new Promise((resolve, reject) => {
      let rt: OpenAIRealtimeWS;
      try {
        rt = new OpenAIRealtimeWS({ model: settings.model, options: { handshakeTimeout: this.o.connectTimeoutMs ?? 10_000, maxPayload: 16 << 20 } }, client);
      } catch (err) {
        reject(new Error(this.redact(`cannot open the OpenAI Realtime connection: ${(err as Error).message}`)));
        return;
      }
      this.rt = rt;
      this.ready = false;
      let settled = false;
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.rt === rt) this.rt = null;
        rt.socket.removeAllListeners('close');
        rt.socket.on('error', () => {}); // a terminate() during the handshake emits one more
        rt.socket.terminate();
        reject(new Error(this.redact(`OpenAI Realtime unavailable: ${why}`)));
      };
      const timer = setTimeout(() => fail('no session.created in time'), this.o.connectTimeoutMs ?? 10_000);
      timer.unref();
      rt.on('error', (err) => {
        // Server `error` events arrive through 'event' too and are handled there.
        if (err.error) return;
        if (!settled) return fail(err.message);
        logger.warn(this.redact(`OpenAI Realtime socket: ${err.message}`));
      });
      rt.on('event', (ev) => {
        const event = ev as unknown;
        if (!settled && isRecord(event) && (event.type === 'session.created' || event.type === 'session.updated')) {
          settled = true;
          clearTimeout(timer);
          this.ready = true;
          resolve();
        }
        this.onEvent(event);
      });
      rt.socket.once('open', () => {
        rt.send(sessionUpdate(settings, this.o.instructions, this.o.tools) as never);
        const queued = this.outbox;
        this.outbox = [];
        for (const m of queued) rt.send(m as never);
      });
      rt.socket.on('close', (code) => {
        if (!settled) return fail(`the connection closed (${code})`);
        this.onClose(rt, code);
      });
    });
  }

  private onClose(rt: OpenAIRealtimeWS, code: number): void {
    if (this.rt !== rt || this.closing) return;
    this.rt = null;
    this.ready = false;
    this.activeResponseId = null;
    // The client plays out what already arrived; the rest of that response is gone.
    if (this.turn?.open) this.endTurn(this.turn);
    this.o.logger.warn({ code }, 'OpenAI Realtime connection closed; reconnecting');
    this.emit('error', { code: 'AGENT_DISCONNECTED', message: 'the connection to OpenAI Realtime was lost; reconnecting', fatal: false });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.closing) this.reconnector.schedule();
  }

  /** Client events go out now, or — text and control only — after the reconnect. */
  private send(event: Record<string, unknown>, queueWhileDown = true): void {
    if (this.rt && this.rt.socket.readyState === 1) {
      this.rt.send(event as never);
      return;
    }
    if (this.closing || !queueWhileDown) return;
    if (this.outbox.length >= MAX_OUTBOX) this.outbox.shift();
    this.outbox.push(event);
  }

  private ownEventId(kind: string): string {
    const id = `evt_${kind}_${++this.eventSeq}`;
    this.ownEventIds.add(id);
    return id;
  }

  private redact(text: string): string {
    return redactSecrets(text, [this.o.settings.apiKey]);
  }

  // ---- server events ---------------------------------------------------------------------

  private onEvent(ev: unknown): void {
    if (!isRecord(ev) || typeof ev.type !== 'string') {
      this.o.logger.debug('OpenAI Realtime sent an event without a type; ignored');
      return;
    }
    try {
      this.dispatch(ev.type, ev);
    } catch (err) {
      // A malformed event must never take the session (or the server) down.
      this.o.logger.warn({ type: ev.type, err: this.redact((err as Error).message) }, 'OpenAI Realtime event could not be handled; ignored');
    }
  }

  private dispatch(type: string, ev: Record<string, unknown>): void {
    switch (type) {
      case 'response.created': {
        const id = str(isRecord(ev.response) ? ev.response.id : undefined);
        if (!id) return;
        this.activeResponseId = id;
        this.turnFor(id);
        return;
      }
      case 'response.output_audio.delta':
      case 'response.audio.delta': {
        const responseId = str(ev.response_id);
        const itemId = str(ev.item_id);
        if (typeof ev.delta !== 'string' || this.cancelled.has(responseId)) return;
        const pcm = Buffer.from(ev.delta, 'base64');
        if (pcm.length === 0) return;
        const turn = this.turnFor(responseId);
        const last = turn.items[turn.items.length - 1];
        if (last && last.itemId === itemId) last.bytes += pcm.length;
        else turn.items.push({ itemId, bytes: pcm.length });
        this.startTurn(turn);
        this.emit('audio', pcm);
        return;
      }
      case 'response.output_audio_transcript.delta':
      case 'response.audio_transcript.delta':
      case 'response.output_text.delta':
      case 'response.text.delta': {
        const responseId = str(ev.response_id);
        if (typeof ev.delta !== 'string' || ev.delta === '' || this.cancelled.has(responseId)) return;
        const turn = this.turnFor(responseId);
        this.startTurn(turn);
        turn.transcript += ev.delta;
        this.emit('transcriptDelta', { text: ev.delta });
        return;
      }
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const item = ev.item;
        if (!isRecord(item) || item.type !== 'function_call') return;
        const callId = str(item.call_id);
        if (typeof item.name === 'string') this.callNames.set(callId, item.name);
        if (type === 'response.output_item.done') this.onFunctionCall(str(ev.response_id), callId, item.name, item.arguments);
        return;
      }
      case 'response.function_call_arguments.done':
        this.onFunctionCall(str(ev.response_id), str(ev.call_id), ev.name, ev.arguments);
        return;
      case 'response.done':
        this.onResponseDone(ev.response);
        return;
      case 'input_audio_buffer.speech_started':
        // Barge-in: the session interrupts the playing turn and calls cancelResponse with what
        // the client heard. Sent even when nothing plays; the session then does nothing.
        this.emit('interrupted');
        return;
      case 'input_audio_buffer.committed':
        this.uncommittedAudio = false;
        return;
      case 'conversation.item.input_audio_transcription.completed': {
        const text = typeof ev.transcript === 'string' ? ev.transcript.trim() : '';
        if (text) this.emit('userTranscript', { text });
        return;
      }
      case 'error':
        this.onServerError(ev.error);
        return;
      case 'session.created':
      case 'session.updated':
        this.o.logger.debug({ type }, 'OpenAI Realtime session configured');
        return;
      default:
        // Many events carry nothing we need (rate_limits.updated, content parts, …).
        return;
    }
  }

  /** The turn a response's output belongs to: the open one, or a new one. */
  private turnFor(responseId: string): Turn {
    let turn = this.turn;
    if (!turn || !turn.open) {
      turn = { id: responseId || `resp_${Date.now()}`, responseIds: new Set(), items: [], transcript: '', started: false, open: true };
      this.turn = turn;
    }
    if (responseId) turn.responseIds.add(responseId);
    return turn;
  }

  private startTurn(turn: Turn): void {
    if (turn.started) return;
    turn.started = true;
    this.emit('responseStart', { responseId: turn.id });
  }

  private endTurn(turn: Turn): void {
    if (!turn.open) return;
    turn.open = false;
    if (turn.started) this.emit('responseEnd', { responseId: turn.id, transcript: turn.transcript });
  }

  private onFunctionCall(responseId: string, callId: string, rawName: unknown, rawArgs: unknown): void {
    const name = typeof rawName === 'string' && rawName ? rawName : this.callNames.get(callId);
    if (!callId || !name || this.handledCalls.has(callId) || this.cancelled.has(responseId)) return;
    this.handledCalls.add(callId);
    this.callNames.delete(callId);
    if (responseId) this.toolResponses.add(responseId);
    this.emit('toolCall', { name, arguments: toolArguments(rawArgs) });
    this.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: JSON.stringify(TOOL_RESULT) } });
  }

  private onResponseDone(response: unknown): void {
    if (!isRecord(response)) return;
    const id = str(response.id);
    if (Array.isArray(response.output)) {
      for (const item of response.output) {
        if (isRecord(item) && item.type === 'function_call') this.onFunctionCall(id, str(item.call_id), item.name, item.arguments);
      }
    }
    if (this.activeResponseId === id) this.activeResponseId = null;
    if (this.cancelled.has(id)) return;
    const turn = this.turn;
    if (!turn || !turn.open || (id && !turn.responseIds.has(id))) return;
    if (this.toolResponses.has(id) && response.status === 'completed') {
      // The model called a tool and got its output: let it go on speaking in the same turn.
      this.send({ type: 'response.create' });
      return;
    }
    this.endTurn(turn);
  }

  private onServerError(error: unknown): void {
    const e = isRecord(error) ? error : {};
    const code = str(e.code);
    const message = this.redact(typeof e.message === 'string' ? e.message : 'unknown error');
    // Errors caused by our own cancel/truncate racing the server (the response already ended,
    // the server already truncated on VAD) change nothing for the user.
    if (this.ownEventIds.has(str(e.event_id)) || code === 'response_cancel_not_active') {
      this.o.logger.debug({ code }, `OpenAI Realtime: ${message}`);
      return;
    }
    this.o.logger.warn({ code, type: e.type }, `OpenAI Realtime error: ${message}`);
    this.emit('error', { code: 'AGENT_ERROR', message: `OpenAI Realtime: ${message}`, fatal: false });
  }

  // ---- Agent -----------------------------------------------------------------------------

  sendText(text: string): void {
    this.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    this.send({ type: 'response.create' });
  }

  appendAudio(pcm: Buffer): void {
    if (!this.ready) {
      // Stale microphone audio is worse than none for server VAD; it is dropped while down.
      if (++this.droppedAudioChunks % 50 === 1) this.o.logger.debug({ chunks: this.droppedAudioChunks }, 'microphone audio dropped while OpenAI Realtime reconnects');
      return;
    }
    this.uncommittedAudio = true;
    this.send({ type: 'input_audio_buffer.append', audio: pcm.toString('base64') }, false);
  }

  commitAudio(): void {
    // With server/semantic VAD the server commits on its own; manual turn-taking commits here.
    if (this.o.settings.turnDetection !== null || !this.uncommittedAudio) return;
    this.uncommittedAudio = false;
    this.send({ type: 'input_audio_buffer.commit' });
    this.send({ type: 'response.create' });
  }

  cancelResponse(offsetMs: number): void {
    const active = this.activeResponseId;
    if (active && !this.cancelled.has(active)) {
      this.send({ type: 'response.cancel', response_id: active, event_id: this.ownEventId('cancel') }, false);
    }
    if (active) this.cancelled.add(active);
    this.activeResponseId = null;
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    for (const id of turn.responseIds) this.cancelled.add(id);
    turn.open = false;
    this.truncate(turn, Math.max(0, offsetMs));
  }

  /** Cut the assistant audio the client never heard out of the conversation. */
  private truncate(turn: Turn, offsetMs: number): void {
    let startMs = 0;
    for (let i = 0; i < turn.items.length; i++) {
      const item = turn.items[i]!;
      const itemMs = item.bytes / BYTES_PER_MS;
      const last = i === turn.items.length - 1;
      if (offsetMs < startMs + itemMs || last) {
        const audioEndMs = Math.floor(Math.min(offsetMs - startMs, itemMs));
        if (item.itemId) {
          this.send({ type: 'conversation.item.truncate', item_id: item.itemId, content_index: 0, audio_end_ms: Math.max(0, audioEndMs), event_id: this.ownEventId('truncate') }, false);
        }
        for (const later of turn.items.slice(i + 1)) {
          if (later.itemId) this.send({ type: 'conversation.item.delete', item_id: later.itemId, event_id: this.ownEventId('delete') }, false);
        }
        return;
      }
      startMs += itemMs;
    }
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    this.reconnector.stop();
    this.ready = false;
    const rt = this.rt;
    this.rt = null;
    this.outbox = [];
    if (!rt) return;
    const ws = rt.socket;
    if (ws.readyState === 0) {
      ws.on('error', () => {});
      ws.terminate();
    } else if (ws.readyState === 1) {
      rt.close({ code: 1000, reason: 'session closed' });
    }
  }
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

/** A set that forgets its oldest entries beyond MAX_REMEMBERED. */
class BoundedSet {
  private readonly items = new Set<string>();
  add(v: string): void {
    if (!v) return;
    this.items.add(v);
    if (this.items.size > MAX_REMEMBERED) this.items.delete(this.items.values().next().value as string);
  }
  has(v: string): boolean {
    return v !== '' && this.items.has(v);
  }
}
