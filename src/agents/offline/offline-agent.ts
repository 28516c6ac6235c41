import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Agent, AgentContext, AgentEvents } from '../agent.js';
import { BYTES_PER_SAMPLE, OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { AsyncQueue } from '../local/async-queue.js';
import { speakSentences } from '../local/reply-speaker.js';
import type { TextToSpeech } from './flite-tts.js';
import { responderFor, type Responder } from './responder.js';
import { DEFAULT_MAX_SENTENCE_CHARS, splitSentences } from './sentences.js';
import { ErrorCode } from '../../protocol/widget-client.js';

export interface OfflineAgentOptions extends AgentContext {
  /** The server's shared TTS (one pool for all sessions). */
  tts: TextToSpeech;
  /** Default: one responder shared by all sessions with the same knowledge base. */
  responder?: Responder;
  /** Audio event size, ms of speech. */
  chunkMs?: number;
  maxSentenceChars?: number;
}

/** Speech audio is sent in 100 ms deltas, the size real-time APIs and the widget use. */
const DEFAULT_CHUNK_MS = 100;
/**
 * Spoken (and shown) when the user talks to this agent, once per mic stream: a face that never
 * reacts to speech looks broken, so it says why and what to do instead.
 */
export const NO_SPEECH_INPUT_REPLY = "Sorry, I can't hear you. Speech input needs AGENT_TYPE=local, or a cloud agent. Please type instead.";
const NO_SPEECH_INPUT_ERROR = 'this agent has no speech recognition: speech input needs AGENT_TYPE=local (or a cloud agent: sample_openai, sample_gemini, remote); type instead';

interface ResponseRun {
  readonly id: string;
  cancelled: boolean;
}

function newRun(): ResponseRun {
  return { id: `offline_${randomUUID()}`, cancelled: false };
}

/**
 * The default agent: works with no API key and no network. Typed text → built-in responder →
 * flite TTS (worker thread) sentence by sentence → events streamed like a cloud agent's, faster
 * than real time but yielding to the event loop between chunks.
 *
 * It has no speech recognition: microphone audio is dropped (nothing is stored); the first audio
 * of each mic stream gets a short spoken reply saying so, and an error with its own code
 * (SPEECH_INPUT_UNSUPPORTED) for clients that show errors. `instructions` are not used (there is
 * no language model).
 */
export class OfflineAgent extends EventEmitter<AgentEvents> implements Agent {
  /** Mic audio is ignored, so any rate works; the widget's usual one avoids a resample on its side. */
  readonly inputSampleRate = OUTPUT_SAMPLE_RATE;
  readonly outputSampleRate: number;
  private readonly tts: TextToSpeech;
  private readonly responder: Responder;
  private readonly logger: Logger;
  private readonly chunkBytes: number;
  private readonly maxSentenceChars: number;
  private current: ResponseRun | null = null;
  /** The spoken mic hint, waiting for the response being emitted to finish (never cut into it). */
  private queued: { run: ResponseRun; text: string } | null = null;
  private disconnected = false;
  /** Only counted, for the log line. */
  private ignoredAudioBytes = 0;
  /** The current mic stream already got its hint. */
  private micHintGiven = false;

  constructor(opts: OfflineAgentOptions) {
    super();
    this.tts = opts.tts;
    this.outputSampleRate = opts.tts.sampleRate;
    this.responder = opts.responder ?? responderFor(opts.knowledgeBase);
    this.logger = opts.logger;
    const chunkMs = opts.chunkMs ?? DEFAULT_CHUNK_MS;
    this.chunkBytes = Math.max(1, Math.round((chunkMs * this.outputSampleRate) / 1000)) * BYTES_PER_SAMPLE;
    this.maxSentenceChars = opts.maxSentenceChars ?? DEFAULT_MAX_SENTENCE_CHARS;
  }

  /** Warms the shared TTS so the first reply is not slowed by thread start and wasm compilation. */
  async connect(): Promise<void> {
    if (this.disconnected) throw new Error('the offline agent was disconnected');
    await this.tts.warm();
  }

  sendText(text: string): void {
    if (this.disconnected) {
      this.logger.debug('offline agent: text after disconnect ignored');
      return;
    }
    this.stopCurrent();
    const reply = this.responder.reply(text);
    this.logger.debug({ kind: reply.kind }, 'offline agent reply');
    this.start(newRun(), reply.text);
  }

  startAudioStream(): void {
    this.micHintGiven = false;
  }

  appendAudio(pcm: Buffer): void {
    this.ignoredAudioBytes += pcm.length;
    if (this.micHintGiven || this.disconnected) return;
    this.micHintGiven = true;
    this.reportError({ code: ErrorCode.SPEECH_INPUT_UNSUPPORTED, message: NO_SPEECH_INPUT_ERROR, fatal: false });
    // After the reply being emitted, if any: the session plays responses in order.
    if (this.current) {
      if (!this.queued) this.queued = { run: newRun(), text: NO_SPEECH_INPUT_REPLY };
    } else this.start(newRun(), NO_SPEECH_INPUT_REPLY);
  }

  commitAudio(): void {
    if (this.ignoredAudioBytes > 0) {
      this.logger.info({ audioMs: Math.round((this.ignoredAudioBytes / BYTES_PER_SAMPLE / this.inputSampleRate) * 1000) }, 'offline agent has no speech recognition: microphone audio ignored, type instead');
    }
    this.ignoredAudioBytes = 0;
  }

  private start(response: ResponseRun, text: string): void {
    this.current = response;
    this.respond(response, text).then(
      () => this.startQueued(),
      (err: unknown) => {
        // A listener threw: the response cannot go on, but the process must not go down with it.
        this.logger.error({ err, responseId: response.id }, 'offline agent response failed');
        if (this.current === response) this.current = null;
        this.queued = null;
      },
    );
  }

  private startQueued(): void {
    if (this.current || !this.queued || this.disconnected) return;
    const { run, text } = this.queued;
    this.queued = null;
    this.start(run, text);
  }

  cancelResponse(offsetMs: number): void {
    if (this.current) this.logger.debug({ responseId: this.current.id, offsetMs }, 'offline agent: response cancelled');
    this.stopCurrent();
  }

  async disconnect(): Promise<void> {
    this.disconnected = true;
    this.stopCurrent();
  }

  private stopCurrent(): void {
    if (this.current) this.current.cancelled = true;
    this.current = null;
    this.queued = null;
  }

  /**
   * Speaks `replyText` sentence by sentence (speakSentences: each sentence's text goes out just
   * before its audio, with the time each of its words is spoken, from the TTS).
   */
  private async respond(response: ResponseRun, replyText: string): Promise<void> {
    // Never emit from inside sendText: the caller may still be in the middle of its own bookkeeping.
    await yieldToEventLoop();
    if (response.cancelled) return;
    const sentences = new AsyncQueue<string>();
    const split = splitSentences(replyText, this.maxSentenceChars);
    for (const sentence of split) sentences.push(sentence);
    sentences.end();
    this.logger.debug({ responseId: response.id, sentences: split.length }, 'offline agent speaks');
    this.emit('responseStart', { responseId: response.id });
    const outcome = await speakSentences(sentences, this.tts, this.chunkBytes, {
      cancelled: () => response.cancelled,
      onStart: () => {},
      onText: (delta) => this.emit('transcriptDelta', delta),
      onAudio: (chunk) => this.emit('audio', chunk),
    });
    if (outcome.kind === 'cancelled' || response.cancelled) return;
    if (outcome.kind === 'failed') {
      // The rest of the reply is dropped, and the transcript says only what was spoken.
      this.reportError({ code: 'TTS_FAILED', message: `speech synthesis failed: ${outcome.err instanceof Error ? outcome.err.message : String(outcome.err)}`, fatal: false });
      if (response.cancelled) return;
    }
    this.current = null;
    this.emit('responseEnd', { responseId: response.id, transcript: outcome.spoken.map((x) => x.text).join(' ') });
  }

  /** An `error` event with nobody listening would throw (EventEmitter rule): log it instead. */
  private reportError(err: AgentEvents['error'][0]): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.logger.error(err, 'offline agent error (no listener)');
  }
}
