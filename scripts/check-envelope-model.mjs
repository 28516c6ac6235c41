#!/usr/bin/env node
// Loads pretrained_models/envelope-arkit.onnx with onnxruntime-node and checks its behaviour
// on synthetic signals. Exits 1 if any check fails.
//
// Usage: node scripts/check-envelope-model.mjs [modelPath]

import { statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { ARKIT_INDEX, ARKIT_NAMES, MODEL_SAMPLE_RATE } from '../src/contracts/contracts.mjs';
import { makeRng } from '../training/lib/rng.mjs';
import { HOP } from './build-envelope-model.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const modelPath = resolve(process.argv[2] ?? `${here}/../pretrained_models/envelope-arkit.onnx`);
const SR = MODEL_SAMPLE_RATE;
const IDX = ARKIT_INDEX;

const DRIVEN = new Set([
  'jawOpen', 'mouthLowerDownLeft', 'mouthLowerDownRight', 'mouthClose', 'mouthSmileLeft', 'mouthSmileRight',
  'mouthStretchLeft', 'mouthStretchRight', 'mouthFunnel', 'mouthPucker',
]);

let failures = 0;
function check(ok, msg) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${msg}`);
  if (!ok) failures++;
}

/** One second of deterministic white noise at `db` dBFS RMS. */
function noise(seed, db) {
  const r = makeRng(seed);
  const x = new Float32Array(SR);
  for (let i = 0; i < x.length; i++) x[i] = 2 * r.next() - 1;
  return scaleToDbfs(x, db);
}

function rms(x) {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}
function scaleToDbfs(x, db) {
  const g = 10 ** (db / 20) / rms(x);
  for (let i = 0; i < x.length; i++) x[i] *= g;
  return x;
}

const signals = {
  silence: () => new Float32Array(SR),
  sine200: () => {
    const x = new Float32Array(SR);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 200 * i) / SR);
    return scaleToDbfs(x, -20);
  },
  whiteNoise: () => noise(1, -20),
  // Glottal pulse train (f0 = 120 Hz) through three formant resonators ("ah": 700/1220/2600 Hz),
  // with a 3 Hz syllable envelope that closes fully between syllables. -20 dBFS RMS overall.
  vowel: () => {
    const n = 2 * SR;
    let x = new Float64Array(n);
    const period = SR / 120;
    for (let i = 0; i < n; i++) if (Math.floor(i / period) !== Math.floor((i - 1) / period)) x[i] = 1;
    for (const [f, bw] of [[700, 80], [1220, 90], [2600, 120]]) {
      const r = Math.exp((-Math.PI * bw) / SR);
      const a1 = 2 * r * Math.cos((2 * Math.PI * f) / SR);
      const a2 = -r * r;
      const y = new Float64Array(n);
      for (let i = 0; i < n; i++) y[i] = (1 - r) * x[i] + a1 * (i > 0 ? y[i - 1] : 0) + a2 * (i > 1 ? y[i - 2] : 0);
      x = y;
    }
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = x[i] * Math.sin((Math.PI * 3 * i) / SR) ** 2; // 3 syllables/s
    return scaleToDbfs(out, -20);
  },
  quietNoise: () => noise(2, -65),
  fullScaleSquare: () => {
    const x = new Float32Array(SR);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * 150 * i) / SR) >= 0 ? 1 : -1;
    return x;
  },
};

async function run(session, x) {
  const out = await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, [1, x.length]) });
  return out[session.outputNames[0]];
}

/** Per-shape stats over interior frames (the first and last frame see the zero padding). */
function stats(y) {
  const [, T, C] = y.dims;
  const from = T > 4 ? 1 : 0;
  const to = T > 4 ? T - 1 : T;
  const res = {};
  for (const name of ARKIT_NAMES) {
    const c = IDX[name];
    let sum = 0, max = -Infinity, min = Infinity;
    for (let t = from; t < to; t++) {
      const v = y.data[t * C + c];
      sum += v; max = Math.max(max, v); min = Math.min(min, v);
    }
    res[name] = { mean: sum / (to - from), max, min };
  }
  return res;
}
function column(y, name) {
  const [, T, C] = y.dims;
  return Array.from({ length: T }, (_, t) => y.data[t * C + IDX[name]]);
}
function allInRangeAndUndrivenZero(y) {
  const [, T, C] = y.dims;
  let inRange = true, undrivenZero = true;
  for (let t = 0; t < T; t++) {
    for (let c = 0; c < C; c++) {
      const v = y.data[t * C + c];
      if (!(v >= 0 && v <= 1)) inRange = false; // also catches NaN
      if (!DRIVEN.has(ARKIT_NAMES[c]) && v !== 0) undrivenZero = false;
    }
  }
  return { inRange, undrivenZero };
}

const size = statSync(modelPath).size;
console.log(`model ${modelPath} (${size} bytes)`);
check(size < 100 * 1024, `model is under 100 KB (${size} bytes)`);

const session = await ort.InferenceSession.create(modelPath, { executionProviders: ['cpu'] });
console.log(`inputs: ${JSON.stringify(session.inputNames)}  outputs: ${JSON.stringify(session.outputNames)}`);
check(session.inputNames.length === 1 && session.outputNames.length === 1, 'exactly one input and one output');

// --- shapes -----------------------------------------------------------------------------------
console.log('\nshapes (T should be max(1, floor(N/320)) at 50 frames/s):');
for (const N of [0, 1, 100, 319, 320, 321, 639, 640, 3200, 8000, SR, SR + 1, 1.5 * SR, 3 * SR]) {
  const x = new Float32Array(N);
  for (let i = 0; i < N; i++) x[i] = 0.1 * Math.sin((2 * Math.PI * 220 * i) / SR);
  let y;
  try {
    y = await run(session, x);
  } catch (e) {
    check(false, `N=${N}: run threw ${e.message}`);
    continue;
  }
  const expectT = Math.max(1, Math.floor(N / HOP));
  const { inRange } = allInRangeAndUndrivenZero(y);
  check(
    y.type === 'float32' && y.dims.length === 3 && y.dims[0] === 1 && y.dims[1] === expectT && y.dims[2] === 52 && inRange,
    `N=${String(N).padStart(5)} -> dims [${y.dims.join(', ')}] (expect [1, ${expectT}, 52])`,
  );
}

// --- behaviour --------------------------------------------------------------------------------
const SHOW = ['jawOpen', 'mouthLowerDownLeft', 'mouthClose', 'mouthSmileLeft', 'mouthStretchLeft', 'mouthFunnel', 'mouthPucker'];
const results = {};
console.log(`\n${'signal'.padEnd(16)} ${'T'.padStart(4)} ${SHOW.map((s) => s.padStart(19)).join('')}   (mean/max over interior frames)`);
for (const [name, make] of Object.entries(signals)) {
  const x = make();
  const y = await run(session, x);
  const s = stats(y);
  results[name] = { y, s, x };
  console.log(`${name.padEnd(16)} ${String(y.dims[1]).padStart(4)} ${SHOW.map((k) => `${s[k].mean.toFixed(3)}/${s[k].max.toFixed(3)}`.padStart(19)).join('')}`);
  const { inRange, undrivenZero } = allInRangeAndUndrivenZero(y);
  check(inRange, `${name}: every weight finite and in [0, 1]`);
  check(undrivenZero, `${name}: the 42 undriven shapes are exactly 0`);
}
console.log('');

const { silence, sine200, whiteNoise, vowel, quietNoise, fullScaleSquare } = Object.fromEntries(
  Object.entries(results).map(([k, v]) => [k, v.s]),
);
check(silence.jawOpen.max < 0.05, `silence: jawOpen max ${silence.jawOpen.max.toFixed(4)} < 0.05`);
check(Object.values(silence).every((v) => v.max === 0), 'silence: all 52 weights are 0');
check(quietNoise.jawOpen.max < 0.05, `-65 dBFS noise: jawOpen max ${quietNoise.jawOpen.max.toFixed(4)} < 0.05`);

check(sine200.jawOpen.min > 0.3, `200 Hz sine at -20 dBFS: jawOpen min ${sine200.jawOpen.min.toFixed(3)} > 0.3`);
check(sine200.mouthLowerDownLeft.min > 0.1, `200 Hz sine: mouthLowerDown ${sine200.mouthLowerDownLeft.min.toFixed(3)} > 0.1`);
check(sine200.mouthFunnel.mean > 0.2 && sine200.mouthPucker.mean > 0.15,
  `200 Hz sine (dark): funnel ${sine200.mouthFunnel.mean.toFixed(3)} > 0.2, pucker ${sine200.mouthPucker.mean.toFixed(3)} > 0.15`);
check(sine200.mouthSmileLeft.max === 0 && sine200.mouthStretchLeft.max === 0, '200 Hz sine: smile/stretch are 0');

check(whiteNoise.jawOpen.min > 0.3, `white noise at -20 dBFS: jawOpen min ${whiteNoise.jawOpen.min.toFixed(3)} > 0.3`);
check(whiteNoise.mouthSmileLeft.mean > 0.2 && whiteNoise.mouthStretchLeft.mean > 0.15,
  `white noise (bright): smile ${whiteNoise.mouthSmileLeft.mean.toFixed(3)} > 0.2, stretch ${whiteNoise.mouthStretchLeft.mean.toFixed(3)} > 0.15`);
check(whiteNoise.mouthFunnel.max === 0 && whiteNoise.mouthPucker.max === 0, 'white noise: funnel/pucker are 0');

check(vowel.jawOpen.max > 0.3, `vowel-like: jawOpen peaks at ${vowel.jawOpen.max.toFixed(3)} > 0.3`);
check(vowel.jawOpen.max - vowel.jawOpen.min > 0.3,
  `vowel-like: jawOpen follows the syllables (range ${vowel.jawOpen.min.toFixed(3)}..${vowel.jawOpen.max.toFixed(3)})`);
check(vowel.mouthClose.max > 0.02 && vowel.mouthClose.max <= 0.1 + 1e-6,
  `vowel-like: mouthClose small but present (max ${vowel.mouthClose.max.toFixed(3)})`);
{
  // jawOpen should track the syllable envelope: correlate it with the per-frame input level in dB.
  const { y, x } = results.vowel;
  const jaw = column(y, 'jawOpen');
  const lvl = jaw.map((_, t) => {
    const seg = x.subarray(Math.max(0, t * HOP - 160), Math.min(x.length, t * HOP + 480));
    return 20 * Math.log10(rms(seg) + 1e-5);
  });
  const mean = (a) => a.reduce((p, q) => p + q, 0) / a.length;
  const mj = mean(jaw), ml = mean(lvl);
  let sjl = 0, sjj = 0, sll = 0;
  for (let t = 0; t < jaw.length; t++) {
    sjl += (jaw[t] - mj) * (lvl[t] - ml); sjj += (jaw[t] - mj) ** 2; sll += (lvl[t] - ml) ** 2;
  }
  const corr = sjl / Math.sqrt(sjj * sll);
  check(corr > 0.9, `vowel-like: corr(jawOpen, input level dB) = ${corr.toFixed(3)} > 0.9`);
  console.log(`     vowel jawOpen, every 4th frame: ${jaw.filter((_, t) => t % 4 === 0).map((v) => v.toFixed(2)).join(' ')}`);
}
check(fullScaleSquare.jawOpen.max <= 0.6 + 1e-6, `full-scale square: jawOpen ${fullScaleSquare.jawOpen.max.toFixed(3)} saturates at 0.6`);

// --- cost -------------------------------------------------------------------------------------
{
  const x = results.vowel.x;
  const t0 = process.hrtime.bigint();
  const reps = 20;
  for (let i = 0; i < reps; i++) await run(session, x);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
  console.log(`\ncost: ${ms.toFixed(2)} ms per run on ${x.length / SR} s of audio (CPU)`);
}

await session.release?.();
if (failures) {
  console.log(`\n${failures} check(s) FAILED`);
  process.exit(1);
}
console.log('\nall checks passed');
