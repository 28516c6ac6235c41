// The model contract's frame-rate rule (ARCHITECTURE "model contract"), one copy for the
// inference worker (through src/inference/frame-rate.ts) and for training/eval.mjs.
import { ARKIT_COUNT, FRAME_RATE, MODEL_SAMPLE_RATE } from './contracts.mjs';

/**
 * Model output → 30 FPS frames: if T is within ±1 of the 30 FPS count for the input length,
 * frames are taken as 30 FPS; otherwise the output rate is T / seconds and each channel is
 * linearly resampled to the 30 FPS frame centres.
 * @param {Float32Array} output frame-major model output, `outputFrames × channels`
 * @param {number} outputFrames T, the model's frame count
 * @param {number} inputSamples16k input length in samples at the model's sample rate
 * @param {number} [channels] values per frame (52 ARKit weights)
 * @returns {Float32Array} frame-major, 30 FPS
 */
export function framesAt30Fps(output, outputFrames, inputSamples16k, channels = ARKIT_COUNT) {
  const seconds = inputSamples16k / MODEL_SAMPLE_RATE;
  const expected = Math.floor(seconds * FRAME_RATE);
  if (Math.abs(outputFrames - expected) <= 1 || outputFrames <= 1) return output.subarray(0, outputFrames * channels);
  const rate = outputFrames / seconds;
  const result = new Float32Array(expected * channels);
  for (let i = 0; i < expected; i++) {
    const src = Math.min(Math.max(((i + 0.5) / FRAME_RATE) * rate - 0.5, 0), outputFrames - 1);
    const a = Math.floor(src);
    const b = Math.min(a + 1, outputFrames - 1);
    const f = src - a;
    for (let c = 0; c < channels; c++) {
      result[i * channels + c] = /** @type {number} */ (output[a * channels + c]) * (1 - f) + /** @type {number} */ (output[b * channels + c]) * f;
    }
  }
  return result;
}
