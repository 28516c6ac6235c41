import type { Piscina } from 'piscina';
import { createWorkerPool } from '../../inference/worker-pool.js';
import type { Logger } from 'pino';
import { OUTPUT_SAMPLE_RATE } from '../../audio/constants.js';
import { DEFAULT_FLITE_VOICE, FLITE_VOICES, isFliteVoice, type FliteVoice, type TtsResult, type TtsTask } from './tts-protocol.js';

/** Synthesized speech, PCM16 LE mono. */
export interface SpeechAudio {
  pcm: Buffer;
  sampleRate: number;
  durationMs: number;
  /** Worker time spent on it. */
  synthMs: number;
  /**
   * When each word of the synthesized text is spoken, in order, ms from the start of `pcm`:
   * exact where the engine reports timings (flite's phone durations), else an estimate.
   */
  words?: SpokenWord[];
}

/** One word of synthesized speech and when it is spoken. */
export interface SpokenWord {
  text: string;
  startMs: number;
  endMs: number;
}

/** What an agent needs from a speech synthesizer; `FliteTts` is the one we ship. */
export interface TextToSpeech {
  readonly sampleRate: number;
  synthesize(text: string): Promise<SpeechAudio>;
  /** Resolves when a synthesis has run end to end (threads started, module compiled and warm). */
  warm(): Promise<void>;
}

export interface FliteTtsOptions {
  /** Flite voice (`TTS_VOICE`). */
  voice?: string;
  /** Worker threads; TTS is ~50x faster than real time, so one serves many sessions. */
  threads?: number;
  /** Tasks waiting for a thread before `synthesize` rejects: overload shows up as an error, not a growing backlog. */
  maxQueue?: number;
  /** Rate of the PCM handed out. */
  sampleRate?: number;
  logger?: Logger;
}

const DEFAULT_MAX_QUEUE = 256;

/**
 * The offline TTS, shared by every session of the server: one Piscina pool of `workers/tts.ts`
 * threads running flite (WASI). The main thread only queues text and receives transferred PCM.
 */
export class FliteTts implements TextToSpeech {
  readonly voice: FliteVoice;
  readonly sampleRate: number;
  private readonly pool: Piscina;
  private readonly logger: Logger | undefined;
  private warming: Promise<void> | null = null;
  private closed = false;
  /** Totals for the real-time factor (worker time / audio time). */
  syntheses = 0;
  audioMsTotal = 0;
  synthMsTotal = 0;

  constructor(opts: FliteTtsOptions = {}) {
    const voice = opts.voice ?? DEFAULT_FLITE_VOICE;
    if (!isFliteVoice(voice)) throw new Error(`unknown flite voice "${voice}" (TTS_VOICE); choose one of ${FLITE_VOICES.join(', ')}`);
    this.voice = voice;
    this.sampleRate = opts.sampleRate ?? OUTPUT_SAMPLE_RATE;
    this.logger = opts.logger;
    const threads = opts.threads ?? 1;
    this.pool = createWorkerPool({ worker: 'tts', threads, maxQueue: opts.maxQueue ?? DEFAULT_MAX_QUEUE, logger: this.logger, errorMessage: 'TTS pool error' });
  }

  /** Real-time factor so far: seconds of worker time per second of speech (lower is faster). */
  get realTimeFactor(): number {
    return this.audioMsTotal > 0 ? this.synthMsTotal / this.audioMsTotal : 0;
  }

  get queueSize(): number {
    return this.pool.queueSize;
  }

  async synthesize(text: string): Promise<SpeechAudio> {
    if (this.closed) throw new Error('the TTS pool is closed');
    const task: TtsTask = { text, voice: this.voice, sampleRate: this.sampleRate };
    const result = (await this.pool.run(task)) as TtsResult;
    this.syntheses++;
    this.audioMsTotal += result.durationMs;
    this.synthMsTotal += result.synthMs;
    this.logger?.debug({ chars: text.length, audioMs: Math.round(result.durationMs), synthMs: Math.round(result.synthMs) }, 'tts');
    return { pcm: Buffer.from(result.pcm), sampleRate: result.sampleRate, durationMs: result.durationMs, synthMs: result.synthMs, words: result.words };
  }

  /** One tiny synthesis, once for all callers; a failure is reported and tried again next time. */
  warm(): Promise<void> {
    if (!this.warming) {
      const startMs = performance.now();
      this.warming = this.synthesize('Hi.').then(
        () => this.logger?.info({ voice: this.voice, warmupMs: Math.round(performance.now() - startMs) }, 'TTS ready'),
        (err: unknown) => {
          this.warming = null;
          throw new Error(`the offline TTS failed to start: ${err instanceof Error ? err.message : String(err)}`);
        },
      );
    }
    return this.warming;
  }

  /** Stops the threads. Queued syntheses reject. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}
