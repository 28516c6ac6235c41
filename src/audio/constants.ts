import media from '../contracts/media.json' with { type: 'json' };

/**
 * Media constants of the widget dialect (PROTOCOL.md §1.4). The values live in
 * src/contracts/media.json, which scripts/ and training/ read too.
 */
export const FRAME_RATE: number = media.frameRate; // 30
export const MODEL_SAMPLE_RATE: number = media.modelSampleRate; // 16 kHz
export const OUTPUT_SAMPLE_RATE: number = media.outputSampleRate; // 24 kHz
/** 24 kHz samples carried by one 1/30 s frame. */
export const SAMPLES_PER_FRAME = OUTPUT_SAMPLE_RATE / FRAME_RATE; // 800
export const BYTES_PER_SAMPLE: number = media.bytesPerSample; // PCM16 LE
export const BYTES_PER_FRAME = SAMPLES_PER_FRAME * BYTES_PER_SAMPLE; // 1600
export const FRAME_DURATION_MS = 1000 / FRAME_RATE;

/** 24 kHz samples in `seconds`, rounded to whole 1/30 s frames (windows and model context). */
export function wholeFrameSamples(seconds: number): number {
  return Math.round(seconds * FRAME_RATE) * SAMPLES_PER_FRAME;
}
