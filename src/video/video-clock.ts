import { ARKIT_COUNT } from '../protocol/arkit.js';
import { FRAME_RATE } from '../audio/constants.js';

/** Media constants of both video dialects (PROTOCOL.md §2, §3). One source of truth. The clocks: src/pacing/video-frame-clock.ts. */
export const VIDEO_FPS = 25;
export const VIDEO_FRAME_MS = 1000 / VIDEO_FPS; // 40
/** Sample rate of the audio the video dialects carry (client audio in and out). */
export const VIDEO_AUDIO_SAMPLE_RATE = 16_000;
/** 16 kHz samples per 40 ms video frame. */
export const VIDEO_SAMPLES_PER_FRAME = VIDEO_AUDIO_SAMPLE_RATE / VIDEO_FPS; // 640

/**
 * Weights of 25 FPS frame `q` from 30 FPS frames: linear interpolation at the 25 FPS frame's
 * centre ((q + ½) · 40 ms) between the 30 FPS frames whose centres surround it.
 */
export function weightsAt25Fps(weights30: Float32Array, frames30: number, q: number, out: Float32Array): void {
  if (frames30 <= 0) {
    out.fill(0);
    return;
  }
  const p = Math.min(Math.max(((q + 0.5) / VIDEO_FPS) * FRAME_RATE - 0.5, 0), frames30 - 1);
  const a = Math.floor(p);
  const b = Math.min(a + 1, frames30 - 1);
  const f = p - a;
  for (let c = 0; c < ARKIT_COUNT; c++) out[c] = weights30[a * ARKIT_COUNT + c]! * (1 - f) + weights30[b * ARKIT_COUNT + c]! * f;
}
