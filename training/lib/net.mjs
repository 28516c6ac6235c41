/**
 * The network and its hand-written backward pass: log-mel [MELS, L] → 1-D convolutions
 * (first one plain, the rest residual and dilated; a few taps look ahead) → 1×1 conv →
 * sigmoid [C, L]. All tensors are channel-major Float32Arrays so every inner loop runs over
 * contiguous time. Conv weights are stored [Cout][K][Cin].
 */

/** The residual layers of the shipped model as "dilation:padRight" pairs. */
export const DEFAULT_STACK = '2:2,2:2,4:0,8:0';

/**
 * Architecture: a plain k=5 conv (2 frames of lookahead), then residual k=3 layers given by
 * `stack` ("dilation:padRight,…"). padRight = future frames a layer reads (10 ms each); padLeft
 * fills the rest.
 */
export function makeArchitecture({ mels, hidden, channels, stack = DEFAULT_STACK }) {
  const residual = stack.split(',').map((s) => s.split(':').map(Number))
    .map(([dilation, padRight]) => ({ cin: hidden, cout: hidden, k: 3, dilation, padRight, residual: true }));
  const spec = [{ cin: mels, cout: hidden, k: 5, dilation: 1, padRight: 2, residual: false }, ...residual]
    .map((l) => ({ ...l, padLeft: l.dilation * (l.k - 1) - l.padRight }));
  if (spec.some((l) => !(l.dilation >= 1 && l.padRight >= 0 && l.padLeft >= 0))) throw new Error(`bad layer stack "${stack}"`);
  const out = { cin: hidden, cout: channels };
  // Parameter offsets in one flat buffer.
  let offset = 0;
  for (const l of spec) {
    l.wOff = offset;
    offset += l.cout * l.k * l.cin;
    l.bOff = offset;
    offset += l.cout;
  }
  out.wOff = offset;
  offset += out.cout * out.cin;
  out.bOff = offset;
  offset += out.cout;
  const futureFrames = spec.reduce((s, l) => s + l.padRight, 0);
  const pastFrames = spec.reduce((s, l) => s + l.padLeft, 0);
  return { layers: spec, out, paramCount: offset, futureFrames, pastFrames, mels, hidden, channels, stack };
}

/** He-style initialisation from a seeded rng. */
export function initParams(arch, rng) {
  const p = new Float32Array(arch.paramCount);
  for (const l of arch.layers) {
    const std = Math.sqrt(2 / (l.cin * l.k)) * (l.residual ? 0.5 : 1);
    for (let i = 0; i < l.cout * l.k * l.cin; i++) p[l.wOff + i] = rng.normal() * std;
  }
  const std = Math.sqrt(1 / arch.out.cin);
  for (let i = 0; i < arch.out.cout * arch.out.cin; i++) p[arch.out.wOff + i] = rng.normal() * std * 0.5;
  for (let c = 0; c < arch.out.cout; c++) p[arch.out.bOff + c] = -3; // start near the neutral face
  return p;
}

/** Output steps t in [t0, t1) whose input x[t + shift] lies inside [0, L) (zero padding elsewhere). */
function tapSpan(shift, L) {
  return { shift, t0: Math.max(0, -shift), t1: Math.min(L, L - shift) };
}

// Kernels process four output channels per pass over an input row (cout % 4 === 0 by
// construction): a quarter of the loads and loop overhead of the naive form.
function convForward(x, L, p, l, y) {
  const { cin, cout, k: K, dilation, padLeft } = l;
  for (let o = 0; o < cout; o++) y.fill(p[l.bOff + o], o * L, o * L + L);
  for (let o = 0; o < cout; o += 4) {
    const y0 = o * L, y1 = y0 + L, y2 = y1 + L, y3 = y2 + L;
    for (let k = 0; k < K; k++) {
      const { shift, t0, t1 } = tapSpan(k * dilation - padLeft, L);
      if (t1 <= t0) continue;
      const stride = K * cin;
      const wb = l.wOff + (o * K + k) * cin;
      for (let i = 0; i < cin; i++) {
        const w0 = p[wb + i], w1 = p[wb + stride + i], w2 = p[wb + 2 * stride + i], w3 = p[wb + 3 * stride + i];
        const xo = i * L + shift;
        for (let t = t0; t < t1; t++) {
          const xv = x[xo + t];
          y[y0 + t] += w0 * xv;
          y[y1 + t] += w1 * xv;
          y[y2 + t] += w2 * xv;
          y[y3 + t] += w3 * xv;
        }
      }
    }
  }
}

/** dz [cout, L] → accumulates dW, db into g; adds dx [cin, L] when dx is given. */
function convBackward(x, L, p, l, dz, g, dx) {
  const { cin, cout, k: K, dilation, padLeft } = l;
  for (let o = 0; o < cout; o++) {
    let db = 0;
    for (let t = 0; t < L; t++) db += dz[o * L + t];
    g[l.bOff + o] += db;
  }
  const stride = K * cin;
  for (let o = 0; o < cout; o += 4) {
    const z0 = o * L, z1 = z0 + L, z2 = z1 + L, z3 = z2 + L;
    for (let k = 0; k < K; k++) {
      const { shift, t0, t1 } = tapSpan(k * dilation - padLeft, L);
      if (t1 <= t0) continue;
      const wb = l.wOff + (o * K + k) * cin;
      for (let i = 0; i < cin; i++) {
        const xo = i * L + shift;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        if (dx) {
          const w0 = p[wb + i], w1 = p[wb + stride + i], w2 = p[wb + 2 * stride + i], w3 = p[wb + 3 * stride + i];
          for (let t = t0; t < t1; t++) {
            const xv = x[xo + t];
            const e0 = dz[z0 + t], e1 = dz[z1 + t], e2 = dz[z2 + t], e3 = dz[z3 + t];
            d0 += e0 * xv; d1 += e1 * xv; d2 += e2 * xv; d3 += e3 * xv;
            dx[xo + t] += w0 * e0 + w1 * e1 + w2 * e2 + w3 * e3;
          }
        } else {
          for (let t = t0; t < t1; t++) {
            const xv = x[xo + t];
            d0 += dz[z0 + t] * xv; d1 += dz[z1 + t] * xv; d2 += dz[z2 + t] * xv; d3 += dz[z3 + t] * xv;
          }
        }
        g[wb + i] += d0;
        g[wb + stride + i] += d1;
        g[wb + 2 * stride + i] += d2;
        g[wb + 3 * stride + i] += d3;
      }
    }
  }
}

/** Per-chunk workspace, reused across calls (grown on demand). */
export class Workspace {
  constructor(arch) {
    this.arch = arch;
    this.L = 0;
  }
  ensure(L) {
    if (L <= this.L) return;
    const { layers, out } = this.arch;
    this.L = L;
    this.acts = [new Float32Array(layers[0].cin * L), ...layers.map((l) => new Float32Array(l.cout * L))];
    this.pre = layers.map((l) => new Float32Array(l.cout * L));
    this.y = new Float32Array(out.cout * L);
    this.dA = layers.map((l) => new Float32Array(l.cin * L)).concat([new Float32Array(out.cin * L)]);
    this.dZ = new Float32Array(Math.max(...layers.map((l) => l.cout)) * L);
    this.dLogit = new Float32Array(out.cout * L);
  }
}

/** Forward: x [mels, L] (copied into ws.acts[0] by the caller) → ws.y [C, L] (sigmoid). */
export function forward(p, ws, L) {
  const { layers, out } = ws.arch;
  for (let li = 0; li < layers.length; li++) {
    const l = layers[li];
    const x = ws.acts[li];
    const z = ws.pre[li];
    const a = ws.acts[li + 1];
    convForward(x, L, p, l, z);
    const n = l.cout * L;
    if (l.residual) for (let j = 0; j < n; j++) a[j] = x[j] + (z[j] > 0 ? z[j] : 0);
    else for (let j = 0; j < n; j++) a[j] = z[j] > 0 ? z[j] : 0;
  }
  const h = ws.acts[layers.length];
  const y = ws.y;
  for (let c = 0; c < out.cout; c++) {
    const yo = c * L;
    y.fill(p[out.bOff + c], yo, yo + L);
    for (let i = 0; i < out.cin; i++) {
      const w = p[out.wOff + c * out.cin + i];
      const ho = i * L;
      for (let t = 0; t < L; t++) y[yo + t] += w * h[ho + t];
    }
    for (let t = 0; t < L; t++) y[yo + t] = 1 / (1 + Math.exp(-y[yo + t]));
  }
  return y;
}

/**
 * The viseme objective of one frame (see `visemeObjective`): adds its gradient w.r.t. the logits
 * into dl[c·L + t] and returns its cross-entropy (unweighted).
 */
function visemeFrame(y, L, t, C, aux, label, weight, dl) {
  const { vectors, count, tau } = aux;
  const z = new Float64Array(count);
  let max = -Infinity;
  for (let v = 0; v < count; v++) {
    let d = 0;
    for (let c = 0; c < C; c++) d += (y[c * L + t] - vectors[v * C + c]) ** 2;
    z[v] = -d / tau;
    max = Math.max(max, z[v]);
  }
  let sum = 0;
  for (let v = 0; v < count; v++) sum += Math.exp(z[v] - max);
  const ce = -(z[label] - max - Math.log(sum));
  for (let c = 0; c < C; c++) {
    const pc = y[c * L + t];
    let dp = 0;
    for (let v = 0; v < count; v++) {
      const gz = Math.exp(z[v] - max) / sum - (v === label ? 1 : 0); // d CE / d z_v
      dp += gz * (-1 / tau) * 2 * (pc - vectors[v * C + c]); // z_v = −Σ_c (p_c − V_vc)² / τ
    }
    dl[c * L + t] += weight * dp * pc * (1 - pc);
  }
  return ce;
}

/** The velocity objective (see `backward`): adds its gradient w.r.t. the logits into dl. */
function velocityTerm(y, L, target, C, scale, { lag: k, weights, lossOut }, dl) {
  const dy = new Float64Array(C * L);
  for (let c = 0; c < C; c++) {
    for (let t = 0; t + k < L; t++) {
      const j = c * L + t;
      const w = weights[j];
      if (w === 0) continue;
      const e = (y[j + k] - y[j]) - (target[j + k] - target[j]);
      if (lossOut) lossOut[0] += w * e * e;
      dy[j + k] += 2 * scale * w * e;
      dy[j] -= 2 * scale * w * e;
    }
  }
  for (let j = 0; j < C * L; j++) dl[j] += dy[j] * y[j] * (1 - y[j]);
}

/**
 * Weighted sigmoid cross-entropy against soft targets [C, L]; backward into g. Returns the summed
 * weighted squared error for reporting (the caller normalises by frames × Σ weights via `scale`).
 * With `aux` ({ vectors: Float32Array [count × C], count, tau, labels: Int32Array [L] (−1: no
 * label), weights: Float32Array [L] }), the viseme objective is added: per frame, weight × the
 * cross-entropy of softmax_v(−‖y − V_v‖² / τ) against the frame's viseme label; its summed
 * weighted cross-entropy is added to `aux.lossOut[0]` when given.
 * With `velocity` ({ lag: k, weights: Float32Array [C, L] (the weight of the pair (t, t + k)),
 * lossOut }), the velocity objective Σ w_t · ((y_{t+k} − y_t) − (target_{t+k} − target_t))² is added,
 * its gradient scaled by `scale` like the main loss; its sum is added to `velocity.lossOut[0]`.
 */
export function backward(p, ws, L, target, channelWeights, scale, g, aux = null, velocity = null) {
  const { layers, out } = ws.arch;
  const y = ws.y;
  const dl = ws.dLogit;
  let loss = 0;
  for (let c = 0; c < out.cout; c++) {
    const wc = channelWeights[c];
    for (let t = 0; t < L; t++) {
      const j = c * L + t;
      const e = y[j] - target[j];
      loss += wc * e * e;
      // Cross-entropy gradient w.r.t. the logit (soft targets): unlike MSE through the sigmoid it
      // does not fade near 0, so silence is driven to a truly closed mouth.
      dl[j] = wc * e * scale;
    }
  }
  if (aux) {
    for (let t = 0; t < L; t++) {
      if (aux.labels[t] < 0 || aux.weights[t] === 0) continue;
      const ce = visemeFrame(y, L, t, out.cout, aux, aux.labels[t], aux.weights[t], dl);
      if (aux.lossOut) aux.lossOut[0] += aux.weights[t] * ce;
    }
  }
  if (velocity) velocityTerm(y, L, target, out.cout, scale, velocity, dl);
  const h = ws.acts[layers.length];
  let dA = ws.dA[layers.length];
  dA.fill(0, 0, out.cin * L);
  for (let c = 0; c < out.cout; c++) {
    const lo = c * L;
    let db = 0;
    for (let t = 0; t < L; t++) db += dl[lo + t];
    g[out.bOff + c] += db;
    for (let i = 0; i < out.cin; i++) {
      const ho = i * L;
      let dw = 0;
      for (let t = 0; t < L; t++) dw += dl[lo + t] * h[ho + t];
      g[out.wOff + c * out.cin + i] += dw;
      const w = p[out.wOff + c * out.cin + i];
      for (let t = 0; t < L; t++) dA[ho + t] += w * dl[lo + t];
    }
  }
  for (let li = layers.length - 1; li >= 0; li--) {
    const l = layers[li];
    const z = ws.pre[li];
    const dz = ws.dZ;
    const n = l.cout * L;
    for (let j = 0; j < n; j++) dz[j] = z[j] > 0 ? dA[j] : 0;
    const dPrev = li > 0 ? ws.dA[li] : null;
    if (dPrev) {
      if (l.residual) dPrev.set(dA.subarray(0, l.cin * L));
      else dPrev.fill(0, 0, l.cin * L);
    }
    convBackward(ws.acts[li], L, p, l, dz, g, dPrev);
    dA = dPrev;
  }
  return loss;
}
