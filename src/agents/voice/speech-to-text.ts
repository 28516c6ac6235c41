import type OpenAI from 'openai';
import { toFile } from 'openai';
import { encodeWav } from '../../audio/wav.js';
import { openAiClient, redactUrl, upstreamError, UpstreamError, type ErrorWording } from './openai-http.js';

/**
 * Speech-to-text, the voice agents' plug-in point: one utterance (cut out by the VAD) in, its
 * text out. To add an engine, implement this interface (docs/agents-local.md). Implementations
 * must not block the main thread: run a model in a worker thread or talk to a server.
 */
export interface SpeechToText {
  /** A short name for logs. */
  readonly name: string;
  /** Text of one utterance: PCM16 mono at 16 kHz. '' when nothing was recognised. */
  transcribe(pcm16k: Int16Array, signal?: AbortSignal): Promise<string>;
}

export interface OpenAiCompatibleSttOptions {
  /** Base URL such as `http://localhost:8000/v1` (a trailing `/audio/transcriptions` is dropped). */
  url: string;
  model: string;
  apiKey?: string | undefined;
  /** ISO-639-1 hint, e.g. `en`; omitted → the server detects the language. */
  language?: string | undefined;
  /** Optional text that steers the recogniser's vocabulary (names, jargon). */
  prompt?: string | undefined;
  timeoutMs: number;
  sampleRate?: number;
}

/** Longest transcript taken from a server, characters: a runaway answer is not a user turn. */
const MAX_TRANSCRIPT_CHARS = 4000;

/**
 * The OpenAI `POST /v1/audio/transcriptions` API (multipart upload of a WAV file) through the
 * `openai` SDK, as served by whisper.cpp's server, faster-whisper-server / speaches, LocalAI,
 * vLLM — or OpenAI itself. Errors: STT_UNAVAILABLE (cannot connect, timeout), STT_FAILED.
 */
export class OpenAiCompatibleStt implements SpeechToText {
  readonly name = 'openai-compatible';
  readonly endpoint: string;
  private readonly sampleRate: number;
  private readonly client: OpenAI;
  private readonly wording: ErrorWording;

  constructor(private readonly o: OpenAiCompatibleSttOptions) {
    const base = o.url.replace(/\/+$/, '').replace(/\/audio\/transcriptions$/, '');
    this.endpoint = `${base}/audio/transcriptions`;
    this.sampleRate = o.sampleRate ?? 16_000;
    this.client = openAiClient({ baseUrl: base, apiKey: o.apiKey, timeoutMs: o.timeoutMs, maxRetries: 0 });
    this.wording = { what: 'the speech recogniser', where: redactUrl(this.endpoint), unavailableCode: 'STT_UNAVAILABLE', failedCode: 'STT_FAILED', secrets: o.apiKey ? [o.apiKey] : [] };
  }

  async transcribe(pcm16k: Int16Array, signal?: AbortSignal): Promise<string> {
    let answer: unknown;
    try {
      const file = await toFile(encodeWav(pcm16k, this.sampleRate), 'speech.wav', { type: 'audio/wav' });
      answer = await this.client.audio.transcriptions.create(
        {
          file,
          model: this.o.model,
          response_format: 'json',
          ...(this.o.language ? { language: this.o.language } : {}),
          ...(this.o.prompt ? { prompt: this.o.prompt } : {}),
        },
        signal ? { signal } : {},
      );
    } catch (err) {
      throw upstreamError(err, this.wording, signal);
    }
    // response_format=json gives {"text": …}; some servers answer plain text whatever was asked.
    if (typeof answer === 'string') return answer.trim().slice(0, MAX_TRANSCRIPT_CHARS);
    const text = typeof answer === 'object' && answer !== null ? (answer as { text?: unknown }).text : undefined;
    if (typeof text !== 'string') throw new UpstreamError('STT_FAILED', `the speech recogniser at ${this.wording.where} answered without a "text" field`);
    return text.trim().slice(0, MAX_TRANSCRIPT_CHARS);
  }
}
