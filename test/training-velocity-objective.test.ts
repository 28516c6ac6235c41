import t from 'tap';
import path from 'node:path';
import { perturbedTrainerNet } from './helpers/trainer-net.js';

// The trainer's velocity objective (train.mjs --velocity): the batch carries, for each channel and
// each pair of frames (t, t + lag) inside a chunk, the objective's weight × the channel's weight, and
// nothing for pairs that reach into padding; the training graph reports Σ w · e² with
// e = (y[t+lag] − y[t]) − (target[t+lag] − target[t]), which this test recomputes from the network's
// own forward outputs, and a step against it makes the outputs move less than the targets' own
// movement allows. (check-grad.mjs checks the gradients against the plain-JS reference and central
// differences.) Plain JS outside the build, imported from the repository root.
type Velocity = null | { weight: Float32Array };
type Batch = { x: Float32Array; target: Float32Array; weight: Float32Array; B: number; L: number; velocity: Velocity };
type Net = {
  forward(p: Float32Array, x: Float32Array, B: number, L: number): Promise<Float32Array>;
  gradient(p: Float32Array, x: Float32Array, target: Float32Array, weight: Float32Array, B: number, L: number, scale: number, g: Float32Array, viseme: null, velocity?: Velocity): Promise<number>;
  lastVelocityLoss: number;
};
const { makeBatch } = (await import(path.resolve('training/train.mjs'))) as {
  makeBatch(train: object, aug: object, chunks: [number, number, number][], channelWeights: Float32Array, frameWeights: null, visemeAux: number, labels: 'nearest', velocity?: { weight: number; lag: number } | null): Batch;
};
const { CHANNEL_COUNT } = (await import(path.resolve('training/lib/visemes.mjs'))) as { CHANNEL_COUNT: number };
const { OrtNet } = (await import(path.resolve('training/lib/ort-net.mjs'))) as {
  OrtNet: { create(arch: object, o: object): Promise<Net> };
};
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): { next(): number; normal(): number } };

const C = CHANNEL_COUNT;
const M = 4;

/** Smoothly moving targets (slow sines per channel) and random features. */
function trainSet(frames: number, seed: number) {
  const rng = makeRng(seed);
  const tgt = new Float32Array(frames * C);
  for (let j = 0; j < frames; j++) for (let c = 0; c < C; c++) tgt[j * C + c] = 0.5 + 0.4 * Math.sin(j / (6 + c) + c);
  const feat = Float32Array.from({ length: frames * M }, () => rng.normal());
  return { train: { meta: { mels: M }, feat, tgt, vis: null }, aug: { feat, M, mean: new Float32Array(M), invStd: new Float32Array(M).fill(1), warp: null } };
}

const cw = Float32Array.from({ length: C }, (_, c) => 1 + (c % 3));

t.test('batch: weight × channel weight on each in-chunk pair (t, t + lag); none on pairs reaching padding; none when off', async (t) => {
  const { train, aug } = trainSet(60, 1);
  const chunks: [number, number, number][] = [[3, 14, 1], [30, 9, 2], [45, 2, 3]];
  t.equal(makeBatch(train, aug, chunks, cw, null, 0, 'nearest').velocity, null, 'no velocity argument: none');
  t.equal(makeBatch(train, aug, chunks, cw, null, 0, 'nearest', { weight: 0, lag: 3 }).velocity, null, 'weight 0: none');
  const lag = 3;
  const b = makeBatch(train, aug, chunks, cw, null, 0, 'nearest', { weight: 5, lag });
  t.equal(b.L, 14);
  const w = b.velocity!.weight;
  t.equal(w.length, chunks.length * C * b.L);
  let pairs = 0;
  chunks.forEach(([, len], k) => {
    for (let c = 0; c < C; c++) for (let tt = 0; tt < b.L; tt++) {
      const v = w[(k * C + c) * b.L + tt];
      if (tt + lag < len) {
        if (v !== 5 * cw[c]) t.fail(`chunk ${k} channel ${c} pair ${tt}: ${v}, want ${5 * cw[c]}`);
        pairs++;
      } else if (v !== 0) t.fail(`chunk ${k} channel ${c} frame ${tt}: weight ${v} on a pair reaching padding`);
    }
  });
  t.equal(pairs, C * ((14 - lag) + (9 - lag)), 'every in-chunk pair weighted; a chunk of 2 frames has none');
});

t.test('training graph: Σ w · e² equals the value recomputed from the forward outputs; weights are required', async (t) => {
  const { arch, q } = perturbedTrainerNet(M, C, 5); // outputs away from the neutral face, moving frame to frame
  const lag = 3;
  const net = await OrtNet.create(arch, { threads: 1, velocity: { lag } });
  const { train, aug } = trainSet(80, 9);
  const chunks: [number, number, number][] = [[0, 30, 1], [40, 21, 2]];
  const b = makeBatch(train, aug, chunks, cw, null, 0, 'nearest', { weight: 5, lag });
  const g = new Float32Array(q.length);
  await t.rejects(net.gradient(q, b.x, b.target, b.weight, b.B, b.L, 1e-3, g, null, null), /velocity objective/);
  await net.gradient(q, b.x, b.target, b.weight, b.B, b.L, 1e-3, g, null, b.velocity);
  const y = await net.forward(q, b.x, b.B, b.L); // [B, C, L]
  let want = 0;
  chunks.forEach(([, len], k) => {
    for (let c = 0; c < C; c++) for (let tt = 0; tt + lag < len; tt++) {
      const o = (k * C + c) * b.L + tt;
      const e = (y[o + lag] - y[o]) - (b.target[o + lag] - b.target[o]);
      want += 5 * cw[c] * e * e;
    }
  });
  t.ok(want > 0.01, `a non-trivial objective (${want})`);
  t.ok(Math.abs(net.lastVelocityLoss - want) <= 1e-4 * want, `graph ${net.lastVelocityLoss} vs recomputed ${want}`);
});

t.test('descending the velocity objective alone makes the outputs\' movement follow the targets\'', async (t) => {
  const { arch, q } = perturbedTrainerNet(M, C, 11); // outputs away from the neutral face, moving frame to frame
  const lag = 3;
  const net = await OrtNet.create(arch, { threads: 1, velocity: { lag } });
  const { train, aug } = trainSet(80, 12);
  const chunks: [number, number, number][] = [[0, 40, 1], [40, 40, 2]];
  const b = makeBatch(train, aug, chunks, cw, null, 0, 'nearest', { weight: 1, lag });
  const noMain = new Float32Array(b.weight.length); // main loss off: only the velocity objective moves the weights
  const g = new Float32Array(q.length);
  const losses: number[] = [];
  for (let step = 0; step < 30; step++) {
    await net.gradient(q, b.x, b.target, noMain, b.B, b.L, 1, g, null, b.velocity);
    losses.push(net.lastVelocityLoss);
    let gn = 0;
    for (const v of g) gn += v * v;
    const lr = 0.05 / Math.max(1e-9, Math.sqrt(gn));
    for (let i = 0; i < q.length; i++) q[i] -= lr * g[i];
  }
  t.ok(losses.at(-1)! < 0.5 * losses[0], `Σ w · e² ${losses[0].toFixed(4)} → ${losses.at(-1)!.toFixed(4)}`);
});
