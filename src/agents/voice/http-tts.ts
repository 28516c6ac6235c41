import type OpenAI from 'openai';
import type { Piscina } from 'piscina';
import { createWorkerPool } from '../../inference/worker-pool.js';
import type { Logger } from 'pino';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import type { SpeechAudio, TextToSpeech } from '../offline/flite-tts.js';
import type { DecodeResult, DecodeTask } from './decode-protocol.js';
import { openAiClient, redactUrl, upstreamError, type ErrorWording } from './openai-http.js';
import { estimateWordTimings } from './word-timings.js';

export interface HttpTtsOptions {
  /** Base URL such as `http://127.0.0.1:8000/v1`. */
  url: string;
  apiKey?: string | undefined;
  /** The server's model id (speaches: `speaches-ai/Kokoro-82M-v1.0-ONNX`, a Piper model…). */
  model: string;
  voice: string;
  /** 1 = the voice's own pace. */
  speed: number;
  timeoutMs: number;
  /** Pace of the estimated word timings (the agent's *_TRANSCRIPT_SPEED), chars/s. */
  charsPerSecond: number;
  sampleRate?: number;
  logger?: Logger;
}

/** Longest answer taken from a speech server: ~5 min of 24 kHz speech. */
const MAX_WAV_BYTES = 16 << 20;

/**
 * Speech from any OpenAI-compatible `POST /v1/audio/speech` server (speaches serving Piper or
 * Kokoro, LocalAI, Kokoro-FastAPI, OpenAI) through the `openai` SDK, one sentence per request.
 * WAV is asked for because its header names the rate; the decode and the resampling to the
 * pipeline's 24 kHz run in one worker thread shared by all sessions. The server reports no word
 * timings, so they are estimated (estimateWordTimings) at the transcript speed.
 */
export class HttpTts implements TextToSpeech {
  readonly sampleRate: number;
  readonly endpoint: string;
  private readonly client: OpenAI;
  private readonly pool: Piscina;
  private readonly wording: ErrorWording;
  private warming: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly o: HttpTtsOptions) {
    const base = o.url.replace(/\/+$/, '').replace(/\/audio\/speech$/, '');
    this.endpoint = `${base}/audio/speech`;
    this.sampleRate = o.sampleRate ?? OUTPUT_SAMPLE_RATE;
    this.client = openAiClient({ baseUrl: base, apiKey: o.apiKey, timeoutMs: o.timeoutMs, maxRetries: 0 });
    this.wording = { what: 'the speech server', where: redactUrl(this.endpoint), unavailableCode: 'TTS_UNAVAILABLE', failedCode: 'TTS_FAILED', secrets: o.apiKey ? [o.apiKey] : [] };
    this.pool = createWorkerPool({ worker: 'speech-decode', threads: 1, maxQueue: 256, logger: o.logger, errorMessage: 'speech decode pool error' });
  }

  async synthesize(text: string): Promise<SpeechAudio> {
    if (this.closed) throw new Error('the speech client is closed');
    const startMs = performance.now();
    let wav: ArrayBuffer;
    try {
      const res = await this.client.audio.speech.create(
        { model: this.o.model, voice: this.o.voice, input: text, response_format: 'wav', speed: this.o.speed },
        { signal: AbortSignal.timeout(this.o.timeoutMs) },
      );
      const length = Number(res.headers.get('content-length') ?? '0');
      if (length > MAX_WAV_BYTES) throw new Error(`answer of ${length} bytes is too large`);
      wav = await res.arrayBuffer();
    } catch (err) {
      throw upstreamError(err, this.wording);
    }
    if (wav.byteLength > MAX_WAV_BYTES) throw upstreamError(new Error(`answer of ${wav.byteLength} bytes is too large`), this.wording);
    const task: DecodeTask = { wav, sampleRate: this.sampleRate };
    let result: DecodeResult;
    try {
      result = (await this.pool.run(task, { transferList: [wav] })) as DecodeResult;
    } catch (err) {
      throw upstreamError(new Error(`its answer is not usable audio (${err instanceof Error ? err.message : String(err)}); ask for WAV`), this.wording);
    }
    const synthMs = performance.now() - startMs;
    this.o.logger?.debug({ chars: text.length, audioMs: Math.round(result.durationMs), synthMs: Math.round(synthMs), sourceRate: result.sourceSampleRate }, 'http tts');
    return { pcm: Buffer.from(result.pcm), sampleRate: result.sampleRate, durationMs: result.durationMs, synthMs, words: estimateWordTimings(text, result.durationMs, this.o.charsPerSecond) };
  }

  /** One tiny synthesis (server reachable, voice known, worker started); a failure rejects and is tried again next time. */
  warm(): Promise<void> {
    if (!this.warming) {
      this.warming = this.synthesize('Hi.').then(
        () => undefined,
        (err: unknown) => {
          this.warming = null;
          throw err;
        },
      );
    }
    return this.warming;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}
