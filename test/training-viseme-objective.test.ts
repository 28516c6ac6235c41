import t from 'tap';
import path from 'node:path';
import { perturbedTrainerNet } from './helpers/trainer-net.js';

// The trainer's viseme objective (train.mjs --viseme-aux): the batch carries, per real frame, a
// one-hot label (the viseme nearest to the frame's target, or with --viseme-labels phone the frame's
// phone viseme from gen-data's *.vis.u8) and the objective's weight
// (aux / frames in the batch), nothing on padding; the training graph reports Σ w · CE of
// softmax_v(−‖y − V_v‖² / τ), which this test recomputes from the network's own forward outputs.
// (check-grad.mjs checks the gradients.) Plain JS outside the build, imported from the repository root.
type Batch = { x: Float32Array; target: Float32Array; weight: Float32Array; B: number; L: number; viseme: null | { label: Float32Array; weight: Float32Array } };
const { makeBatch } = (await import(path.resolve('training/train.mjs'))) as {
  makeBatch(train: object, aug: object, chunks: [number, number, number][], channelWeights: Float32Array, frameWeights: null, visemeAux?: number, labels?: 'phone' | 'nearest'): Batch;
};
const { VISEMES, VISEME_VECTORS, nearestViseme, CHANNEL_COUNT } = (await import(path.resolve('training/lib/visemes.mjs'))) as {
  VISEMES: string[]; VISEME_VECTORS: Float32Array[]; nearestViseme(frames: Float32Array, offset: number): number; CHANNEL_COUNT: number;
};
const { OrtNet } = (await import(path.resolve('training/lib/ort-net.mjs'))) as {
  OrtNet: { create(arch: object, o: object): Promise<{ forward(p: Float32Array, x: Float32Array, B: number, L: number): Promise<Float32Array>; gradient(...a: unknown[]): Promise<number>; lastVisemeLoss: number }> };
};
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): { next(): number; normal(): number; int(a: number, b: number): number } };

const C = CHANNEL_COUNT;
const V = VISEMES.length;
const M = 4;

/** Frames whose targets are viseme shapes plus a little noise (so the nearest shape is known). */
function trainSet(frames: number, seed: number) {
  const rng = makeRng(seed);
  const tgt = new Float32Array(frames * C);
  const truth: number[] = [];
  for (let j = 0; j < frames; j++) {
    const v = rng.int(0, V);
    truth.push(v);
    for (let c = 0; c < C; c++) tgt[j * C + c] = Math.min(1, Math.max(0, VISEME_VECTORS[v][c] + (rng.next() - 0.5) * 0.04));
  }
  const feat = Float32Array.from({ length: frames * M }, () => rng.normal());
  // Phone labels that differ from the nearest shape on every frame (so the test tells the two apart).
  const vis = Uint8Array.from(truth, (v) => (v + 1 + (v % 3)) % V);
  return { train: { meta: { mels: M }, feat, tgt, vis }, aug: { feat, M, mean: new Float32Array(M), invStd: new Float32Array(M).fill(1), warp: null }, truth };
}

t.test('batch: one-hot nearest-viseme labels and aux / frames weights on real frames only; none when off', async (t) => {
  const { train, aug, truth } = trainSet(40, 3);
  const chunks: [number, number, number][] = [[2, 9, 11], [20, 5, 12], [30, 7, 13]];
  const cw = new Float32Array(C).fill(1);
  const off = makeBatch(train, aug, chunks, cw, null, 0);
  t.equal(off.viseme, null, 'objective off: no labels');
  const b = makeBatch(train, aug, chunks, cw, null, 0.05, 'nearest');
  t.equal(b.L, 9);
  const frames = 9 + 5 + 7;
  const vis = b.viseme!;
  t.equal(vis.label.length, chunks.length * V * b.L);
  let checked = 0;
  chunks.forEach(([start, len], k) => {
    for (let tt = 0; tt < b.L; tt++) {
      const hot: number[] = [];
      for (let v = 0; v < V; v++) if (vis.label[(k * V + v) * b.L + tt] !== 0) hot.push(v);
      if (tt < len) {
        t.same(hot, [truth[start + tt]], `chunk ${k} frame ${tt}: label is the target's viseme`);
        t.equal(hot[0], nearestViseme(train.tgt, (start + tt) * C));
        t.equal(vis.label[(k * V + hot[0]) * b.L + tt], 1);
        t.ok(Math.abs(vis.weight[k * b.L + tt] - 0.05 / frames) < 1e-9, 'weight aux / frames');
        checked++;
      } else {
        t.same(hot, [], `chunk ${k} padding frame ${tt}: no label`);
        t.equal(vis.weight[k * b.L + tt], 0, 'padding: weight 0');
      }
    }
  });
  t.equal(checked, frames);
});

t.test('batch: phone labels are each frame\'s own viseme from the data; refused without them', async (t) => {
  const { train, aug } = trainSet(40, 4);
  const chunks: [number, number, number][] = [[1, 12, 5], [25, 8, 6]];
  const b = makeBatch(train, aug, chunks, new Float32Array(C).fill(1), null, 0.05, 'phone');
  let differ = 0;
  chunks.forEach(([start, len], k) => {
    for (let tt = 0; tt < b.L; tt++) {
      const hot: number[] = [];
      for (let v = 0; v < V; v++) if (b.viseme!.label[(k * V + v) * b.L + tt] !== 0) hot.push(v);
      if (tt >= len) { t.same(hot, [], 'padding: no label'); continue; }
      t.same(hot, [train.vis[start + tt]], `chunk ${k} frame ${tt}: the phone's viseme`);
      if (hot[0] !== nearestViseme(train.tgt, (start + tt) * C)) differ++;
    }
  });
  t.equal(differ, 20, 'every frame\'s phone label differs from its nearest shape here, so they are not mixed up');
  t.throws(() => makeBatch({ ...train, vis: null }, aug, chunks, new Float32Array(C).fill(1), null, 0.05, 'phone'), /vis\.u8/);
  t.equal(makeBatch({ ...train, vis: null }, aug, chunks, new Float32Array(C).fill(1), null, 0, 'phone').viseme, null, 'objective off: no labels needed');
});

t.test('training graph: its viseme cross-entropy equals Σ w · CE recomputed from the forward outputs; labels are required', async (t) => {
  const { arch, q } = perturbedTrainerNet(M, C, 5); // outputs away from the neutral face, moving frame to frame
  const tau = 0.1;
  const aux = { vectors: Float32Array.from(VISEME_VECTORS.flatMap((v) => [...v])), count: V, tau };
  const net = await OrtNet.create(arch, { threads: 1, aux });
  const { train, aug } = trainSet(60, 9);
  const chunks: [number, number, number][] = [[0, 25, 1], [30, 18, 2]];
  const b = makeBatch(train, aug, chunks, new Float32Array(C).fill(1), null, 0.05, 'nearest');
  const g = new Float32Array(q.length);
  await t.rejects(net.gradient(q, b.x, b.target, b.weight, b.B, b.L, 1e-3, g, null), /viseme objective/);
  await net.gradient(q, b.x, b.target, b.weight, b.B, b.L, 1e-3, g, b.viseme);
  const y = await net.forward(q, b.x, b.B, b.L); // [B, C, L] sigmoid outputs
  let want = 0;
  chunks.forEach(([, len], k) => {
    for (let tt = 0; tt < len; tt++) {
      const z = VISEME_VECTORS.map((vec) => -vec.reduce((s, vc, c) => s + (y[(k * C + c) * b.L + tt] - vc) ** 2, 0) / tau);
      const mx = Math.max(...z);
      const lse = mx + Math.log(z.reduce((s, zv) => s + Math.exp(zv - mx), 0));
      let label = -1;
      for (let v = 0; v < V; v++) if (b.viseme!.label[(k * V + v) * b.L + tt] === 1) label = v;
      want += b.viseme!.weight[k * b.L + tt] * (lse - z[label]);
    }
  });
  t.ok(want > 0.01, `a non-trivial objective (${want})`);
  t.ok(Math.abs(net.lastVisemeLoss - want) <= 1e-4 * want, `graph ${net.lastVisemeLoss} vs recomputed ${want}`);
});
