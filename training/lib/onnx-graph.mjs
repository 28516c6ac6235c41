/**
 * Our own ONNX export (protobuf definitions from onnx-buf). The graph holds the whole path of
 * the model contract: audio [1, N] (or [B, N]) 16 kHz → framing + DFT (a strided Conv) → power → log-mel →
 * fixed normalisation → dilated 1-D conv stack → sigmoid → 100 fps → 30 fps linear resampling →
 * spread of the 15 mouth channels onto the 52 ARKit names → [1, T, 52] (or [B, T, 52]).
 */
import { create, toBinary } from '@bufbuild/protobuf';
import {
  AttributeProtoSchema, AttributeProto_AttributeType, GraphProtoSchema, ModelProtoSchema, NodeProtoSchema,
  OperatorSetIdProtoSchema, StringStringEntryProtoSchema, TensorProtoSchema, TensorProto_DataType,
  TensorShapeProtoSchema, TensorShapeProto_DimensionSchema, TypeProtoSchema, TypeProto_TensorSchema, ValueInfoProtoSchema,
} from 'onnx-buf';
import { FEATURES, melFilterbank, dftKernel } from './features.mjs';
import { FRAME_RATE } from '../../src/contracts/contracts.mjs';

export const OPSET = 17;

export class GraphBuilder {
  constructor() {
    this.nodes = [];
    this.initializers = [];
    this.counter = 0;
  }
  name(prefix) {
    return `${prefix}_${this.counter++}`;
  }
  /** Constant tensor (float32 or int64) stored as an initializer. */
  const(values, dims, type = 'float', prefix = 'c') {
    const name = this.name(prefix);
    const bytes = type === 'float'
      ? new Uint8Array(Float32Array.from(values).buffer)
      : new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
    this.initializers.push(create(TensorProtoSchema, {
      name,
      dims: dims.map((d) => BigInt(d)),
      dataType: type === 'float' ? TensorProto_DataType.FLOAT : TensorProto_DataType.INT64,
      rawData: bytes,
    }));
    return name;
  }
  op(opType, inputs, attrs = {}, outputName) {
    const output = outputName ?? this.name(opType.toLowerCase());
    const attribute = Object.entries(attrs).map(([name, v]) => attr(name, v));
    this.nodes.push(create(NodeProtoSchema, { opType, input: inputs, output: [output], name: this.name(`n_${opType}`), attribute }));
    return output;
  }
}

export function attr(name, v) {
  if (Array.isArray(v)) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: v.map((x) => BigInt(x)) });
  if (Number.isInteger(v)) return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(v) });
  if (typeof v === 'number') return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.FLOAT, f: v });
  return create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.STRING, s: new TextEncoder().encode(v) });
}

export function valueInfo(name, dims) {
  return create(ValueInfoProtoSchema, {
    name,
    type: create(TypeProtoSchema, {
      value: {
        case: 'tensorType',
        value: create(TypeProto_TensorSchema, {
          elemType: TensorProto_DataType.FLOAT,
          shape: create(TensorShapeProtoSchema, {
            dim: dims.map((d) => create(TensorShapeProto_DimensionSchema, {
              value: typeof d === 'string' ? { case: 'dimParam', value: d } : { case: 'dimValue', value: BigInt(d) },
            })),
          }),
        }),
      },
    }),
  });
}

/**
 * audio [B, N] → normalised log-mel [B, MELS, F] (F = floor(N / HOP) + 1, frame j centred at (j + 0.5) · HOP).
 * Reshape to [B, 1, N] copies the batch dimension (0), so one graph serves [1, N] and [B, N].
 */
function addFeatures(g, audio, norm) {
  const { WINDOW, HOP, PAD_LEFT, PAD_RIGHT, MELS, LOG_FLOOR } = FEATURES;
  const x3 = g.op('Reshape', [audio, g.const([0, 1, -1], [3], 'int64')]);
  const padded = g.op('Pad', [x3, g.const([0, 0, PAD_LEFT, 0, 0, PAD_RIGHT], [6], 'int64')], { mode: 'constant' });
  const { weights: dft, rows } = dftKernel();
  const spec = g.op('Conv', [padded, g.const(dft, [rows, 1, WINDOW])], { strides: [HOP], kernel_shape: [WINDOW] });
  const power = g.op('Mul', [spec, spec]);
  // Re² and Im² rows share one mel matrix: [MELS, 2·BINS] @ [1, 2·BINS, F] sums them and applies the filterbank.
  const mel = melFilterbank();
  const bins = rows / 2;
  const mel2 = new Float32Array(MELS * rows);
  for (let m = 0; m < MELS; m++) for (let k = 0; k < bins; k++) {
    mel2[m * rows + k] = mel[m * bins + k];
    mel2[m * rows + bins + k] = mel[m * bins + k];
  }
  const melPower = g.op('MatMul', [g.const(mel2, [MELS, rows]), power]);
  const logMel = g.op('Log', [g.op('Add', [melPower, g.const([LOG_FLOOR], [1])])]);
  if (!norm) return logMel;
  const centred = g.op('Sub', [logMel, g.const(norm.mean, [MELS, 1])]);
  return g.op('Mul', [centred, g.const(norm.invStd, [MELS, 1])]);
}

export function serialize(g, inputs, outputs, docString, name = 'lipsync') {
  const graph = create(GraphProtoSchema, {
    name,
    node: g.nodes,
    initializer: g.initializers,
    input: inputs,
    output: outputs,
  });
  const model = create(ModelProtoSchema, {
    irVersion: 8n,
    producerName: 'avatar-stream-server/training',
    producerVersion: '1',
    docString,
    opsetImport: [create(OperatorSetIdProtoSchema, { domain: '', version: BigInt(OPSET) })],
    graph,
    metadataProps: [create(StringStringEntryProtoSchema, { key: 'frame_rate', value: String(FRAME_RATE) })],
  });
  return toBinary(ModelProtoSchema, model);
}

/**
 * The shipped model's smoothing of its 100 fps outputs (train.mjs --smooth): taps at −20 … +20 ms, the
 * +20 ms one 0, so it adds one 10 ms frame of lookahead. On real speech it steadies the outputs (the
 * targets are smooth; the net's frame-to-frame jitter on unfamiliar voices is not): see the model card.
 */
export const OUTPUT_SMOOTHING = Object.freeze([1, 2, 3, 2, 0]);

/**
 * How much later than its centre each 30 fps frame reads the 100 fps outputs, in 10 ms frames
 * (train.mjs --advance). A network trained on squared error with 60 ms of lookahead hedges at onsets
 * — it cannot yet hear how the next sound goes on — so its outputs trail the targets by a few ms on
 * every kind of speech (correlation against the targets peaks between lag 0 and one 30 fps frame
 * earlier: model card, "Reading the outputs 7.5 ms later"). Reading 7.5 ms later puts the shapes back
 * on time at 7.5 ms of the lookahead budget: the longest lookahead of any 30 fps frame goes from
 * about 91 ms to 97.5 ms (and stays there for any advance up to MAX_OUTPUT_ADVANCE; from 5/6 on, one
 * phase of the 30 fps grid reads one 10 ms frame further, past 100 ms).
 */
export const OUTPUT_ADVANCE = 0.75;
/** The most the 100 ms lookahead budget allows with the shipped network and smoothing (see above). */
export const MAX_OUTPUT_ADVANCE = 0.8;

/**
 * The same fixed kernel over every channel of [B, C, F] along F (a depthwise Conv), edge-padded so the
 * first and last frames are not pulled towards 0: y[f] = Σ_j k_j · x[clamp(f + j − r)], r = (K − 1) / 2.
 */
function smoothFrames(g, x, channels, kernel) {
  const K = kernel.length;
  if (K % 2 !== 1) throw new Error(`smoothing kernel needs an odd length, got ${K}`);
  const sum = kernel.reduce((a, b) => a + b, 0);
  const r = (K - 1) / 2;
  const w = new Float32Array(channels * K);
  for (let c = 0; c < channels; c++) kernel.forEach((v, j) => (w[c * K + j] = v / sum));
  const padded = g.op('Pad', [x, g.const([0, 0, r, 0, 0, r], [6], 'int64')], { mode: 'edge' });
  return g.op('Conv', [padded, g.const(w, [channels, 1, K], 'float', 'w')], { kernel_shape: [K], group: channels });
}

/** The output smoothing alone, [B, C, F] → [B, C, F] (tests compare it with a plain-JS reference). */
export function buildSmoothingModel(channels, kernel) {
  const g = new GraphBuilder();
  g.op('Identity', [smoothFrames(g, 'x', channels, kernel)], {}, 'y');
  return serialize(g, [valueInfo('x', ['B', channels, 'F'])], [valueInfo('y', ['B', channels, 'F'])], 'output smoothing');
}

/** Feature extractor alone (used by data generation so training features equal the shipped graph's). */
export function buildFeatureModel() {
  const g = new GraphBuilder();
  const out = addFeatures(g, 'audio', null);
  g.op('Identity', [out], {}, 'logmel');
  return serialize(g, [valueInfo('audio', [1, 'N'])], [valueInfo('logmel', [1, FEATURES.MELS, 'F'])], 'log-mel features');
}

/**
 * Full model. `net` = { norm: {mean, invStd}, layers: [{w [Cout·Cin·K] (ONNX order), b, cin, cout, k, dilation,
 * padLeft, padRight, residual}], out: {w [C·H], b [C]}, channelToArkit, arkitCount, smooth?, advance? } (ort-net.mjs
 * exportable). `smooth` (optional): an odd-length kernel over the 100 fps outputs, tap j at frame offset
 * j − (length − 1) / 2, normalised to sum 1, the sequence's ends repeated (see OUTPUT_SMOOTHING).
 */
export function buildLipsyncModel(net, docString) {
  const g = new GraphBuilder();
  let h = addFeatures(g, 'audio', net.norm);
  for (const L of net.layers) {
    const conv = g.op('Conv', [h, g.const(L.w, [L.cout, L.cin, L.k], 'float', 'w'), g.const(L.b, [L.cout], 'float', 'b')], {
      kernel_shape: [L.k], dilations: [L.dilation], pads: [L.padLeft, L.padRight],
    });
    const act = g.op('Relu', [conv]);
    h = L.residual ? g.op('Add', [h, act]) : act;
  }
  const { out } = net;
  const logits = g.op('Conv', [h, g.const(out.w, [out.cout, out.cin, 1], 'float', 'w'), g.const(out.b, [out.cout], 'float', 'b')], { kernel_shape: [1] });
  let y100 = g.op('Sigmoid', [logits]); // [B, C, F] at 100 fps
  if (net.smooth) y100 = smoothFrames(g, y100, out.cout, net.smooth);

  // 30 fps: frame k is centred at (k + 0.5) / 30 s = feature position (k + 0.5) · 10/3 − 0.5; T = floor(3·N / 1600).
  // `advance` (100 fps frames, default 0) reads each frame that much later: see OUTPUT_ADVANCE.
  const advance = net.advance ?? 0;
  if (!(advance >= 0 && advance <= MAX_OUTPUT_ADVANCE)) throw new Error(`output advance: 0 … ${MAX_OUTPUT_ADVANCE} frames (the 100 ms lookahead budget), got ${advance}`);
  const n = g.op('Gather', [g.op('Shape', ['audio']), g.const([1], [], 'int64')], { axis: 0 });
  const t = g.op('Div', [g.op('Mul', [n, g.const([3], [], 'int64')]), g.const([1600], [], 'int64')]);
  const k = g.op('Cast', [g.op('Range', [g.const([0], [], 'int64'), t, g.const([1], [], 'int64')])], { to: TensorProto_DataType.FLOAT });
  const pos = g.op('Add', [g.op('Mul', [k, g.const([10 / 3], [])]), g.const([(0.5 * 10) / 3 - 0.5 + advance], [])]);
  const floorPos = g.op('Floor', [pos]);
  const frac = g.op('Sub', [pos, floorPos]);
  const i0 = g.op('Cast', [floorPos], { to: TensorProto_DataType.INT64 });
  const i1 = g.op('Add', [i0, g.const([1], [], 'int64')]);
  const a = g.op('Gather', [y100, i0], { axis: 2 });
  const b = g.op('Gather', [y100, i1], { axis: 2 });
  const y30 = g.op('Add', [a, g.op('Mul', [g.op('Sub', [b, a]), frac])]); // [B, C, T]
  const yT = g.op('Transpose', [y30], { perm: [0, 2, 1] }); // [B, T, C]
  const spread = new Float32Array(out.cout * net.arkitCount);
  net.channelToArkit.forEach((targets, c) => targets.forEach((j) => (spread[c * net.arkitCount + j] = 1)));
  g.op('MatMul', [yT, g.const(spread, [out.cout, net.arkitCount])], {}, 'blendshapes');
  // A dynamic batch axis: the server sends B = 1; the bench times B > 1 (what batching several
  // sessions' windows in one call would gain). Every op above is per batch row.
  return serialize(g, [valueInfo('audio', ['B', 'N'])], [valueInfo('blendshapes', ['B', 'T', net.arkitCount])], docString);
}
