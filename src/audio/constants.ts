/** Media constants of the widget dialect (PROTOCOL.md §1.4). One source of truth. */
export const FRAME_RATE = 30;
export const MODEL_SAMPLE_RATE = 16_000;
export const OUTPUT_SAMPLE_RATE = 24_000;
/** 24 kHz samples carried by one 1/30 s frame. */
export const SAMPLES_PER_FRAME = OUTPUT_SAMPLE_RATE / FRAME_RATE; // 800
export const BYTES_PER_SAMPLE = 2; // PCM16 LE
export const BYTES_PER_FRAME = SAMPLES_PER_FRAME * BYTES_PER_SAMPLE; // 1600
export const FRAME_DURATION_MS = 1000 / FRAME_RATE;
