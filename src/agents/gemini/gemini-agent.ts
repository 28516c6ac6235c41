import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Live, LiveServerMessage, Session } from '@google/genai';
import type { Logger } from 'pino';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { Reconnector } from '../reconnect.js';
import type { Agent, AgentEvents } from '../agent.js';
import { redactSecrets } from '../redact-secrets.js';
import { TOOL_RESULT, isRecord, toolArguments, type ToolDefinition } from '../tools.js';
import { GEMINI_INPUT_SAMPLE_RATE, liveConnectConfig, type GeminiSettings } from './settings.js';

export interface GeminiLiveAgentOptions {
  /** `ai.live` (guarded), shared by the sessions of one server. */
  live: Live;
  settings: GeminiSettings;
  /** Instructions with the knowledge base already appended. */
  instructions: string;
  tools: readonly ToolDefinition[];
  logger: Logger;
  maxReconnects?: number;
  reconnectBaseMs?: number;
  /** Open + `setupComplete`, ms. */
  connectTimeoutMs?: number;
}

const INPUT_MIME = `audio/pcm;rate=${GEMINI_INPUT_SAMPLE_RATE}`;

/**
 * Gemini Live through `@google/genai` (`live.connect`). Socket I/O only.
 *
 * Turns: the first model audio or output transcription of a turn starts a response; `turnComplete`
 * ends it. `serverContent.interrupted` (Gemini's own VAD heard the user) is acted on before
 * anything else in its message: `interrupted` is emitted at once. Gemini has no cancel or
 * truncate: on `cancelResponse` the rest of the generating turn is dropped here until Gemini
 * ends it (`interrupted` or `turnComplete`).
 *
 * Upstream close: non-fatal `AGENT_DISCONNECTED`, then reconnects with backoff, resuming the
 * conversation with the latest session-resumption handle when Gemini gave one; a fatal error
 * after `maxReconnects` failures in a row. A `goAway` triggers the same reconnect early.
 */
export class GeminiLiveAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly inputSampleRate = GEMINI_INPUT_SAMPLE_RATE;
  readonly outputSampleRate = OUTPUT_SAMPLE_RATE;
  private session: Session | null = null;
  private ready = false;
  private closing = false;
  private readonly reconnector: Reconnector;
  private resumptionHandle: string | undefined;
  /** The model turn being received: its id and transcript, or null between turns. */
  private turn: { id: string; transcript: string } | null = null;
  /** Content of a turn the client cancelled, still arriving until Gemini ends it. */
  private discarding = false;
  private userText = '';
  private pendingText: string[] = [];
  private droppedAudioChunks = 0;
  private warnedRate = false;

  constructor(private readonly o: GeminiLiveAgentOptions) {
    super();
    this.reconnector = new Reconnector({
      open: () => this.open(),
      onGiveUp: () => this.emit('error', { code: 'AGENT_DISCONNECTED', message: 'the connection to Gemini Live was lost and could not be restored', fatal: true }),
      onReconnected: (attempts) => this.o.logger.info({ attempts, resumed: this.resumptionHandle !== undefined }, 'Gemini Live reconnected'),
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
    const { live, settings } = this.o;
    return new Promise((resolve, reject) => {
      let settled = false;
      let session: Session | null = null;
      /** Messages the SDK hands over before `connect` resolves (it flushes them just before). */
      const early: LiveServerMessage[] = [];
      const fail = (why: string): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        try {
          session?.close();
        } catch {
          // already closed
        }
        reject(new Error(this.redact(`Gemini Live unavailable: ${why}`)));
      };
      const timer = setTimeout(() => fail('no setupComplete in time'), this.o.connectTimeoutMs ?? 10_000);
      timer.unref();
      live
        .connect({
          model: settings.model,
          config: liveConnectConfig(settings, this.o.instructions, this.o.tools, this.resumptionHandle),
          callbacks: {
            onmessage: (msg) => {
              if (session) {
                if (this.session === session) this.onMessage(msg);
              } else if (!settled && early.length < 64) early.push(msg);
            },
            onerror: (e: { message?: string }) => {
              if (!settled) fail(e?.message ?? 'socket error');
              else this.o.logger.warn(this.redact(`Gemini Live socket: ${e?.message ?? 'error'}`));
            },
            onclose: (e: { code?: number; reason?: string }) => {
              const why = `the connection closed (${e?.code ?? '?'}${e?.reason ? `: ${e.reason}` : ''})`;
              if (!settled) fail(why);
              else if (session) this.onClose(session, why);
            },
          },
        })
        .then(
          (s) => {
            session = s;
            if (settled) {
              s.close(); // timed out or closed meanwhile
              return;
            }
            settled = true;
            clearTimeout(timer);
            if (this.closing) {
              s.close();
              resolve();
              return;
            }
            this.session = s;
            this.ready = true;
            for (const msg of early.splice(0)) this.onMessage(msg);
            for (const text of this.pendingText.splice(0)) this.sendTextNow(text);
            resolve();
          },
          (err: Error) => fail(err.message),
        );
    });
  }

  /** `planned`: a goAway — the client is not told, the conversation resumes on a new socket. */
  private onClose(session: Session, why: string, planned = false): void {
    if (this.session !== session || this.closing) return;
    this.session = null;
    this.ready = false;
    this.discarding = false;
    if (this.turn) this.endTurn();
    this.o.logger.warn(this.redact(`Gemini Live: ${why}; reconnecting`));
    if (!planned) {
      this.emit('error', { code: 'AGENT_DISCONNECTED', message: this.redact(`the connection to Gemini Live was lost (${why}); reconnecting`), fatal: false });
    }
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (!this.closing) this.reconnector.schedule();
  }

  private redact(text: string): string {
    return redactSecrets(text, [this.o.settings.apiKey]);
  }

  // ---- server messages -------------------------------------------------------------------

  private onMessage(msg: LiveServerMessage): void {
    try {
      this.dispatch(msg as unknown as Record<string, unknown>);
    } catch (err) {
      this.o.logger.warn({ err: this.redact((err as Error).message) }, 'Gemini Live message could not be handled; ignored');
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    const content = msg.serverContent;
    if (isRecord(content)) this.onServerContent(content);
    if (isRecord(msg.toolCall)) this.onToolCall(msg.toolCall);
    const resumption = msg.sessionResumptionUpdate;
    if (isRecord(resumption) && resumption.resumable !== false && typeof resumption.newHandle === 'string' && resumption.newHandle) {
      this.resumptionHandle = resumption.newHandle;
    }
    if (isRecord(msg.goAway) && this.session) {
      // The service will close this connection soon: move to a new one between turns.
      this.o.logger.info({ timeLeft: msg.goAway.timeLeft }, 'Gemini Live goAway; reconnecting early');
      const s = this.session;
      this.onClose(s, 'goAway', true);
      try {
        s.close();
      } catch {
        // already closed
      }
    }
  }

  private onServerContent(c: Record<string, unknown>): void {
    // First, before any audio in the same message: the user barged in.
    if (c.interrupted === true) {
      this.discarding = false;
      this.turn = null; // no responseEnd: the session drops the interrupted turn itself
      this.emit('interrupted');
    }
    if (isRecord(c.inputTranscription) && typeof c.inputTranscription.text === 'string') {
      this.userText += c.inputTranscription.text;
      if (c.inputTranscription.finished === true) this.flushUserText();
    }
    if (!this.discarding) {
      const parts = isRecord(c.modelTurn) && Array.isArray(c.modelTurn.parts) ? c.modelTurn.parts : [];
      for (const part of parts) {
        if (!isRecord(part) || !isRecord(part.inlineData) || typeof part.inlineData.data !== 'string') continue;
        const mime = typeof part.inlineData.mimeType === 'string' ? part.inlineData.mimeType : '';
        if (mime && !mime.startsWith('audio/pcm')) continue;
        this.checkRate(mime);
        const pcm = Buffer.from(part.inlineData.data, 'base64');
        if (pcm.length === 0) continue;
        this.startTurn();
        this.emit('audio', pcm);
      }
      if (isRecord(c.outputTranscription) && typeof c.outputTranscription.text === 'string' && c.outputTranscription.text !== '') {
        this.startTurn();
        this.turn!.transcript += c.outputTranscription.text;
        this.emit('transcriptDelta', { text: c.outputTranscription.text });
      }
    }
    if (c.turnComplete === true) {
      this.discarding = false;
      this.flushUserText();
      if (this.turn) this.endTurn();
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
    const responses: Array<{ id?: string; name: string; response: Record<string, unknown> }> = [];
    for (const call of calls) {
      if (!isRecord(call) || typeof call.name !== 'string' || call.name === '') continue;
      this.emit('toolCall', { name: call.name, arguments: toolArguments(call.args) });
      responses.push({ ...(typeof call.id === 'string' && { id: call.id }), name: call.name, response: { ...TOOL_RESULT } });
    }
    if (responses.length > 0 && this.session) this.session.sendToolResponse({ functionResponses: responses });
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
    this.session?.sendClientContent({ turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true });
  }

  appendAudio(pcm: Buffer): void {
    if (!this.ready || !this.session) {
      if (++this.droppedAudioChunks % 50 === 1) this.o.logger.debug({ chunks: this.droppedAudioChunks }, 'microphone audio dropped while Gemini Live reconnects');
      return;
    }
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

  async disconnect(): Promise<void> {
    this.closing = true;
    this.reconnector.stop();
    this.ready = false;
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
