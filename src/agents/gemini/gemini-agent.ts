import { randomUUID } from 'node:crypto';
import type { Live, LiveServerMessage, Session } from '@google/genai';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import type { Agent } from '../agent.js';
import { CloudRealtimeAgent, type CloudRealtimeOptions } from '../cloud-realtime-agent.js';
import { TOOL_RESULT, isRecord } from '../tools.js';
import { BoundedIdSet } from '../bounded-ids.js';
import { MAX_RESPONSE_TEXT_CHARS, checkedToolCall, decodeUpstreamAudio, upstreamId, upstreamText } from '../upstream-fields.js';
import { GEMINI_INPUT_SAMPLE_RATE, liveConnectConfig, type GeminiSettings } from './settings.js';

export interface GeminiLiveAgentOptions extends CloudRealtimeOptions {
  /** `ai.live` (guarded), shared by the sessions of one server. */
  live: Live;
  settings: GeminiSettings;
}

const INPUT_MIME = `audio/pcm;rate=${GEMINI_INPUT_SAMPLE_RATE}`;
/** Session-resumption handles are opaque tokens; a longer "handle" is not one. */
const MAX_RESUMPTION_HANDLE_CHARS = 4096;

/**
 * Gemini Live through `@google/genai` (`live.connect`). Socket I/O only.
 *
 * Turns: the first model audio or output transcription of a turn starts a response; `turnComplete`
 * ends it. `serverContent.interrupted` (Gemini's own VAD heard the user) is acted on before
 * anything else in its message: `interrupted` is emitted at once. Gemini has no cancel or
 * truncate: on `cancelResponse` the rest of the generating turn is dropped here until Gemini
 * ends it (`interrupted` or `turnComplete`).
 *
 * `generationComplete`: the model has generated all of the turn; audio after it in the same turn
 * is dropped, while output transcription (which Gemini sends independently of the audio) is
 * still added until `turnComplete` ends the turn.
 *
 * Tools: each declared tool called in `toolCall` becomes `toolCall` (once per call id) and is
 * answered at once; `toolCallCancellation` is logged (its actions already reached the widget)
 * and a call it names that arrives later is not triggered.
 *
 * Upstream close: non-fatal `AGENT_DISCONNECTED`, then reconnects with backoff, resuming the
 * conversation with the latest session-resumption handle when Gemini gave one; a fatal error
 * after `maxReconnects` failures in a row. A handle whose connection fails before it proved
 * itself (expired, unknown) is dropped after that first failure: the next attempt starts a new
 * conversation instead of failing on the same handle until the session dies.
 *
 * `goAway` (the service will close this connection soon): the agent moves to a new connection
 * between turns — at once when idle, else when the current exchange ends (`turnComplete`) —
 * without telling the client. If the service closes first, the reconnect is the same; the client
 * hears of it only when a response was cut.
 *
 * Every server message is untrusted (see guarded-websocket.ts and upstream-fields.ts): wrongly
 * typed or oversized fields are ignored and logged, never an exception.
 */
export class GeminiLiveAgent extends CloudRealtimeAgent implements Agent {
  readonly inputSampleRate = GEMINI_INPUT_SAMPLE_RATE;
  private session: Session | null = null;
  private resumptionHandle: string | undefined;
  /** The model turn being received: its id and transcript, or null between turns. */
  private turn: { id: string; transcript: string } | null = null;
  /** Content of a turn the client cancelled, still arriving until Gemini ends it. */
  private discarding = false;
  private userText = '';
  private pendingText: string[] = [];
  private warnedRate = false;
  /** The model turn got `generationComplete`: no more audio for it. */
  private generationDone = false;
  /** The user spoke or typed (or a tool answered) and the model has not finished its turn yet. */
  private awaitingReply = false;
  /** `goAway` received on the current connection: reconnect as soon as idle. */
  private goAwayPending = false;
  /** The resumption handle the current connection opened with, until the connection proves itself. */
  private handleOnTrial: string | undefined;
  private readonly handledCalls = new BoundedIdSet();
  private readonly cancelledCalls = new BoundedIdSet();

  constructor(private readonly o: GeminiLiveAgentOptions) {
    super('Gemini Live', o, o.settings.apiKey);
  }

  protected override reconnectedDetail(): Record<string, unknown> {
    return { resumed: this.resumptionHandle !== undefined };
  }

  // ---- connection ------------------------------------------------------------------------

  protected open(): Promise<void> {
    const { live, settings } = this.o;
    return new Promise((resolve, reject) => {
      let session: Session | null = null;
      /** Messages the SDK hands over before `connect` resolves (it flushes them just before). */
      const early: LiveServerMessage[] = [];
      const handle = this.resumptionHandle;
      const attempt = this.attempt(resolve, reject, 'no setupComplete in time', (why) => {
        this.dropResumptionHandle(handle, why);
        try {
          session?.close();
        } catch {
          // already closed
        }
      });
      const fail = (why: string): void => attempt.fail(why);
      live
        .connect({
          model: settings.model,
          config: liveConnectConfig(settings, this.o.instructions, this.o.tools, this.resumptionHandle),
          callbacks: {
            onmessage: (msg) => {
              if (session) {
                if (this.session === session) this.onMessage(msg);
              } else if (!attempt.settled && early.length < 64) early.push(msg);
            },
            onerror: (e: { message?: unknown }) => {
              const why = typeof e?.message === 'string' ? e.message : 'socket error';
              if (!attempt.settled) fail(why);
              else this.o.logger.warn(this.redact(`Gemini Live socket: ${why}`));
            },
            onclose: (e: { code?: unknown; reason?: unknown }) => {
              const reason = typeof e?.reason === 'string' ? e.reason.slice(0, 200) : '';
              const why = `the connection closed (${typeof e?.code === 'number' ? e.code : '?'}${reason ? `: ${reason}` : ''})`;
              if (!attempt.settled) fail(why);
              else if (session) this.onClose(session, why);
            },
          },
        })
        .then(
          (s) => {
            session = s;
            if (attempt.settled) {
              s.close(); // timed out or closed meanwhile
              return;
            }
            if (this.closing) {
              s.close();
              attempt.succeed();
              return;
            }
            this.session = s;
            this.ready = true;
            this.goAwayPending = false;
            this.handleOnTrial = handle;
            for (const msg of early.splice(0)) this.onMessage(msg);
            for (const text of this.pendingText.splice(0)) this.sendTextNow(text);
            attempt.succeed();
          },
          (err: Error) => fail(err.message),
        );
    });
  }

  /**
   * `planned`: our own move after a goAway. A close the service announced with goAway is not
   * reported to the client either, unless it cut a response.
   */
  private onClose(session: Session, why: string, planned = false): void {
    if (this.session !== session || this.closing) return;
    this.session = null;
    this.ready = false;
    this.discarding = false;
    this.awaitingReply = false;
    const cut = this.turn !== null;
    if (this.turn) this.endTurn();
    if (!planned) this.dropResumptionHandle(this.handleOnTrial, why);
    this.o.logger.warn(this.redact(`Gemini Live: ${why}; reconnecting`));
    if (!(planned || this.goAwayPending) || cut) {
      this.emit('error', { code: 'AGENT_DISCONNECTED', message: this.redact(`the connection to Gemini Live was lost (${why}); reconnecting`), fatal: false });
    }
    this.scheduleReconnect();
  }

  /** A connection opened with `handle` failed before it proved itself: never offer that handle again. */
  private dropResumptionHandle(handle: string | undefined, why: string): void {
    if (handle === undefined) return;
    this.handleOnTrial = undefined;
    if (this.resumptionHandle !== handle) return;
    this.resumptionHandle = undefined;
    this.o.logger.warn(this.redact(`Gemini Live could not resume the conversation (${why}); the next connection starts a new one`));
  }

  /** Move to a new connection now (after goAway, between turns). */
  private reconnectNow(): void {
    const s = this.session;
    if (!s) return;
    this.o.logger.info('Gemini Live goAway: moving to a new connection between turns');
    this.onClose(s, 'goAway', true);
    try {
      s.close();
    } catch {
      // already closed
    }
  }

  private get idle(): boolean {
    return this.turn === null && !this.discarding && !this.awaitingReply;
  }

  // ---- server messages -------------------------------------------------------------------

  private onMessage(msg: LiveServerMessage): void {
    this.guarded('a message', () => this.dispatch(msg as unknown as Record<string, unknown>));
  }

  private dispatch(msg: Record<string, unknown>): void {
    if (isRecord(msg.serverContent) || isRecord(msg.toolCall) || isRecord(msg.sessionResumptionUpdate)) this.handleOnTrial = undefined;
    const content = msg.serverContent;
    if (isRecord(content)) this.onServerContent(content);
    if (isRecord(msg.toolCall)) this.onToolCall(msg.toolCall);
    if (isRecord(msg.toolCallCancellation)) this.onToolCallCancellation(msg.toolCallCancellation);
    const resumption = msg.sessionResumptionUpdate;
    if (isRecord(resumption) && resumption.resumable !== false) {
      const handle = resumption.newHandle;
      if (typeof handle === 'string' && handle !== '' && handle.length <= MAX_RESUMPTION_HANDLE_CHARS) this.resumptionHandle = handle;
    }
    if (isRecord(msg.goAway) && this.session && !this.goAwayPending) {
      // The service will close this connection soon: move to a new one between turns.
      this.goAwayPending = true;
      this.o.logger.info({ timeLeft: upstreamText(msg.goAway.timeLeft).slice(0, 32), idle: this.idle }, 'Gemini Live goAway');
      if (this.idle) this.reconnectNow();
    }
  }

  private onServerContent(c: Record<string, unknown>): void {
    // First, before any audio in the same message: the user barged in.
    if (c.interrupted === true) {
      this.discarding = false;
      this.turn = null; // no responseEnd: the session drops the interrupted turn itself
      this.awaitingReply = true; // the user is speaking: an answer comes
      this.emit('interrupted');
    }
    if (isRecord(c.inputTranscription)) {
      const text = upstreamText(c.inputTranscription.text);
      if (text && this.userText.length + text.length <= MAX_RESPONSE_TEXT_CHARS) this.userText += text;
      if (text) this.awaitingReply = true;
      if (c.inputTranscription.finished === true) this.flushUserText();
    }
    if (!this.discarding) {
      const parts = isRecord(c.modelTurn) && Array.isArray(c.modelTurn.parts) ? c.modelTurn.parts : [];
      for (const part of parts) {
        if (!isRecord(part) || !isRecord(part.inlineData)) continue;
        const rawMime = part.inlineData.mimeType;
        if (rawMime !== undefined && typeof rawMime !== 'string') {
          this.ignored.note('inline data with a mimeType that is not a string');
          continue;
        }
        const mime = (rawMime ?? '').slice(0, 100);
        if (mime && !mime.startsWith('audio/pcm')) continue;
        const pcm = decodeUpstreamAudio(part.inlineData.data);
        if (!pcm) {
          this.ignored.note('audio that is not base64');
          continue;
        }
        if (pcm.length === 0) continue;
        if (this.turn && this.generationDone) {
          this.ignored.note('audio after generationComplete');
          continue;
        }
        this.checkRate(mime);
        this.startTurn();
        this.emit('audio', pcm);
      }
      const said = isRecord(c.outputTranscription) ? upstreamText(c.outputTranscription.text) : '';
      if (said !== '') {
        this.startTurn();
        const turn = this.turn!;
        if (turn.transcript.length + said.length <= MAX_RESPONSE_TEXT_CHARS) {
          turn.transcript += said;
          this.emit('transcriptDelta', { text: said });
        } else this.ignored.note(`more than ${MAX_RESPONSE_TEXT_CHARS} characters of text in one response`);
      }
    }
    if (c.generationComplete === true && this.turn) this.generationDone = true;
    if (c.turnComplete === true) {
      this.discarding = false;
      this.awaitingReply = false;
      this.flushUserText();
      if (this.turn) this.endTurn();
      if (this.goAwayPending && this.idle) this.reconnectNow();
    }
  }

  private checkRate(mime: string): void {
    const rate = /rate=(\d+)/.exec(mime)?.[1];
    if (rate && Number(rate) !== OUTPUT_SAMPLE_RATE && !this.warnedRate) {
      this.warnedRate = true;
      this.o.logger.warn({ mime }, `Gemini Live audio is not at ${OUTPUT_SAMPLE_RATE} Hz; it is played as if it were`);
    }
  }

  private startTurn(): void {
    if (this.turn) return;
    // What the user said comes before the answer, even when Gemini's transcript is late.
    this.flushUserText();
    this.generationDone = false;
    this.turn = { id: `gemini_${randomUUID()}`, transcript: '' };
    this.emit('responseStart', { responseId: this.turn.id });
  }

  private endTurn(): void {
    const turn = this.turn!;
    this.turn = null;
    this.emit('responseEnd', { responseId: turn.id, transcript: turn.transcript.trim() });
  }

  private flushUserText(): void {
    const text = this.userText.trim();
    this.userText = '';
    if (text) this.emit('userTranscript', { text });
  }

  private onToolCall(toolCall: Record<string, unknown>): void {
    const calls = Array.isArray(toolCall.functionCalls) ? toolCall.functionCalls : [];
    const responses: Array<{ id: string; name: string; response: Record<string, unknown> }> = [];
    for (const raw of calls) {
      if (!isRecord(raw)) continue;
      const id = upstreamId(raw.id);
      if (this.handledCalls.has(id) || this.cancelledCalls.has(id)) continue;
      const call = checkedToolCall(raw.name, raw.args, this.declaredTools);
      if (!call) {
        this.ignored.note('a call of an undeclared tool');
        continue;
      }
      this.handledCalls.add(id);
      this.awaitingReply = true; // the model goes on once it has the tool response
      this.emit('toolCall', call);
      // The Gemini API matches a response to its call by id; a call without one cannot be answered.
      if (id) responses.push({ id, name: call.name, response: { ...TOOL_RESULT } });
    }
    if (responses.length > 0 && this.session) this.session.sendToolResponse({ functionResponses: responses });
  }

  private onToolCallCancellation(cancellation: Record<string, unknown>): void {
    const ids = (Array.isArray(cancellation.ids) ? cancellation.ids : []).map(upstreamId).filter((id) => id !== '').slice(0, 64);
    for (const id of ids) this.cancelledCalls.add(id);
    // The actions already reached the widget (there is nothing to take back on the wire).
    this.o.logger.info({ ids }, 'Gemini Live cancelled tool calls');
  }

  // ---- Agent -----------------------------------------------------------------------------

  sendText(text: string): void {
    if (!this.ready) {
      if (this.pendingText.length < 32) this.pendingText.push(text);
      return;
    }
    this.sendTextNow(text);
  }

  private sendTextNow(text: string): void {
    this.awaitingReply = true;
    this.session?.sendClientContent({ turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true });
  }

  appendAudio(pcm: Buffer): void {
    if (!this.ready || !this.session) return this.dropMicAudio();
    this.session.sendRealtimeInput({ audio: { data: pcm.toString('base64'), mimeType: INPUT_MIME } });
  }

  commitAudio(): void {
    // Automatic activity detection ends turns itself; this flushes audio Gemini holds back.
    if (this.ready) this.session?.sendRealtimeInput({ audioStreamEnd: true });
  }

  cancelResponse(_offsetMs: number): void {
    // Gemini cannot truncate what it said; drop the rest of a turn still being generated.
    if (this.turn) {
      this.turn = null;
      this.discarding = true;
    }
  }

  protected closeConnection(): void {
    const s = this.session;
    this.session = null;
    this.pendingText = [];
    try {
      s?.close();
    } catch {
      // already closed
    }
  }
}
