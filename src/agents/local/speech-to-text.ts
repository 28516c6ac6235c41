import { redactUrl } from './chat-completions.js';
import { encodeWav } from '../../audio/wav.js';

/**
 * Speech-to-text, the local agent's plug-in point: one utterance (cut out by the VAD) in,
 * its text out. To add an engine, implement this interface and return it from
 * `createSpeechToText` in ./prepare.ts (see docs/agents-local.md). Implementations must not
 * block the main thread: run a model in a worker thread or talk to a server.
 */
export interface SpeechToText {
  /** A short name for logs. */
  readonly name: string;
  /** Text of one utterance: PCM16 mono at 16 kHz. '' when nothing was recognised. */
  transcribe(pcm16k: Int16Array, signal?: AbortSignal): Promise<string>;
}

export class SpeechToTextError extends Error {
  constructor(readonly code: 'STT_UNAVAILABLE' | 'STT_FAILED', message: string) {
    super(message);
    this.name = 'SpeechToTextError';
  }
}

export interface OpenAiCompatibleSttOptions {
  /** Base URL such as `http://localhost:8000/v1`, or the full `…/audio/transcriptions` URL. */
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

export function transcriptionsUrl(base: string): string {
  const trimmed = base.replace(/\/+$/, '');
  return /\/audio\/transcriptions$/.test(trimmed) ? trimmed : `${trimmed}/audio/transcriptions`;
}

/**
 * The OpenAI `POST /v1/audio/transcriptions` API (multipart upload of a WAV file), as served by
 * local servers: whisper.cpp's `whisper-server` (`--inference-path /v1/audio/transcriptions`),
 * faster-whisper-server / speaches, LocalAI, vLLM — or OpenAI itself.
 */
export class OpenAiCompatibleStt implements SpeechToText {
  readonly name = 'openai-compatible';
  readonly endpoint: string;
  private readonly sampleRate: number;

  constructor(private readonly o: OpenAiCompatibleSttOptions) {
    this.endpoint = transcriptionsUrl(o.url);
    this.sampleRate = o.sampleRate ?? 16_000;
  }

  async transcribe(pcm16k: Int16Array, signal?: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append('file', new Blob([encodeWav(pcm16k, this.sampleRate)], { type: 'audio/wav' }), 'speech.wav');
    form.append('model', this.o.model);
    form.append('response_format', 'json');
    if (this.o.language) form.append('language', this.o.language);
    if (this.o.prompt) form.append('prompt', this.o.prompt);
    const headers: Record<string, string> = {};
    if (this.o.apiKey) headers.authorization = `Bearer ${this.o.apiKey}`;
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const where = redactUrl(this.endpoint);
    let res: Response;
    try {
      res = await fetch(this.endpoint, { method: 'POST', body: form, headers, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      const cause = (err as { cause?: unknown }).cause;
      const reason = timeout.aborted ? `no answer within ${this.o.timeoutMs} ms` : cause instanceof Error ? cause.message : (err as Error).message;
      throw new SpeechToTextError('STT_UNAVAILABLE', `cannot reach the speech recogniser at ${where}: ${reason}`);
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) throw new SpeechToTextError('STT_FAILED', `the speech recogniser at ${where} answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
    // response_format=json gives {"text": …}; some servers answer plain text whatever was asked.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return text.trim();
    }
    if (typeof parsed === 'string') return parsed.trim();
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { text?: unknown }).text === 'string') return (parsed as { text: string }).text.trim();
    throw new SpeechToTextError('STT_FAILED', `the speech recogniser at ${where} answered without a "text" field`);
  }
}
