#!/usr/bin/env node
/**
 * Checks the onnxruntime training graphs (lib/ort-net.mjs) against the plain-JS reference network
 * (lib/net.mjs): forward outputs, loss and every parameter gradient on random data, for the
 * shipped architecture's layer pattern at a small width. Exit 1 on a mismatch.
 *
 *   node training/check-grad.mjs
 */
import { Workspace, backward, forward, initParams, makeArchitecture } from './lib/net.mjs';
import { OrtNet, toNetLayout, toOnnxLayout } from './lib/ort-net.mjs';
import { makeRng } from './lib/rng.mjs';

const arch = makeArchitecture({ mels: 12, hidden: 16, channels: 5 });
const rng = makeRng(7);
const p = initParams(arch, rng);
for (let i = 0; i < p.length; i++) p[i] += rng.normal() * 0.05; // non-zero biases, less regular weights
const B = 3;
const L = 57;
const M = arch.mels;
const C = arch.channels;
const x = Float32Array.from({ length: B * M * L }, () => rng.normal());
const target = Float32Array.from({ length: B * C * L }, () => rng.next());
const cw = Float32Array.from({ length: C }, () => rng.uniform(0.5, 3));
const weight = new Float32Array(B * C * L);
for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) weight.fill(cw[c], (b * C + c) * L, (b * C + c + 1) * L);
const scale = 1 / (B * L);

// Reference: sum over the batch of net.mjs's per-chunk forward/backward.
const ws = new Workspace(arch);
ws.ensure(L);
const gRef = new Float32Array(arch.paramCount);
const yRef = new Float32Array(B * C * L);
let lossRef = 0;
for (let b = 0; b < B; b++) {
  ws.acts[0].set(x.subarray(b * M * L, (b + 1) * M * L));
  yRef.set(forward(p, ws, L).subarray(0, C * L), b * C * L);
  lossRef += backward(p, ws, L, target.subarray(b * C * L, (b + 1) * C * L), cw, scale, gRef);
}

const net = await OrtNet.create(arch, { threads: 2 });
const q = toOnnxLayout(arch, p);
let failures = 0;
const check = (what, got, want, tol) => {
  let worst = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
    norm = Math.max(norm, Math.abs(want[i]));
  }
  const ok = worst <= tol * Math.max(norm, 1e-3);
  if (!ok) failures++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}: max |diff| ${worst.toExponential(2)} (max |ref| ${norm.toExponential(2)})`);
};
if (toNetLayout(arch, q).some((v, i) => v !== p[i])) {
  failures++;
  console.log('FAIL layout round trip');
}
const y = await net.forward(q, x, B, L);
check('forward', y, yRef, 1e-5);
const g = new Float32Array(q.length);
const loss = await net.gradient(q, x, target, weight, B, L, scale, g);
check('loss', [loss], [lossRef], 1e-5);
const gNet = toNetLayout(arch, g);
check('gradient (all parameters)', gNet, gRef, 1e-4);
for (const [i, l] of arch.layers.entries()) {
  check(`  layer ${i} weights (k ${l.k}, dilation ${l.dilation}, pads ${l.padLeft}/${l.padRight})`,
    gNet.subarray(l.wOff, l.wOff + l.cout * l.k * l.cin), gRef.subarray(l.wOff, l.wOff + l.cout * l.k * l.cin), 1e-4);
}
// Zero weight must remove a frame from the loss and the gradient entirely.
const masked = weight.slice();
masked.fill(0, 0, C * L);
const g2 = new Float32Array(q.length);
const loss2 = await net.gradient(q, x, target, masked, B, L, scale, g2);
let lossTail = 0;
const gTail = new Float32Array(arch.paramCount);
for (let b = 1; b < B; b++) {
  ws.acts[0].set(x.subarray(b * M * L, (b + 1) * M * L));
  forward(p, ws, L);
  lossTail += backward(p, ws, L, target.subarray(b * C * L, (b + 1) * C * L), cw, scale, gTail);
}
check('masked chunk: loss', [loss2], [lossTail], 1e-5);
check('masked chunk: gradient', toNetLayout(arch, g2), gTail, 1e-4);

// The viseme objective (train.mjs --viseme-aux): the graph against the reference, and the
// reference's gradient against finite differences of the objective it differentiates.
const count = 4;
const tau = 0.1;
const vectors = Float32Array.from({ length: count * C }, () => rng.next() * 0.7);
const labels = Int32Array.from({ length: B * L }, () => (rng.chance(0.15) ? -1 : rng.int(0, count)));
const auxW = Float32Array.from(labels, (l) => (l < 0 ? 0 : rng.uniform(0.5, 2) / (B * L)));
const oneHot = new Float32Array(B * count * L);
labels.forEach((l, j) => {
  const b = Math.floor(j / L), t = j % L;
  if (l >= 0) oneHot[(b * count + l) * L + t] = 1;
});
const aux = { vectors, count, tau };
/**
 * The plain-JS reference over the batch with the viseme objective (`viseme`) and/or the velocity
 * objective (`velocity`: { lag, weights [B, C, L] }); gradient into `grad`.
 */
const reference = (params, grad, { channelWeights = cw, viseme = true, velocity = null } = {}) => {
  let loss = 0;
  const visOut = new Float64Array(1);
  const velOut = new Float64Array(1);
  for (let b = 0; b < B; b++) {
    ws.acts[0].set(x.subarray(b * M * L, (b + 1) * M * L));
    forward(params, ws, L);
    loss += backward(params, ws, L, target.subarray(b * C * L, (b + 1) * C * L), channelWeights, scale, grad,
      viseme ? { ...aux, labels: labels.subarray(b * L, (b + 1) * L), weights: auxW.subarray(b * L, (b + 1) * L), lossOut: visOut } : null,
      velocity ? { lag: velocity.lag, weights: velocity.weights.subarray(b * C * L, (b + 1) * C * L), lossOut: velOut } : null);
  }
  return { loss, visemeLoss: visOut[0], velocityLoss: velOut[0] };
};
const gAuxRef = new Float32Array(arch.paramCount);
const refA = reference(p, gAuxRef);
const netAux = await OrtNet.create(arch, { threads: 2, aux });
const gAux = new Float32Array(q.length);
const lossAux = await netAux.gradient(q, x, target, weight, B, L, scale, gAux, { label: oneHot, weight: auxW });
check('viseme objective: loss', [lossAux], [refA.loss], 1e-5);
check('viseme objective: its cross-entropy', [netAux.lastVisemeLoss], [refA.visemeLoss], 1e-4);
check('viseme objective: gradient (all parameters)', toNetLayout(arch, gAux), gAuxRef, 1e-4);
const differs = gAuxRef.some((v, i) => Math.abs(v - gRef[i]) > 1e-4 * Math.max(1e-3, Math.abs(gRef[i])));
if (!differs) {
  failures++;
  console.log('FAIL viseme objective: gradient identical to the plain loss (objective not applied)');
}
// The viseme objective alone (channel weights 0): Σ w_t · CE_t in float64 from the float32 forward,
// plus Σ w_c · BCE(y, target) · scale when `withBce`.
const gVisemeOnly = new Float32Array(arch.paramCount);
reference(p, gVisemeOnly, { channelWeights: new Float32Array(C) });
const objective = (params, withBce) => {
  let o = 0;
  for (let b = 0; b < B; b++) {
    ws.acts[0].set(x.subarray(b * M * L, (b + 1) * M * L));
    const yb = forward(params, ws, L);
    if (withBce) for (let c = 0; c < C; c++) for (let t = 0; t < L; t++) {
      const yv = yb[c * L + t], tv = target[(b * C + c) * L + t];
      o -= cw[c] * scale * (tv * Math.log(yv) + (1 - tv) * Math.log(1 - yv));
    }
    for (let t = 0; t < L; t++) {
      const lab = labels[b * L + t];
      if (lab < 0) continue;
      const z = Array.from({ length: count }, (_, v) => {
        let d = 0;
        for (let c = 0; c < C; c++) d += (yb[c * L + t] - vectors[v * C + c]) ** 2;
        return -d / tau;
      });
      const mx = Math.max(...z);
      o += auxW[b * L + t] * -(z[lab] - mx - Math.log(z.reduce((s, zv) => s + Math.exp(zv - mx), 0)));
    }
  }
  return o;
};
/** The reference gradient `grad` against central differences of `fn` on its 12 largest entries. */
const centralDifferences = (what, grad, fn) => {
  const largest = [...grad.keys()].sort((i, j) => Math.abs(grad[j]) - Math.abs(grad[i])).slice(0, 12);
  let fdWorst = 0;
  for (const i of largest) {
    const h = 1e-2 * Math.max(1e-2, Math.abs(p[i]));
    const pp = p.slice(); pp[i] += h;
    const pm = p.slice(); pm[i] -= h;
    fdWorst = Math.max(fdWorst, Math.abs((fn(pp) - fn(pm)) / (2 * h) - grad[i]) / Math.abs(grad[i]));
  }
  const fdOk = fdWorst < 0.01;
  if (!fdOk) failures++;
  console.log(`${fdOk ? 'ok  ' : 'FAIL'} ${what}: reference gradient vs central differences on its 12 largest: worst relative error ${fdWorst.toExponential(2)}`);
};
centralDifferences('viseme objective alone', gVisemeOnly, (params) => objective(params, false));
centralDifferences('with the weighted cross-entropy', gAuxRef, (params) => objective(params, true));

// The velocity objective (train.mjs --velocity): the graph against the reference, alone and with
// the viseme objective, and the reference's gradient against central differences.
const lag = 3;
const velW = new Float32Array(B * C * L);
for (let b = 0; b < B; b++) for (let c = 0; c < C; c++) for (let t = 0; t + lag < L; t++) {
  if (!rng.chance(0.15)) velW[(b * C + c) * L + t] = rng.uniform(0.5, 2) * 4;
}
for (const withAux of [false, true]) {
  const what = withAux ? 'velocity + viseme objectives' : 'velocity objective';
  const gVelRef = new Float32Array(arch.paramCount);
  const ref = reference(p, gVelRef, { viseme: withAux, velocity: { lag, weights: velW } });
  const netVel = await OrtNet.create(arch, { threads: 2, aux: withAux ? aux : null, velocity: { lag } });
  const gVel = new Float32Array(q.length);
  const lossVel = await netVel.gradient(q, x, target, weight, B, L, scale, gVel, withAux ? { label: oneHot, weight: auxW } : null, { weight: velW });
  check(`${what}: loss`, [lossVel], [ref.loss], 1e-5);
  check(`${what}: its Σ w·e²`, [netVel.lastVelocityLoss], [ref.velocityLoss], 1e-4);
  if (withAux) check(`${what}: viseme cross-entropy`, [netVel.lastVisemeLoss], [ref.visemeLoss], 1e-4);
  check(`${what}: gradient (all parameters)`, toNetLayout(arch, gVel), gVelRef, 1e-4);
  const base = withAux ? gAuxRef : gRef;
  if (!gVelRef.some((v, i) => Math.abs(v - base[i]) > 1e-3 * Math.max(1e-3, Math.abs(base[i])))) {
    failures++;
    console.log(`FAIL ${what}: gradient identical to the one without it (objective not applied)`);
  }
}
{
  const gVelOnly = new Float32Array(arch.paramCount);
  reference(p, gVelOnly, { channelWeights: new Float32Array(C), viseme: false, velocity: { lag, weights: velW } });
  const velObjective = (params) => {
    let o = 0;
    for (let b = 0; b < B; b++) {
      ws.acts[0].set(x.subarray(b * M * L, (b + 1) * M * L));
      const yb = forward(params, ws, L);
      for (let c = 0; c < C; c++) for (let t = 0; t + lag < L; t++) {
        const j = c * L + t, tb = (b * C + c) * L + t;
        const e = (yb[j + lag] - yb[j]) - (target[tb + lag] - target[tb]);
        o += scale * velW[tb] * e * e;
      }
    }
    return o;
  };
  centralDifferences('velocity objective alone', gVelOnly, velObjective);
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
