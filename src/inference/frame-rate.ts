import { ARKIT_COUNT } from '../protocol/arkit.js';
import { FRAME_RATE, MODEL_SAMPLE_RATE } from '../audio/constants.js';

/**
 * Model output → 30 FPS frames (ARCHITECTURE "model contract"): if T is within ±1 of the
 * 30 FPS count for the input length, frames are taken as 30 FPS; otherwise the output rate is
 * T / seconds and each channel is linearly resampled to 30 FPS frame centres.
 */
export function framesAt30Fps(output: Float32Array, outputFrames: number, inputSamples16k: number): Float32Array {
  const seconds = inputSamples16k / MODEL_SAMPLE_RATE;
  const expected = Math.floor(seconds * FRAME_RATE);
  if (Math.abs(outputFrames - expected) <= 1 || outputFrames <= 1) return output.subarray(0, outputFrames * ARKIT_COUNT);
  const rate = outputFrames / seconds;
  const result = new Float32Array(expected * ARKIT_COUNT);
  for (let i = 0; i < expected; i++) {
    const src = Math.min(Math.max(((i + 0.5) / FRAME_RATE) * rate - 0.5, 0), outputFrames - 1);
    const a = Math.floor(src);
    const b = Math.min(a + 1, outputFrames - 1);
    const f = src - a;
    for (let c = 0; c < ARKIT_COUNT; c++) {
      result[i * ARKIT_COUNT + c] = output[a * ARKIT_COUNT + c]! * (1 - f) + output[b * ARKIT_COUNT + c]! * f;
    }
  }
  return result;
}
