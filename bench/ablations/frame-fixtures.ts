import { ARKIT_COUNT, ARKIT_NAMES } from '../../src/protocol/arkit.js';
import { BYTES_PER_FRAME, BYTES_PER_SAMPLE, OUTPUT_SAMPLE_RATE } from '../../src/audio/constants.js';
import { TIMESTAMP_PLACEHOLDER } from '../../src/inference/frame-encoder.js';
import { syntheticSpeech } from '../../test/helpers/fake-remote-agent.js';
import type { SyncFrame } from '../../src/inference/frame-encoder.js';

/**
 * Realistic sync_frame inputs for the micro benchmarks: weights rounded to 4 decimals as the
 * encoder does, about half of them exactly 0 (a lip-sync model leaves eyes and brows still),
 * 1600 bytes of speech-like PCM per frame, UUID-length ids.
 */
export type SyncFrameObject = SyncFrame;

export function weightsFor(frames: number, seed = 1): Float32Array {
  let s = seed;
  const rand = () => ((s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const w = new Float32Array(frames * ARKIT_COUNT);
  for (let i = 0; i < w.length; i++) w[i] = rand() < 0.5 ? 0 : rand();
  return w;
}

export function pcmFor(frames: number, seed = 1): Int16Array {
  const bytes = syntheticSpeech((frames * BYTES_PER_FRAME) / BYTES_PER_SAMPLE / OUTPUT_SAMPLE_RATE, { seed });
  return new Int16Array(bytes.buffer, bytes.byteOffset, frames * BYTES_PER_FRAME / 2);
}

export function frameObjects(count: number): SyncFrameObject[] {
  const weights = weightsFor(count);
  const pcm = pcmFor(count);
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return Array.from({ length: count }, (_, f) => {
    const w: Record<string, number> = {};
    for (let c = 0; c < ARKIT_COUNT; c++) w[ARKIT_NAMES[c]!] = Math.round(weights[f * ARKIT_COUNT + c]! * 10000) / 10000;
    return {
      type: 'sync_frame', weights: w, audio: bytes.subarray(f * BYTES_PER_FRAME, (f + 1) * BYTES_PER_FRAME).toString('base64'),
      sessionId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', turnId: `turn_1700000000000_${(f % 256).toString(16).padStart(8, '0')}`,
      timestamp: TIMESTAMP_PLACEHOLDER, frameIndex: f,
    };
  });
}

/** µs per call of `fn(i)`, `iterations` times after half as many discarded as warm-up (JIT tiers). */
export function timeUs(iterations: number, fn: (i: number) => unknown): number {
  let sink = 0;
  for (let i = 0; i < iterations >> 1; i++) sink += fn(i) ? 1 : 0;
  const t0 = performance.now();
  for (let i = 0; i < iterations; i++) sink += fn(i) ? 1 : 0;
  const us = ((performance.now() - t0) * 1000) / iterations;
  if (sink < 0) throw new Error('unreachable'); // keeps the calls observable to the optimiser
  return us;
}
