import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Agent, AgentContext, AgentEvents } from '../agent.js';
import { BYTES_PER_SAMPLE, OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { AudioChunker } from './audio-chunker.js';
import type { SpeechAudio, TextToSpeech } from './flite-tts.js';
import { responderFor, type Responder } from './responder.js';
import { DEFAULT_MAX_SENTENCE_CHARS, splitSentences, splitWords } from './sentences.js';

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

interface ResponseRun {
  readonly id: string;
  cancelled: boolean;
}

type Synthesis = { ok: true; speech: SpeechAudio } | { ok: false; message: string };

/**
 * The default agent: works with no API key and no network. Typed text → built-in responder →
 * flite TTS (worker thread) sentence by sentence → events streamed like a cloud agent's, faster
 * than real time but yielding to the event loop between chunks.
 *
 * It has no speech recognition: microphone audio is accepted and dropped (nothing is stored),
 * and `commitAudio` starts no response. `instructions` are not used (there is no language model).
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
  private disconnected = false;
  /** Only counted, for the log line that explains why speaking does nothing. */
  private ignoredAudioBytes = 0;

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
    const response: ResponseRun = { id: `offline_${randomUUID()}`, cancelled: false };
    this.current = response;
    this.respond(response, text).catch((err: unknown) => {
      // A listener threw: the response cannot go on, but the process must not go down with it.
      this.logger.error({ err, responseId: response.id }, 'offline agent response failed');
      if (this.current === response) this.current = null;
    });
  }

  appendAudio(pcm: Buffer): void {
    this.ignoredAudioBytes += pcm.length;
  }

  commitAudio(): void {
    if (this.ignoredAudioBytes > 0) {
      this.logger.info({ audioMs: Math.round((this.ignoredAudioBytes / BYTES_PER_SAMPLE / this.inputSampleRate) * 1000) }, 'offline agent has no speech recognition: microphone audio ignored, type instead');
    }
    this.ignoredAudioBytes = 0;
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
  }

  /** Never rejects: a failed synthesis becomes a value, so a prefetch nobody awaits cannot go unhandled. */
  private synthesize(sentence: string): Promise<Synthesis> {
    return this.tts.synthesize(sentence).then(
      (speech): Synthesis => ({ ok: true, speech }),
      (err: unknown): Synthesis => ({ ok: false, message: err instanceof Error ? err.message : String(err) }),
    );
  }

  private async respond(response: ResponseRun, userText: string): Promise<void> {
    // Never emit from inside sendText: the caller may still be in the middle of its own bookkeeping.
    await yieldToEventLoop();
    if (response.cancelled) return;
    const reply = this.responder.reply(userText);
    const sentences = splitSentences(reply.text, this.maxSentenceChars);
    this.logger.debug({ responseId: response.id, kind: reply.kind, sentences: sentences.length }, 'offline agent reply');
    this.emit('responseStart', { responseId: response.id });

    const chunker = new AudioChunker(this.chunkBytes);
    const spoken: string[] = [];
    // One sentence ahead: the next one synthesizes while this one streams, yet a long reply
    // does not fill the shared pool's queue ahead of other sessions.
    let next: Promise<Synthesis> | null = sentences.length > 0 ? this.synthesize(sentences[0]!) : null;
    for (let i = 0; next !== null; i++) {
      const result = await next;
      if (response.cancelled) return;
      if (!result.ok) {
        this.reportError({ code: 'TTS_FAILED', message: `speech synthesis failed: ${result.message}`, fatal: false });
        if (response.cancelled) return;
        // The rest of the reply is dropped, and the transcript says only what was spoken.
        break;
      }
      next = i + 1 < sentences.length ? this.synthesize(sentences[i + 1]!) : null;
      for (const word of splitWords(sentences[i]!)) {
        this.emit('transcriptDelta', { text: word });
        if (response.cancelled) return;
      }
      spoken.push(sentences[i]!);
      for (const chunk of chunker.push(result.speech.pcm)) {
        await yieldToEventLoop();
        if (response.cancelled) return;
        this.emit('audio', chunk);
      }
    }
    const last = chunker.flush();
    if (last) {
      await yieldToEventLoop();
      if (response.cancelled) return;
      this.emit('audio', last);
    }
    if (response.cancelled) return;
    this.current = null;
    this.emit('responseEnd', { responseId: response.id, transcript: spoken.join(' ') });
  }

  /** An `error` event with nobody listening would throw (EventEmitter rule): log it instead. */
  private reportError(err: AgentEvents['error'][0]): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else this.logger.error(err, 'offline agent error (no listener)');
  }
}
