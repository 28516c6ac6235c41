import t from 'tap';
import path from 'node:path';
import * as ort from 'onnxruntime-node';

// The exported model's output smoothing (train.mjs --smooth, lib/onnx-graph.mjs OUTPUT_SMOOTHING): a fixed
// kernel over the 100 fps outputs, ends repeated. Checked against a plain-JS reference, for its wiring
// into the full model (an identity kernel changes nothing), and for the lookahead the model card states,
// together with the output advance (train.mjs --advance, OUTPUT_ADVANCE): no frame depends on audio more
// than 97.5 ms after its centre (a kernel reaching one more frame ahead goes past 100 ms, so the check can fail).
// Plain JS outside the build, imported from the repository root.
type Net = Record<string, unknown>;
const graph = (await import(path.resolve('training/lib/onnx-graph.mjs'))) as {
  OUTPUT_SMOOTHING: readonly number[];
  OUTPUT_ADVANCE: number;
  MAX_OUTPUT_ADVANCE: number;
  buildSmoothingModel(channels: number, kernel: readonly number[]): Uint8Array;
  buildLipsyncModel(net: Net, doc: string): Uint8Array;
};
const { makeArchitecture, initParams } = (await import(path.resolve('training/lib/net.mjs'))) as {
  makeArchitecture(c: object): object;
  initParams(arch: object, rng: unknown): Float32Array;
};
const { exportable, toOnnxLayout } = (await import(path.resolve('training/lib/ort-net.mjs'))) as {
  exportable(arch: object, p: Float32Array, norm: object, channelToArkit: number[][], arkitCount: number): Net;
  toOnnxLayout(arch: object, p: Float32Array): Float32Array;
};
const { CHANNEL_COUNT, CHANNEL_TO_ARKIT } = (await import(path.resolve('training/lib/visemes.mjs'))) as { CHANNEL_COUNT: number; CHANNEL_TO_ARKIT: number[][] };
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): { next(): number; normal(): number } };

const SR = 16_000;
const run = async (bytes: Uint8Array, name: string, data: Float32Array, dims: number[]) => {
  const s = await ort.InferenceSession.create(bytes);
  const out = await s.run({ [name]: new ort.Tensor('float32', data, dims) });
  return out[s.outputNames[0]].data as Float32Array;
};

t.test('smoothing graph = Σ_j k_j · x[clamp(f + j − r)] / Σk per channel, for the shipped kernel and others', async (t) => {
  const rng = makeRng(2);
  const C = 3, F = 23;
  const x = Float32Array.from({ length: 2 * C * F }, () => rng.next());
  for (const kernel of [graph.OUTPUT_SMOOTHING, [1, 0, 0], [0.5, 2, 0.25, 1, 3, 0, 1]]) {
    const y = await run(graph.buildSmoothingModel(C, kernel), 'x', x, [2, C, F]);
    const r = (kernel.length - 1) / 2;
    const sum = kernel.reduce((a, b) => a + b, 0);
    let worst = 0;
    for (let b = 0; b < 2; b++) for (let c = 0; c < C; c++) for (let f = 0; f < F; f++) {
      let want = 0;
      kernel.forEach((k, j) => (want += (k / sum) * x[(b * C + c) * F + Math.min(F - 1, Math.max(0, f + j - r))]));
      worst = Math.max(worst, Math.abs(want - y[(b * C + c) * F + f]));
    }
    t.ok(worst < 1e-6, `kernel [${kernel}]: max |graph − reference| ${worst.toExponential(1)}`);
  }
  t.throws(() => graph.buildSmoothingModel(C, [1, 2]), /odd length/);
  t.same([...graph.OUTPUT_SMOOTHING], [1, 2, 3, 2, 0], 'the shipped kernel: −20 … +10 ms (the +20 ms tap is 0)');
});

/** A small random network exported like train.mjs does, with or without a smoothing kernel and an output advance. */
function model(smooth?: readonly number[], advance?: number) {
  const arch = makeArchitecture({ mels: 40, hidden: 16, channels: CHANNEL_COUNT });
  const rng = makeRng(7);
  const p = toOnnxLayout(arch, initParams(arch, rng));
  for (let i = 0; i < p.length; i++) p[i] += rng.normal() * 0.2; // outputs that move from frame to frame
  const norm = { mean: new Float32Array(40).fill(-5), invStd: new Float32Array(40).fill(0.3) };
  return graph.buildLipsyncModel({ ...exportable(arch, p, norm, CHANNEL_TO_ARKIT, 52), smooth, advance }, 'test');
}

function speechLike(n: number, seed: number) {
  const rng = makeRng(seed);
  let phase = 0;
  return Float32Array.from({ length: n }, (_, i) => {
    phase += (2 * Math.PI * (120 + 60 * Math.sin(i / 2400))) / SR;
    return 0.3 * Math.sin(phase) * (0.5 + 0.5 * Math.sin(i / 900)) + 0.05 * (rng.next() - 0.5);
  });
}

t.test('full model: an identity kernel changes nothing; the shipped one steadies the outputs', async (t) => {
  const n = SR * 2;
  const audio = speechLike(n, 3);
  const plain = await run(model(), 'audio', audio, [1, n]);
  const identity = await run(model([0, 0, 1, 0, 0]), 'audio', audio, [1, n]);
  const smooth = await run(model(graph.OUTPUT_SMOOTHING), 'audio', audio, [1, n]);
  t.equal(plain.length, 60 * 52);
  t.ok(plain.every((v, i) => Math.abs(v - identity[i]) < 1e-6), 'identity kernel = no kernel');
  const jitter = (y: Float32Array) => {
    let s = 0;
    for (let k = 1; k < 60; k++) for (let j = 0; j < 52; j++) s += (y[k * 52 + j] - y[(k - 1) * 52 + j]) ** 2;
    return s;
  };
  t.ok(jitter(smooth) < 0.9 * jitter(plain), `frame-to-frame change ${jitter(smooth).toFixed(4)} < 0.9 × ${jitter(plain).toFixed(4)}`);
});

t.test('lookahead: no frame depends on audio more than 100 ms after its centre (97.5 ms with the shipped kernel and advance)', async (t) => {
  const base = speechLike(SR, 5);
  // The furthest audio after a frame's centre that still changes the frame: half a millisecond of the
  // input at a time, from 69 to 112 ms after the centres of three consecutive frames (the three phases of
  // 30 FPS frames on the 10 ms feature grid), is changed and the frame compared bit for bit.
  const reach = async (bytes: Uint8Array) => {
    const s = await ort.InferenceSession.create(bytes);
    const out = async (x: Float32Array) => (await s.run({ audio: new ort.Tensor('float32', x, [1, x.length]) }))[s.outputNames[0]].data as Float32Array;
    const b = await out(base);
    let far = 0;
    for (const k of [12, 13, 14]) {
      const centre = Math.round(((k + 0.5) / 30) * SR);
      for (let d = 1100; d < 1800; d += 8) {
        const x = base.slice();
        for (let i = centre + d; i < centre + d + 8; i++) x[i] += 0.5;
        const o = await out(x);
        let changed = false;
        for (let j = 0; j < 52 && !changed; j++) changed = o[k * 52 + j] !== b[k * 52 + j];
        if (changed) far = Math.max(far, ((d + 8) / SR) * 1000);
      }
    }
    return far;
  };
  t.equal(graph.OUTPUT_ADVANCE, 0.75, 'the shipped advance: 7.5 ms');
  const shipped = await reach(model(graph.OUTPUT_SMOOTHING, graph.OUTPUT_ADVANCE));
  t.ok(shipped > 95 && shipped <= 98, `shipped kernel and advance: frames depend on audio up to ${shipped.toFixed(1)} ms after their centre (95 < it ≤ 98)`);
  const noAdvance = await reach(model(graph.OUTPUT_SMOOTHING));
  t.ok(noAdvance > 89 && noAdvance <= 91.5, `shipped kernel, no advance: ${noAdvance.toFixed(1)} ms (the frames read 7.5 ms earlier)`);
  const none = await reach(model());
  t.ok(none > 79 && none <= 82, `no kernel: ${none.toFixed(1)} ms (one 10 ms frame less)`);
  const further = await reach(model([0, 0, 1, 1, 1], graph.OUTPUT_ADVANCE));
  t.ok(further > 100, `a kernel reaching 20 ms ahead: ${further.toFixed(1)} ms (past the budget: the check sees a kernel's reach)`);
  const most = await reach(model(graph.OUTPUT_SMOOTHING, graph.MAX_OUTPUT_ADVANCE));
  t.ok(most <= 98, `the largest advance the exporter takes (${graph.MAX_OUTPUT_ADVANCE}): ${most.toFixed(1)} ms, inside the budget`);
  t.throws(() => model(graph.OUTPUT_SMOOTHING, graph.MAX_OUTPUT_ADVANCE + 0.05), /output advance: 0 … 0.8 frames/, 'more is refused');
  t.throws(() => model(graph.OUTPUT_SMOOTHING, -0.1), /output advance/, 'reading earlier is refused');
});
