/**
 * The training step as ONNX graphs run by onnxruntime-node's optimised, multi-threaded CPU kernels
 * (MLAS convolutions and GEMMs) instead of plain-JS loops: forward, the weighted loss and the
 * backward pass, derived by hand from the same architecture as lib/net.mjs:
 *  - a conv's input gradient is a ConvTranspose with the same weights, dilation and pads;
 *  - its weight gradient is one GEMM of the output gradient [Cout, B·L] with an im2col of the
 *    layer input [K·Cin, B·L] (tap k reads input frame t + k·dilation − padLeft, zero outside);
 *  - the bias gradient is a sum over batch and time.
 * Parameters are graph inputs, so JS keeps them (flat, ONNX order) and runs the optimiser.
 * lib/net.mjs stays as the plain-JS reference these graphs are checked against (check-grad.mjs).
 */
import ort from 'onnxruntime-node';
import { GraphBuilder, serialize, valueInfo } from './onnx-graph.mjs';

/** Parameter tensors in graph order, with offsets into one flat Float32Array (ONNX layouts). */
export function paramSpecs(arch) {
  const specs = [];
  let offset = 0;
  const add = (name, dims) => {
    const size = dims.reduce((a, b) => a * b, 1);
    specs.push({ name, dims, offset, size });
    offset += size;
  };
  arch.layers.forEach((l, i) => {
    add(`w${i}`, [l.cout, l.cin, l.k]);
    add(`b${i}`, [l.cout]);
  });
  add('wo', [arch.out.cout, arch.out.cin, 1]);
  add('bo', [arch.out.cout]);
  return { specs, size: offset };
}

/** For each index of the flat ONNX-layout buffer, the index of the same parameter in lib/net.mjs's layout. */
function netIndexOf(arch) {
  const { specs, size } = paramSpecs(arch);
  const idx = new Int32Array(size);
  arch.layers.forEach((l, i) => {
    const w = specs[2 * i].offset;
    for (let o = 0; o < l.cout; o++) for (let k = 0; k < l.k; k++) for (let c = 0; c < l.cin; c++) {
      idx[w + (o * l.cin + c) * l.k + k] = l.wOff + (o * l.k + k) * l.cin + c; // [Cout][Cin][K] ← [Cout][K][Cin]
    }
    for (let o = 0; o < l.cout; o++) idx[specs[2 * i + 1].offset + o] = l.bOff + o;
  });
  for (let j = 0; j < arch.out.cout * arch.out.cin; j++) idx[specs.at(-2).offset + j] = arch.out.wOff + j;
  for (let o = 0; o < arch.out.cout; o++) idx[specs.at(-1).offset + o] = arch.out.bOff + o;
  return idx;
}

/** lib/net.mjs flat layout (conv weights [Cout][K][Cin]) → ONNX layout ([Cout][Cin][K]); same total size. */
export const toOnnxLayout = (arch, p) => Float32Array.from(netIndexOf(arch), (i) => p[i]);

/** Inverse of toOnnxLayout. */
export function toNetLayout(arch, q) {
  const p = new Float32Array(q.length);
  netIndexOf(arch).forEach((i, j) => (p[i] = q[j]));
  return p;
}

/** Net description for the ONNX exporter (buildLipsyncModel) from ONNX-layout parameters. */
export function exportable(arch, params, norm, channelToArkit, arkitCount) {
  const { specs } = paramSpecs(arch);
  const tensor = (s) => params.slice(s.offset, s.offset + s.size);
  return {
    norm,
    layers: arch.layers.map((l, i) => ({ ...l, w: tensor(specs[2 * i]), b: tensor(specs[2 * i + 1]) })),
    out: { cin: arch.out.cin, cout: arch.out.cout, w: tensor(specs.at(-2)), b: tensor(specs.at(-1)) },
    channelToArkit,
    arkitCount,
  };
}

/**
 * Graph over a batch x [B, MELS, L] → sigmoid outputs; with `train`, also
 * loss = Σ weight·(y − target)² and the gradients g_<param> of Σ weight·CE(y, target)·scale
 * (sigmoid cross-entropy against soft targets: d/dlogit = weight·(y − target)·scale).
 */
function buildGraph(arch, train, aux = null, velocity = null) {
  const g = new GraphBuilder();
  const i64 = (values) => g.const(values, [values.length], 'int64');
  const { layers, out } = arch;
  const acts = ['x'];
  const pre = [];
  let a = 'x';
  layers.forEach((l, i) => {
    const z = g.op('Conv', [a, `w${i}`, `b${i}`], { kernel_shape: [l.k], dilations: [l.dilation], pads: [l.padLeft, l.padRight] });
    const r = g.op('Relu', [z]);
    a = l.residual ? g.op('Add', [a, r]) : r;
    pre.push(z);
    acts.push(a);
  });
  const logit = g.op('Conv', [a, 'wo', 'bo'], { kernel_shape: [1] });
  const { specs } = paramSpecs(arch);
  const inputs = [valueInfo('x', ['B', arch.mels, 'L']), ...specs.map((s) => valueInfo(s.name, s.dims))];
  const C = out.cout;
  if (!train) {
    g.op('Sigmoid', [logit], {}, 'y');
    return serialize(g, inputs, [valueInfo('y', ['B', C, 'L'])], 'lip-sync forward (training)', 'lipsync_forward');
  }
  const zero = g.const([0], []);
  const y = g.op('Sigmoid', [logit]);
  const e = g.op('Sub', [y, 'target']);
  const we = g.op('Mul', [e, 'weight']);
  g.op('ReduceSum', [g.op('Mul', [we, e])], { keepdims: 0 }, 'loss');
  let dLogit = g.op('Mul', [we, 'scale']);
  if (aux) dLogit = g.op('Add', [dLogit, visemeObjective(g, aux, y, C, i64)]);
  if (velocity) dLogit = g.op('Add', [dLogit, velocityObjective(g, velocity, y, i64)]);
  // [B, Ch, L] → [Ch, B·L], the GEMM operand layout of a weight gradient.
  const flat = (t) => g.op('Reshape', [g.op('Transpose', [t], { perm: [1, 0, 2] }), i64([0, -1])]);
  const sumBatchTime = (t, name) => g.op('ReduceSum', [t, i64([0, 2])], { keepdims: 0 }, name);

  sumBatchTime(dLogit, 'g_bo');
  g.op('Reshape', [g.op('Gemm', [flat(dLogit), flat(a)], { transB: 1 }), i64([C, out.cin, 1])], {}, 'g_wo');
  let dA = g.op('ConvTranspose', [dLogit, 'wo'], { kernel_shape: [1] });
  for (let i = layers.length - 1; i >= 0; i--) {
    const l = layers[i];
    const dz = g.op('Where', [g.op('Greater', [pre[i], zero]), dA, zero]);
    sumBatchTime(dz, `g_b${i}`);
    const padded = g.op('Pad', [acts[i], i64([0, 0, l.padLeft, 0, 0, l.padRight])], { mode: 'constant' });
    const span = l.dilation * (l.k - 1);
    const taps = [];
    for (let k = 0; k < l.k; k++) {
      const fromEnd = span - k * l.dilation;
      taps.push(g.op('Slice', [padded, i64([k * l.dilation]), i64([fromEnd === 0 ? 2 ** 40 : -fromEnd]), i64([2])]));
    }
    const im2col = g.op('Concat', taps, { axis: 1 }); // [B, K·Cin, L], tap-major
    const gw = g.op('Gemm', [flat(dz), flat(im2col)], { transB: 1 }); // [Cout, K·Cin]
    g.op('Transpose', [g.op('Reshape', [gw, i64([l.cout, l.k, l.cin])])], { perm: [0, 2, 1] }, `g_w${i}`);
    if (i > 0) {
      const dx = g.op('ConvTranspose', [dz, `w${i}`], { kernel_shape: [l.k], dilations: [l.dilation], pads: [l.padLeft, l.padRight] });
      dA = l.residual ? g.op('Add', [dA, dx]) : dx;
    }
  }
  inputs.push(valueInfo('target', ['B', C, 'L']), valueInfo('weight', ['B', C, 'L']), valueInfo('scale', [1]));
  const outputs = [valueInfo('loss', []), ...specs.map((s) => valueInfo(`g_${s.name}`, s.dims))];
  if (aux) {
    inputs.push(valueInfo('visemeLabel', ['B', aux.count, 'L']), valueInfo('visemeWeight', ['B', 1, 'L']));
    outputs.push(valueInfo('visemeLoss', []));
  }
  if (velocity) {
    inputs.push(valueInfo('velocityWeight', ['B', C, 'L']));
    outputs.push(valueInfo('velocityLoss', []));
  }
  return serialize(g, inputs, outputs, 'lip-sync training step', 'lipsync_train_step');
}

/**
 * The viseme objective's gradient w.r.t. the logits, [B, C, L]. Per frame, with the sigmoid outputs
 * y and the viseme shapes V_v (`aux.vectors`, [count × C]): z_v = −‖y − V_v‖² / τ, s = softmax_v(z),
 * objective = w · CE(s, label) (inputs `visemeLabel`, one-hot [B, count, L], all zero where a frame
 * has none, and `visemeWeight` [B, 1, L]); output `visemeLoss` = Σ w · CE. By hand:
 * dO/dz_v = w (s_v − label_v), dz_v/dy_c = −2 (y_c − V_vc) / τ, so
 * dO/dy_c = −(2/τ) (y_c Σ_v g_v − Σ_v V_vc g_v) with g = dO/dz, and dy/dlogit = y (1 − y).
 * It rewards outputs that are nearer the frame's own viseme shape than any other one: a blend of
 * several shapes (what squared error alone settles on when the sound is ambiguous) is pulled
 * towards the one the phone calls for.
 */
function visemeObjective(g, aux, y, C, i64) {
  const { vectors, count, tau } = aux;
  const V = g.const(vectors, [count, C]);
  const VT = g.const(Float32Array.from({ length: C * count }, (_, j) => vectors[(j % count) * C + Math.floor(j / count)]), [C, count]);
  const vNorm = g.const(Float32Array.from({ length: count }, (_, v) => vectors.subarray(v * C, v * C + C).reduce((s, x) => s + x * x, 0)), [count, 1]);
  const yNorm = g.op('ReduceSum', [g.op('Mul', [y, y]), i64([1])], { keepdims: 1 }); // [B, 1, L]
  const cross = g.op('MatMul', [V, y]); // [B, count, L]
  const dist = g.op('Add', [g.op('Sub', [yNorm, g.op('Mul', [cross, g.const([2], [])])]), vNorm]);
  const z = g.op('Mul', [dist, g.const([-1 / tau], [])]);
  const logS = g.op('LogSoftmax', [z], { axis: 1 });
  const ce = g.op('Neg', [g.op('ReduceSum', [g.op('Mul', ['visemeLabel', logS]), i64([1])], { keepdims: 1 })]); // [B, 1, L]
  g.op('ReduceSum', [g.op('Mul', [ce, 'visemeWeight'])], { keepdims: 0 }, 'visemeLoss');
  const gz = g.op('Mul', [g.op('Sub', [g.op('Exp', [logS]), 'visemeLabel']), 'visemeWeight']); // [B, count, L]
  const gSum = g.op('ReduceSum', [gz, i64([1])], { keepdims: 1 });
  const dy = g.op('Mul', [g.op('Sub', [g.op('Mul', [y, gSum]), g.op('MatMul', [VT, gz])]), g.const([-2 / tau], [])]);
  return g.op('Mul', [dy, g.op('Mul', [y, g.op('Sub', [g.const([1], []), y])])]);
}

/**
 * The velocity objective's gradient w.r.t. the logits, [B, C, L]. With k = `velocity.lag` frames and
 * the input `velocityWeight` w [B, C, L] (the weight of the pair (t, t + k); zero where t + k runs
 * past the chunk, and in the last k frames): e_t = (y_{t+k} − y_t) − (target_{t+k} − target_t),
 * objective = Σ w · e² (output `velocityLoss`), scaled by `scale` in the gradient like the main loss.
 * By hand: q_t = 2 · scale · w_t · e_t, dO/dy_s = q_{s−k} − q_s, and dy/dlogit = y (1 − y).
 * Squared error on each frame alone lets the outputs jitter around a smooth target; this term
 * charges the movement itself, so the mouth opens and closes when the target does, no more.
 */
function velocityObjective(g, velocity, y, i64) {
  const k = velocity.lag;
  const time = i64([2]);
  // t[s + k], zero past the end
  const ahead = (t) => g.op('Pad', [g.op('Slice', [t, i64([k]), i64([2 ** 40]), time]), i64([0, 0, 0, 0, 0, k])], { mode: 'constant' });
  const e = g.op('Sub', [g.op('Sub', [ahead(y), y]), g.op('Sub', [ahead('target'), 'target'])]);
  const we = g.op('Mul', [e, 'velocityWeight']);
  g.op('ReduceSum', [g.op('Mul', [we, e])], { keepdims: 0 }, 'velocityLoss');
  const q = g.op('Mul', [we, g.op('Mul', ['scale', g.const([2], [])])]);
  const behind = g.op('Pad', [g.op('Slice', [q, i64([0]), i64([-k]), time]), i64([0, 0, k, 0, 0, 0])], { mode: 'constant' }); // q[s − k], zero before k
  return g.op('Mul', [g.op('Sub', [behind, q]), g.op('Mul', [y, g.op('Sub', [g.const([1], []), y])])]);
}

const sessionOptions = (threads) => ({
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
});

export class OrtNet {
  /** `threads`: intra-op threads of the training session (one per core). */
  /** `aux`: the viseme objective ({ vectors, count, tau }; see visemeObjective), or null. */
  /** `velocity`: the velocity objective ({ lag }; see velocityObjective), or null. */
  static async create(arch, { threads = 2, aux = null, velocity = null } = {}) {
    const net = new OrtNet();
    net.arch = arch;
    net.aux = aux;
    net.velocity = velocity;
    net.layout = paramSpecs(arch);
    net.step = await ort.InferenceSession.create(buildGraph(arch, true, aux, velocity), sessionOptions(threads));
    net.fwd = await ort.InferenceSession.create(buildGraph(arch, false), sessionOptions(threads));
    return net;
  }

  feeds(params) {
    const feeds = {};
    for (const s of this.layout.specs) feeds[s.name] = new ort.Tensor('float32', params.slice(s.offset, s.offset + s.size), s.dims);
    return feeds;
  }

  /** x [B, MELS, L] → y [B, C, L] (sigmoid). */
  async forward(params, x, B, L) {
    const feeds = this.feeds(params);
    feeds.x = new ort.Tensor('float32', x, [B, this.arch.mels, L]);
    return (await this.fwd.run(feeds)).y.data;
  }

  /**
   * Gradient of a batch into `grad` (overwritten, ONNX layout); returns Σ weight·(y − target)².
   * With the viseme objective, `viseme` = { label: one-hot [B, count, L], weight: [B, 1, L] }; its
   * Σ w·CE is left in `this.lastVisemeLoss`. With the velocity objective, `velocity` = { weight:
   * [B, C, L] } (see velocityObjective); its Σ w·e² is left in `this.lastVelocityLoss`.
   */
  async gradient(params, x, target, weight, B, L, scale, grad, viseme = null, velocity = null) {
    const C = this.arch.channels;
    const feeds = this.feeds(params);
    feeds.x = new ort.Tensor('float32', x, [B, this.arch.mels, L]);
    feeds.target = new ort.Tensor('float32', target, [B, C, L]);
    feeds.weight = new ort.Tensor('float32', weight, [B, C, L]);
    feeds.scale = new ort.Tensor('float32', Float32Array.of(scale), [1]);
    if (this.aux) {
      if (!viseme) throw new Error('this net trains with the viseme objective: pass its labels and weights');
      feeds.visemeLabel = new ort.Tensor('float32', viseme.label, [B, this.aux.count, L]);
      feeds.visemeWeight = new ort.Tensor('float32', viseme.weight, [B, 1, L]);
    }
    if (this.velocity) {
      if (!velocity) throw new Error('this net trains with the velocity objective: pass its weights');
      if (L <= this.velocity.lag) throw new Error(`velocity objective: chunks of ${L} frames are not longer than its lag ${this.velocity.lag}`);
      feeds.velocityWeight = new ort.Tensor('float32', velocity.weight, [B, C, L]);
    }
    const out = await this.step.run(feeds);
    for (const s of this.layout.specs) grad.set(out[`g_${s.name}`].data, s.offset);
    this.lastVisemeLoss = this.aux ? out.visemeLoss.data[0] : 0;
    this.lastVelocityLoss = this.velocity ? out.velocityLoss.data[0] : 0;
    return out.loss.data[0];
  }
}
