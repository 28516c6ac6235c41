/** Feature-domain augmentation of one training chunk, seeded per chunk (so a batch is reproducible). */
import { makeRng } from './rng.mjs';
import { melWarp } from './features.mjs';

/**
 * Writes chunk [start, start + L) of the normalised frame-major features `feat` [frames × M] into
 * `x` channel-major at x[xOff + m · stride + t], augmented:
 *  - a random smooth EQ in the log-mel domain (tilt + bow, up to about ±6 dB at the band edges):
 *    microphones and channels differ, the mouth does not;
 *  - on a share `warp.p` of chunks, a vocal-tract-length warp of the mel axis (log-uniform factor
 *    in [warp.lo, warp.hi]): voices between and beyond the training speakers, e.g. female and
 *    child formants from male voices.
 */
export function augmentChunk({ feat, M, mean, invStd, warp }, start, L, seed, x, xOff, stride) {
  const rng = makeRng(seed);
  const tilt = rng.uniform(-1.5, 1.5);
  const bow = rng.uniform(-1, 1);
  const eq = new Float32Array(M);
  for (let m = 0; m < M; m++) eq[m] = (tilt * (m / (M - 1) - 0.5) + bow * Math.cos((Math.PI * m) / (M - 1))) * invStd[m];
  const w = warp && rng.chance(warp.p) ? melWarp(Math.exp(rng.uniform(Math.log(warp.lo), Math.log(warp.hi)))) : null;
  const raw = new Float32Array(M);
  for (let t = 0; t < L; t++) {
    const f = (start + t) * M;
    if (w) {
      for (let m = 0; m < M; m++) raw[m] = feat[f + m] / invStd[m] + mean[m];
      for (let m = 0; m < M; m++) {
        const a = w.i0[m];
        const v = raw[a] + w.frac[m] * (raw[a + 1] - raw[a]);
        x[xOff + m * stride + t] = (v - mean[m]) * invStd[m] + eq[m];
      }
    } else for (let m = 0; m < M; m++) x[xOff + m * stride + t] = feat[f + m] + eq[m];
  }
}
