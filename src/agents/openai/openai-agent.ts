import type OpenAI from 'openai';
import { OpenAIRealtimeWS } from 'openai/realtime/ws';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import type { Agent } from '../agent.js';
import { CloudRealtimeAgent, type CloudRealtimeOptions } from '../cloud-realtime-agent.js';
import { TOOL_RESULT, isRecord } from '../tools.js';
import { sessionUpdate, type OpenAISettings } from './settings.js';
import { MAX_RESPONSE_TEXT_CHARS, decodeUpstreamAudio, upstreamErrorText, upstreamId, upstreamText } from '../upstream-fields.js';
import { takeOverRealtimeFrames } from './realtime-frames.js';
import { RealtimeToolCalls } from './realtime-tools.js';
import { addTurnAudio, newRealtimeTurn, truncationEvents, type RealtimeTurn } from './realtime-turn.js';
import { BoundedIdMap, BoundedIdSet } from '../bounded-ids.js';

export interface OpenAIRealtimeAgentOptions extends CloudRealtimeOptions {
  /** Holds the API key and base URL; shared by the sessions of one server. */
  client: OpenAI;
  settings: OpenAISettings;
}

/** Text typed while reconnecting is delivered afterwards (bounded); microphone audio is not. */
const MAX_OUTBOX = 32;
/** OpenAI refuses a `response.create` while another response is active (until its `response.done`). */
const ACTIVE_RESPONSE_CODE = 'conversation_already_has_active_response';
/** Refusals in a row (no `response.done` between) after which a deferred create just waits. */
const MAX_CREATE_REFUSALS = 3;

/**
 * OpenAI Realtime over WebSocket (the `openai` package's `OpenAIRealtimeWS`, GA interface).
 * Socket I/O only. Server events with GA names and their beta equivalents are both understood.
 *
 * Interrupts: `input_audio_buffer.speech_started` → `interrupted`; on `cancelResponse(offsetMs)`
 * the active response is cancelled and the assistant item being played is truncated to what the
 * client heard, so the model forgets the unspoken rest.
 *
 * Typed text while a response is active but has not spoken yet (the session has nothing to
 * interrupt): that response is cancelled first and the new `response.create` waits for its
 * `response.done`, because OpenAI refuses a second active response. A `response.create` refused
 * for that reason anyway (a race with server VAD or a barge-in cancel) is sent again once the
 * active response is done; the client never sees that refusal.
 *
 * A response that ends `failed` or `incomplete` (quota, content filter, token limit) ends the turn
 * with what already arrived, and the client gets an `AGENT_ERROR` saying why.
 *
 * Every server event is untrusted (see realtime-frames.ts and upstream-fields.ts): wrongly typed
 * or oversized fields make the event (or the field) ignored and logged, never an exception.
 *
 * Upstream close: a non-fatal `AGENT_DISCONNECTED` error, then reconnects with backoff (a new
 * Realtime session, configured again; the conversation so far is not carried over). After
 * `maxReconnects` failed attempts in a row: a fatal error, and the server closes the session.
 */
export class OpenAIRealtimeAgent extends CloudRealtimeAgent implements Agent {
  readonly inputSampleRate = OUTPUT_SAMPLE_RATE;
  private rt: OpenAIRealtimeWS | null = null;
  private outbox: object[] = [];
  private turn: RealtimeTurn | null = null;
  private activeResponseId: string | null = null;
  private readonly cancelled = new BoundedIdSet();
  private readonly ownEventIds = new BoundedIdSet();
  private readonly tools: RealtimeToolCalls;
  private eventSeq = 0;
  private uncommittedAudio = false;
  /** A `response.create` waits until no response is active (see the class comment). */
  private createDeferred = false;
  /** `response.create`s refused since the last `response.done` or user message. */
  private createRefusals = 0;
  /** Conversation item → the item before it (`previous_item_id`), for transcripts. */
  private readonly previousItemIds = new BoundedIdMap();

  constructor(private readonly o: OpenAIRealtimeAgentOptions) {
    super('OpenAI Realtime', o, o.settings.apiKey);
    this.tools = new RealtimeToolCalls(this.declaredTools);
  }

  // ---- connection ------------------------------------------------------------------------

  protected open(): Promise<void> {
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
      const attempt = this.attempt(resolve, reject, 'no session.created in time', () => {
        if (this.rt === rt) this.rt = null;
        rt.socket.removeAllListeners('close');
        rt.socket.on('error', () => {}); // a terminate() during the handshake emits one more
        rt.socket.terminate();
      });
      rt.on('error', (err) => {
        // Socket errors only: server `error` events are parsed by takeOverRealtimeFrames.
        const why = String(err?.message);
        if (!attempt.settled) return attempt.fail(why);
        logger.warn(this.redact(`OpenAI Realtime socket: ${why}`));
      });
      takeOverRealtimeFrames(rt, (event) => {
        if (this.rt !== rt) return; // a socket we already gave up on
        if (!attempt.settled && (event.type === 'session.created' || event.type === 'session.updated')) {
          this.ready = true;
          attempt.succeed();
        }
        this.guarded('an event', () => this.dispatch(event.type, event), { type: event.type });
      }, this.ignored);
      rt.socket.once('open', () => {
        rt.send(sessionUpdate(settings, this.o.instructions, this.o.tools) as never);
        const queued = this.outbox;
        this.outbox = [];
        for (const m of queued) rt.send(m as never);
      });
      rt.socket.on('close', (code) => {
        if (!attempt.settled) return attempt.fail(`the connection closed (${code})`);
        this.onClose(rt, code);
      });
    });
  }

  private onClose(rt: OpenAIRealtimeWS, code: number): void {
    if (this.rt !== rt || this.closing) return;
    this.rt = null;
    this.ready = false;
    this.activeResponseId = null;
    this.createDeferred = false;
    // The client plays out what already arrived; the rest of that response is gone.
    if (this.turn?.open) this.endTurn(this.turn);
    this.o.logger.warn({ code }, 'OpenAI Realtime connection closed; reconnecting');
    this.emit('error', { code: 'AGENT_DISCONNECTED', message: 'the connection to OpenAI Realtime was lost; reconnecting', fatal: false });
    this.scheduleReconnect();
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

  // ---- server events ---------------------------------------------------------------------

  private dispatch(type: string, ev: Record<string, unknown>): void {
    switch (type) {
      case 'response.created': {
        const id = upstreamId(isRecord(ev.response) ? ev.response.id : undefined);
        if (!id) return this.ignored.note('response.created without a response id');
        this.activeResponseId = id;
        this.turnFor(id);
        return;
      }
      case 'response.output_audio.delta':
      case 'response.audio.delta': {
        const responseId = upstreamId(ev.response_id);
        if (this.cancelled.has(responseId)) return;
        const pcm = decodeUpstreamAudio(ev.delta);
        if (!pcm) return this.ignored.note('an audio delta that is not base64', { type });
        if (pcm.length === 0) return;
        const turn = this.turnFor(responseId);
        addTurnAudio(turn, upstreamId(ev.item_id), pcm.length);
        this.startTurn(turn);
        this.emit('audio', pcm);
        return;
      }
      case 'response.output_audio_transcript.delta':
      case 'response.audio_transcript.delta':
      case 'response.output_text.delta':
      case 'response.text.delta': {
        const responseId = upstreamId(ev.response_id);
        const delta = upstreamText(ev.delta);
        if (delta === '' || this.cancelled.has(responseId)) return;
        const turn = this.turnFor(responseId);
        if (turn.transcript.length + delta.length > MAX_RESPONSE_TEXT_CHARS) {
          if (!turn.textCapped) this.ignored.note(`more than ${MAX_RESPONSE_TEXT_CHARS} characters of text in one response`);
          turn.textCapped = true;
          return;
        }
        this.startTurn(turn);
        turn.transcript += delta;
        const itemId = upstreamId(ev.item_id);
        const previousItemId = this.previousItemIds.get(itemId);
        this.emit('transcriptDelta', { text: delta, ...(itemId && { itemId }), ...(previousItemId && { previousItemId }) });
        return;
      }
      case 'conversation.item.added':
      case 'conversation.item.created': {
        const itemId = upstreamId(isRecord(ev.item) ? ev.item.id : undefined);
        const previous = upstreamId(ev.previous_item_id);
        if (itemId && previous) this.previousItemIds.set(itemId, previous);
        return;
      }
      case 'response.output_item.added':
      case 'response.output_item.done': {
        const item = ev.item;
        if (!isRecord(item) || item.type !== 'function_call') return;
        const callId = upstreamId(item.call_id);
        this.tools.noteName(callId, item.name);
        if (type === 'response.output_item.done') this.onFunctionCall(upstreamId(ev.response_id), callId, item.name, item.arguments);
        return;
      }
      case 'response.function_call_arguments.done':
        this.onFunctionCall(upstreamId(ev.response_id), upstreamId(ev.call_id), ev.name, ev.arguments);
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
      case 'conversation.item.input_audio_transcription.delta': {
        const text = upstreamText(ev.delta);
        const itemId = upstreamId(ev.item_id);
        if (text) this.emit('userTranscriptDelta', { text, ...(itemId && { itemId }) });
        return;
      }
      case 'conversation.item.input_audio_transcription.completed': {
        const text = upstreamText(ev.transcript).trim();
        const itemId = upstreamId(ev.item_id);
        if (text) this.emit('userTranscript', { text, ...(itemId && { itemId }) });
        return;
      }
      case 'conversation.item.input_audio_transcription.failed':
        // The user's words are not shown; the model still heard the audio and answers it.
        this.o.logger.warn(
          { itemId: upstreamId(ev.item_id), code: upstreamId(isRecord(ev.error) ? ev.error.code : undefined) },
          this.redact(`OpenAI Realtime could not transcribe the user: ${upstreamErrorText(ev.error)}`),
        );
        return;
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
  private turnFor(responseId: string): RealtimeTurn {
    let turn = this.turn;
    if (!turn || !turn.open) {
      turn = newRealtimeTurn(responseId);
      this.turn = turn;
    }
    if (responseId) turn.responseIds.add(responseId);
    return turn;
  }

  private startTurn(turn: RealtimeTurn): void {
    if (turn.started) return;
    turn.started = true;
    this.emit('responseStart', { responseId: turn.id });
  }

  private endTurn(turn: RealtimeTurn): void {
    if (!turn.open) return;
    turn.open = false;
    if (turn.started) this.emit('responseEnd', { responseId: turn.id, transcript: turn.transcript });
  }

  private onFunctionCall(responseId: string, callId: string, rawName: unknown, rawArgs: unknown): void {
    if (this.cancelled.has(responseId)) return;
    const call = this.tools.complete(responseId, callId, rawName, rawArgs);
    // Not one of our tools (the model can call nothing else): nothing for the widget.
    if (call === 'undeclared') return this.ignored.note('a call of an undeclared tool', { callId });
    if (!call) return;
    this.emit('toolCall', call);
    this.send({ type: 'conversation.item.create', item: { type: 'function_call_output', call_id: callId, output: JSON.stringify(TOOL_RESULT) } });
  }

  private onResponseDone(response: unknown): void {
    if (!isRecord(response)) return this.ignored.note('response.done without a response object');
    const id = upstreamId(response.id);
    const status = upstreamText(response.status);
    if (Array.isArray(response.output)) {
      for (const item of response.output) {
        if (isRecord(item) && item.type === 'function_call') this.onFunctionCall(id, upstreamId(item.call_id), item.name, item.arguments);
      }
    }
    if (this.activeResponseId === id) this.activeResponseId = null;
    this.createRefusals = 0;
    // A response.create that had to wait for this response goes out now.
    if (this.createDeferred && this.activeResponseId === null) this.sendResponseCreate();
    if (this.cancelled.has(id)) return;
    const turn = this.turn;
    const ownTurn = turn !== null && turn.open && (!id || turn.responseIds.has(id));
    if (status === 'failed' || status === 'incomplete') {
      // The client plays what already arrived, then hears why the answer stopped.
      if (ownTurn) this.endTurn(turn);
      this.reportUnfinished(id, status, response.status_details);
      return;
    }
    if (!ownTurn) return;
    if (this.tools.calledTool(id) && status === 'completed') {
      // The model called a tool and got its output: let it go on speaking in the same turn.
      this.sendResponseCreate();
      return;
    }
    this.endTurn(turn);
  }

  private reportUnfinished(responseId: string, status: string, details: unknown): void {
    const d = isRecord(details) ? details : {};
    const reason = status === 'failed' ? upstreamErrorText(d.error, upstreamText(d.reason) || 'no reason given') : upstreamText(d.reason).slice(0, 100) || 'no reason given';
    const message = this.redact(`OpenAI Realtime response ${status}: ${reason}`);
    this.o.logger.warn({ responseId, status }, message);
    this.emit('error', { code: 'AGENT_ERROR', message, fatal: false });
  }

  private onServerError(error: unknown): void {
    const e = isRecord(error) ? error : {};
    const code = upstreamId(e.code);
    const message = this.redact(upstreamErrorText(error));
    if (code === ACTIVE_RESPONSE_CODE) {
      // Our response.create met a response still active (server VAD started one, or a cancel has
      // not finished yet): send it again when that response is done. A response that has not
      // spoken yet is cancelled, as typed text would have done had we known of it.
      this.o.logger.debug({ code }, 'OpenAI Realtime: response.create deferred until the active response is done');
      this.createDeferred = true;
      // Bounded: a service that keeps refusing yet reports nothing active must not make us loop.
      if (++this.createRefusals > MAX_CREATE_REFUSALS) return;
      const active = this.activeResponseId;
      if (active) {
        if (!this.turn?.started) this.cancelActive(active);
      } else {
        // Active, yet we never heard of it (its response.created is late or was unusable): it
        // has said nothing to the user, so it goes, like any silent response before typed text.
        this.send({ type: 'response.cancel', event_id: this.ownEventId('cancel') }, false);
      }
      return;
    }
    // Errors caused by our own cancel/truncate racing the server (the response already ended,
    // the server already truncated on VAD) change nothing for the user.
    if (this.ownEventIds.has(upstreamId(e.event_id)) || code === 'response_cancel_not_active') {
      this.o.logger.debug({ code }, `OpenAI Realtime: ${message}`);
      if (this.createDeferred && this.activeResponseId === null && code === 'response_cancel_not_active' && this.createRefusals <= MAX_CREATE_REFUSALS) this.sendResponseCreate();
      return;
    }
    this.o.logger.warn({ code, type: upstreamId(e.type) }, `OpenAI Realtime error: ${message}`);
    this.emit('error', { code: 'AGENT_ERROR', message: `OpenAI Realtime: ${message}`, fatal: false });
  }

  private sendResponseCreate(): void {
    this.createDeferred = false;
    this.send({ type: 'response.create' });
  }

  /** Cancel the active response; a turn of it that has not spoken yet is dropped unannounced. */
  private cancelActive(responseId: string): void {
    this.send({ type: 'response.cancel', response_id: responseId, event_id: this.ownEventId('cancel') }, false);
    this.cancelled.add(responseId);
    if (this.activeResponseId === responseId) this.activeResponseId = null;
    const turn = this.turn;
    if (turn && !turn.started && turn.responseIds.has(responseId)) {
      turn.open = false;
      this.turn = null;
    }
  }

  // ---- Agent -----------------------------------------------------------------------------

  sendText(text: string): void {
    this.send({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [{ type: 'input_text', text }] } });
    this.createRefusals = 0;
    const active = this.activeResponseId;
    if (active && !this.cancelled.has(active)) {
      // A response exists but has not spoken yet (a speaking one was interrupted by the session
      // before this call): cancel it, and ask for the answer once it is done.
      this.cancelActive(active);
      this.createDeferred = true;
      return;
    }
    // Also when a create is already deferred: if that wait were stuck (an upstream that never
    // finishes a response), the user's next message still gets through; a refusal defers again.
    this.sendResponseCreate();
  }

  appendAudio(pcm: Buffer): void {
    if (!this.ready) return this.dropMicAudio();
    this.uncommittedAudio = true;
    this.send({ type: 'input_audio_buffer.append', audio: pcm.toString('base64') }, false);
  }

  commitAudio(): void {
    // With server/semantic VAD the server commits on its own; manual turn-taking commits here.
    if (this.o.settings.turnDetection !== null || !this.uncommittedAudio) return;
    this.uncommittedAudio = false;
    this.send({ type: 'input_audio_buffer.commit' });
    this.sendResponseCreate();
  }

  cancelResponse(offsetMs: number): void {
    const active = this.activeResponseId;
    if (active && !this.cancelled.has(active)) this.cancelActive(active);
    this.activeResponseId = null;
    const turn = this.turn;
    if (!turn) return;
    this.turn = null;
    for (const id of turn.responseIds) this.cancelled.add(id);
    turn.open = false;
    // Cut the assistant audio the client never heard out of the conversation.
    for (const ev of truncationEvents(turn, Math.max(0, offsetMs))) this.send({ ...ev, event_id: this.ownEventId(String(ev.type).split('.').pop()!) }, false);
  }

  protected closeConnection(): void {
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
