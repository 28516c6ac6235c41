#!/usr/bin/env node
// Builds pretrained_models/envelope-arkit.onnx: a tiny, hand-written (NOT trained) lip-sync
// placeholder that maps 16 kHz mono audio to 52 ARKit weights from two signal features:
// loudness (windowed RMS energy) and brightness (energy of the first difference relative to
// the energy of the signal). See pretrained_models/README.md for the model card.
//
// Usage: node scripts/build-envelope-model.mjs [outPath]
// The output is deterministic: same script, same bytes.
//
// Licence: MIT (same as the project).

import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, toBinary } from '@bufbuild/protobuf';
import {
  GraphProtoSchema,
  ModelProtoSchema,
  NodeProtoSchema,
  OperatorSetIdProtoSchema,
  StringStringEntryProtoSchema,
  TensorProtoSchema,
  TensorProto_DataType,
} from 'onnx-buf';
import { ARKIT_NAMES, MODEL_SAMPLE_RATE } from '../src/contracts/contracts.mjs';
import { attr, valueInfo } from '../training/lib/onnx-graph.mjs';

// ---------------------------------------------------------------------------------------------
// Parameters (documented in pretrained_models/README.md; change them there too).
// ---------------------------------------------------------------------------------------------
export const SAMPLE_RATE = MODEL_SAMPLE_RATE;
export const HOP = 320; // 20 ms -> 50 frames/s
export const WIN = 640; // 40 ms Hann window, centred on the middle of each hop
export const FRAME_RATE = SAMPLE_RATE / HOP; // 50
const PAD_LEFT = (WIN - HOP) / 2; // 160: frame t is centred on sample t*HOP + HOP/2
const PAD_RIGHT_MIN = (WIN - HOP) / 2; // 160; grows to keep >= 1 window when N < HOP

const ENERGY_EPS = 1e-10; // -100 dBFS; log(0) never happens
// Loudness level L = clip((dBFS - GATE_DB) / RANGE_DB, 0, 1), dBFS of the windowed RMS.
const GATE_DB = -50; // at or below: L = 0 (closed mouth)
const RANGE_DB = 40; // L = 1 at -10 dBFS; -20 dBFS -> 0.75
// "RMS frequency" f = acos(1 - r/2) * SR / (2*pi), r = E[(x[n]-x[n-1])^2] / E[x^2].
// For a pure tone f is exactly its frequency; for white noise it is SR/4 = 4 kHz.
const DARK_FULL_HZ = 300; // dark = 1 at or below (rounded vowels: "oo", "oh")
const DARK_ZERO_HZ = 700; // dark = 0 at or above
const BRIGHT_ZERO_HZ = 1200; // bright = 0 at or below
const BRIGHT_FULL_HZ = 3500; // bright = 1 at or above (fricatives, "s", "sh", "ee"-ish)

// Feature order (rows of the mixing matrix): [L, L*(1-L), L*bright, L*dark].
// Columns: ARKit weights. Output = clip(features @ MIX, 0, 1); unlisted shapes stay 0.
const MIX = {
  jawOpen: [0.6, 0, 0, 0],
  mouthLowerDownLeft: [0.35, 0, 0, 0],
  mouthLowerDownRight: [0.35, 0, 0, 0],
  mouthClose: [0, 0.4, 0, 0], // peaks at 0.1 for a half-open jaw, 0 when closed or wide open
  mouthSmileLeft: [0, 0, 0.4, 0],
  mouthSmileRight: [0, 0, 0.4, 0],
  mouthStretchLeft: [0, 0, 0.3, 0],
  mouthStretchRight: [0, 0, 0.3, 0],
  mouthFunnel: [0, 0, 0, 0.45],
  mouthPucker: [0, 0, 0, 0.35],
};
const N_FEATURES = 4;

// ---------------------------------------------------------------------------------------------
// Small helpers over the onnx-buf message schemas.
// ---------------------------------------------------------------------------------------------
const INPUT_NAME = 'audio';
const OUTPUT_NAME = 'blendshapes';

/** float32 tensor, stored little-endian in raw_data (explicit byte order: deterministic). */
function floatTensor(name, dims, values) {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new Error(`${name}: ${values.length} values for dims ${dims}`);
  const bytes = new Uint8Array(count * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: TensorProto_DataType.FLOAT,
    rawData: bytes,
  });
}

function int64Tensor(name, dims, values) {
  const bytes = new Uint8Array(values.length * 8);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return create(TensorProtoSchema, {
    name,
    dims: dims.map((d) => BigInt(d)),
    dataType: TensorProto_DataType.INT64,
    rawData: bytes,
  });
}

const nodes = [];
const initializers = [];

function node(opType, inputs, outputs, attrs = {}) {
  nodes.push(create(NodeProtoSchema, {
    name: `${opType}_${nodes.length}`,
    opType,
    input: inputs,
    output: Array.isArray(outputs) ? outputs : [outputs],
    attribute: Object.entries(attrs).map(([k, v]) => attr(k, v)),
  }));
}

function constF(name, value) {
  initializers.push(floatTensor(name, [], [value]));
  return name;
}

// ---------------------------------------------------------------------------------------------
// The graph.
// ---------------------------------------------------------------------------------------------
function buildGraph() {
  // --- pad: left PAD_LEFT, right PAD_RIGHT_MIN + max(0, HOP - N) -------------------------------
  // => padded length L = max(N, HOP) + WIN - HOP, T = floor((L - WIN) / HOP) + 1
  //    = max(1, floor(N / HOP)); frame t is centred on sample t*HOP + HOP/2.
  initializers.push(int64Tensor('c_hop_i64', [1], [HOP]));
  initializers.push(int64Tensor('c_zero_i64', [1], [0]));
  initializers.push(int64Tensor('c_padright_min_i64', [1], [PAD_RIGHT_MIN]));
  initializers.push(int64Tensor('c_pads_head', [3], [0, PAD_LEFT, 0])); // [b0, n0, b1] of [b0,n0,b1,n1]
  node('Shape', [INPUT_NAME], 'n_samples', { start: 1, end: 2 }); // [N]
  node('Sub', ['c_hop_i64', 'n_samples'], 'short_by');
  node('Max', ['short_by', 'c_zero_i64'], 'short_by_pos');
  node('Add', ['short_by_pos', 'c_padright_min_i64'], 'pad_right');
  node('Concat', ['c_pads_head', 'pad_right'], 'pads', { axis: 0 });
  node('Pad', [INPUT_NAME, 'pads'], 'audio_padded', { mode: 'constant' }); // [1, L]

  initializers.push(int64Tensor('c_axis1', [1], [1]));
  node('Unsqueeze', ['audio_padded', 'c_axis1'], 'x'); // [1, 1, L]

  // --- two channels: x[n] and its first difference d[n] = x[n] - x[n-1] ------------------------
  initializers.push(floatTensor('w_diff', [2, 1, 2], [0, 1, -1, 1]));
  node('Conv', ['x', 'w_diff'], 'x_and_diff', { kernel_shape: [2], pads: [1, 0] }); // [1, 2, L]
  node('Mul', ['x_and_diff', 'x_and_diff'], 'sq'); // [1, 2, L]

  // --- Hann-weighted mean of squares over WIN samples, hop HOP (grouped Conv, 1 kernel/channel)
  const hann = [];
  for (let k = 0; k < WIN; k++) hann.push(0.5 - 0.5 * Math.cos((2 * Math.PI * k) / WIN)); // periodic
  const hannSum = hann.reduce((a, b) => a + b, 0);
  const win = hann.map((v) => v / hannSum);
  initializers.push(floatTensor('w_window', [2, 1, WIN], [...win, ...win]));
  node('Conv', ['sq', 'w_window'], 'energies', { kernel_shape: [WIN], strides: [HOP], group: 2 }); // [1,2,T]

  initializers.push(int64Tensor('c_s0', [1], [0]));
  initializers.push(int64Tensor('c_s1', [1], [1]));
  initializers.push(int64Tensor('c_s2', [1], [2]));
  node('Slice', ['energies', 'c_s0', 'c_s1', 'c_axis1'], 'energy'); // [1,1,T] mean x^2
  node('Slice', ['energies', 'c_s1', 'c_s2', 'c_axis1'], 'diff_energy'); // [1,1,T] mean d^2
  node('Add', ['energy', constF('c_eps', ENERGY_EPS)], 'energy_eps');

  // --- loudness level L = clip((10*log10(E) - GATE_DB) / RANGE_DB, 0, 1) ----------------------
  const lnToDb = 10 / Math.LN10;
  node('Log', ['energy_eps'], 'log_energy');
  node('Mul', ['log_energy', constF('c_loud_scale', lnToDb / RANGE_DB)], 'loud_scaled');
  node('Add', ['loud_scaled', constF('c_loud_bias', -GATE_DB / RANGE_DB)], 'loud_affine');
  const zero = constF('c_zero', 0);
  const one = constF('c_one', 1);
  node('Clip', ['loud_affine', zero, one], 'level'); // L

  // --- RMS frequency f = acos(clip(1 - r/2, -1, 1)) * SR/(2 pi), r = diff_energy / energy ------
  node('Div', ['diff_energy', 'energy_eps'], 'ratio');
  node('Mul', ['ratio', constF('c_minus_half', -0.5)], 'half_ratio_neg');
  node('Add', ['half_ratio_neg', one], 'cos_omega_raw');
  node('Clip', ['cos_omega_raw', constF('c_minus_one', -1), one], 'cos_omega');
  node('Acos', ['cos_omega'], 'omega');
  node('Mul', ['omega', constF('c_rad_to_hz', SAMPLE_RATE / (2 * Math.PI))], 'freq_hz');
  node('Add', ['freq_hz', one], 'freq_hz_1'); // log(0) never happens (silence -> f = 0)
  node('Log', ['freq_hz_1'], 'log_freq');

  // bright = clip((ln f - ln B0) / (ln B1 - ln B0), 0, 1); dark = clip((ln D1 - ln f) / (ln D1 - ln D0), 0, 1)
  const bScale = 1 / Math.log(BRIGHT_FULL_HZ / BRIGHT_ZERO_HZ);
  node('Mul', ['log_freq', constF('c_bright_scale', bScale)], 'bright_scaled');
  node('Add', ['bright_scaled', constF('c_bright_bias', -Math.log(BRIGHT_ZERO_HZ) * bScale)], 'bright_affine');
  node('Clip', ['bright_affine', zero, one], 'bright');
  const dScale = -1 / Math.log(DARK_ZERO_HZ / DARK_FULL_HZ);
  node('Mul', ['log_freq', constF('c_dark_scale', dScale)], 'dark_scaled');
  node('Add', ['dark_scaled', constF('c_dark_bias', Math.log(DARK_ZERO_HZ) / Math.log(DARK_ZERO_HZ / DARK_FULL_HZ))], 'dark_affine');
  node('Clip', ['dark_affine', zero, one], 'dark');

  // --- features [L, L(1-L), L*bright, L*dark] -> [1, T, 4] -------------------------------------
  node('Sub', [one, 'level'], 'one_minus_level');
  node('Mul', ['level', 'one_minus_level'], 'level_mid');
  node('Mul', ['level', 'bright'], 'level_bright');
  node('Mul', ['level', 'dark'], 'level_dark');
  node('Concat', ['level', 'level_mid', 'level_bright', 'level_dark'], 'features_ct', { axis: 1 }); // [1,4,T]
  node('Transpose', ['features_ct'], 'features', { perm: [0, 2, 1] }); // [1,T,4]

  // --- mix to 52 ARKit weights, clip to [0, 1] -------------------------------------------------
  const mix = new Array(N_FEATURES * 52).fill(0);
  for (const [name, row] of Object.entries(MIX)) {
    const col = ARKIT_NAMES.indexOf(name);
    if (col < 0) throw new Error(`unknown ARKit name ${name}`);
    row.forEach((w, f) => { mix[f * 52 + col] = w; });
  }
  initializers.push(floatTensor('w_mix', [N_FEATURES, 52], mix));
  node('MatMul', ['features', 'w_mix'], 'mixed'); // [1,T,52]
  node('Clip', ['mixed', zero, one], OUTPUT_NAME);

  return create(GraphProtoSchema, {
    name: 'envelope_arkit',
    docString:
      'Signal-envelope heuristic (not trained): windowed loudness and first-difference brightness ' +
      `mapped to ARKit weights. Input ${INPUT_NAME} [1,N] float32 16 kHz mono in -1..1; output ` +
      `${OUTPUT_NAME} [1,T,52] in [0,1], T = max(1, floor(N/${HOP})), ${FRAME_RATE} frames/s.`,
    node: nodes,
    initializer: initializers,
    input: [valueInfo(INPUT_NAME, [1, 'N'])],
    output: [valueInfo(OUTPUT_NAME, [1, 'T', 52])],
  });
}

export function buildModelBytes() {
  nodes.length = 0;
  initializers.length = 0;
  const meta = {
    sample_rate: String(SAMPLE_RATE),
    frame_rate: String(FRAME_RATE),
    hop_samples: String(HOP),
    window_samples: String(WIN),
    frames: `T = max(1, floor(N / ${HOP})); frame t centred on sample t*${HOP}+${HOP / 2}`,
    blendshapes: 'ARKit 52, canonical order (PROTOCOL.md 1.3)',
    trained: 'false',
    license: 'MIT',
  };
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: 17n })],
    producerName: 'build-envelope-model.mjs',
    producerVersion: '1',
    modelVersion: 1n,
    docString: 'Placeholder lip-sync model: a hand-written signal-envelope heuristic, not a trained model.',
    graph: buildGraph(),
    metadataProps: Object.entries(meta).map(([key, value]) => create(StringStringEntryProtoSchema, { key, value })),
  });
  return toBinary(ModelProtoSchema, model);
}

const isMain = process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const here = dirname(fileURLToPath(import.meta.url));
  const outPath = resolve(process.argv[2] ?? `${here}/../pretrained_models/envelope-arkit.onnx`);
  const bytes = buildModelBytes();
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, bytes);
  console.log(`wrote ${outPath} (${bytes.length} bytes)`);
}
