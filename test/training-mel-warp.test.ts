import t, { type Test } from 'tap';
import fs from 'node:fs';
import path from 'node:path';
import ort from 'onnxruntime-node';

// training/explore/mel-warp.mjs (issue 19's probe): the shipped model with its log-mel warped along
// the mel axis at inference, as train.mjs's vocal-tract-length augmentation warps it. Its findings
// are only as good as the graph edit: the warp must be the augmentation's warp, an unwarped spec
// must be the model itself, and a multi-warp spec the mean of its single-warp models.
const probe = (await import(path.resolve('training/explore/mel-warp.mjs'))) as {
  warpMatrix(alpha: number, M?: number): Float32Array;
  warpedModel(bytes: Uint8Array, alphas: number[]): Uint8Array;
};
const { melWarp, FEATURES } = (await import(path.resolve('training/lib/features.mjs'))) as {
  melWarp(alpha: number): { i0: Int32Array; frac: Float32Array };
  FEATURES: { MELS: number };
};
const M = FEATURES.MELS;
const bytes = fs.readFileSync('pretrained_models/lipsync-small.onnx');

async function run(t: Test, model: Uint8Array, audio: Float32Array): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', audio, [1, audio.length]) });
  const y = out[s.outputNames[0]!]!;
  t.same(y.dims, [1, y.dims[1], 52], 'one batch row of 52 weights per frame');
  return y.data as Float32Array;
}

/** 1.5 s of a vowel-like buzz (120 Hz with formant-ish peaks) between short silences. */
function voice(): Float32Array {
  const sr = 16_000;
  const x = new Float32Array(2 * sr);
  for (let i = Math.round(0.25 * sr); i < Math.round(1.75 * sr); i++) {
    let v = 0;
    for (let h = 1; h * 120 < 4000; h++) {
      const f = h * 120;
      const gain = Math.exp(-(((f - 700) / 150) ** 2)) + 0.6 * Math.exp(-(((f - 1200) / 200) ** 2)) + 0.3 * Math.exp(-(((f - 2600) / 300) ** 2));
      v += gain * Math.sin((2 * Math.PI * f * i) / sr);
    }
    x[i] = 0.1 * v;
  }
  return x;
}

t.test('the warp matrix is the augmentation\'s interpolation; alpha 1 is the identity', async (t) => {
  const raw = Float32Array.from({ length: M }, (_, m) => Math.sin(m * 0.37) * 3 - 5);
  for (const alpha of [0.8, 0.9, 1.1, 1.22]) {
    const W = probe.warpMatrix(alpha);
    const w = melWarp(alpha);
    let worst = 0;
    for (let m = 0; m < M; m++) {
      let y = 0;
      let rowSum = 0;
      for (let j = 0; j < M; j++) {
        y += W[m * M + j]! * raw[j]!;
        rowSum += W[m * M + j]!;
      }
      const a = w.i0[m]!;
      const expected = raw[a]! + w.frac[m]! * (raw[a + 1]! - raw[a]!); // training/lib/augment.mjs
      worst = Math.max(worst, Math.abs(y - expected), Math.abs(rowSum - 1));
    }
    t.ok(worst < 1e-5, `alpha ${alpha}: off by ${worst.toExponential(1)} at most`);
  }
  const I = probe.warpMatrix(1);
  let offIdentity = 0;
  for (let m = 0; m < M; m++) for (let j = 0; j < M; j++) offIdentity = Math.max(offIdentity, Math.abs(I[m * M + j]! - (m === j ? 1 : 0)));
  t.ok(offIdentity < 1e-6, 'alpha 1: identity');
});

t.test('the edited graph: unwarped = the model, warped differs, several warps = their mean', async (t) => {
  const audio = voice();
  const original = await run(t, bytes, audio);
  const same = await run(t, probe.warpedModel(bytes, [1]), audio);
  t.same(Array.from(same), Array.from(original), 'spec 1: bit-identical to the shipped model');
  const down = await run(t, probe.warpedModel(bytes, [0.85]), audio);
  t.equal(down.length, original.length, 'same frames');
  let moved = 0;
  for (let i = 0; i < down.length; i++) moved = Math.max(moved, Math.abs(down[i]! - original[i]!));
  t.ok(moved > 0.01, `warp 0.85 changes the weights (by up to ${moved.toFixed(3)})`);
  const both = await run(t, probe.warpedModel(bytes, [1, 0.85]), audio);
  let worst = 0;
  for (let i = 0; i < both.length; i++) worst = Math.max(worst, Math.abs(both[i]! - (original[i]! + down[i]!) / 2));
  t.ok(worst < 1e-5, `spec 1+0.85 = the mean of the two (off by ${worst.toExponential(1)})`);
});
