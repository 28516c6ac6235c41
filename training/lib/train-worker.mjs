/** Gradient worker: computes the summed gradient of its share of a batch into its own SAB. */
import { parentPort, workerData } from 'node:worker_threads';
import { Workspace, backward, forward, makeArchitecture } from './net.mjs';
import { makeRng } from './rng.mjs';
import { melWarp } from './features.mjs';

const { featSab, tgtSab, paramSab, gradSab, archConfig, channelWeights, mean, invStd, warp } = workerData;
const arch = makeArchitecture(archConfig);
const feat = new Float32Array(featSab);
const tgt = new Float32Array(tgtSab);
const params = new Float32Array(paramSab);
const grad = new Float32Array(gradSab);
const ws = new Workspace(arch);
const M = arch.mels;
const C = arch.channels;
let target = new Float32Array(0);
const eq = new Float32Array(M);
const raw = new Float32Array(M);

parentPort.on('message', ({ chunks, scale }) => {
  grad.fill(0);
  let loss = 0;
  for (const [start, L, seed] of chunks) {
    ws.ensure(L);
    if (target.length < C * L) target = new Float32Array(C * L);
    // Random smooth EQ in the log-mel domain (tilt + bow, up to about ±6 dB at the band edges):
    // microphones and channels differ, the mouth does not.
    const rng = makeRng(seed);
    const tilt = rng.uniform(-1.5, 1.5);
    const bow = rng.uniform(-1, 1);
    for (let m = 0; m < M; m++) eq[m] = (tilt * (m / (M - 1) - 0.5) + bow * Math.cos((Math.PI * m) / (M - 1))) * invStd[m];
    // Vocal-tract-length warp of the mel axis on most chunks (log-uniform factor): voices
    // between and beyond the training speakers, e.g. female and child formants from male voices.
    const w = warp && rng.chance(warp.p) ? melWarp(Math.exp(rng.uniform(Math.log(warp.lo), Math.log(warp.hi)))) : null;
    const x = ws.acts[0];
    for (let t = 0; t < L; t++) {
      const f = (start + t) * M;
      if (w) {
        for (let m = 0; m < M; m++) raw[m] = feat[f + m] / invStd[m] + mean[m];
        for (let m = 0; m < M; m++) {
          const a = w.i0[m];
          const v = raw[a] + w.frac[m] * (raw[a + 1] - raw[a]);
          x[m * L + t] = (v - mean[m]) * invStd[m] + eq[m];
        }
      } else for (let m = 0; m < M; m++) x[m * L + t] = feat[f + m] + eq[m];
      const g = (start + t) * C;
      for (let c = 0; c < C; c++) target[c * L + t] = tgt[g + c];
    }
    forward(params, ws, L);
    loss += backward(params, ws, L, target, channelWeights, scale, grad);
  }
  parentPort.postMessage({ loss });
});
