#!/usr/bin/env node
/**
 * Give a lip-sync model exported by an earlier version of our exporter (training/lib/onnx-graph.mjs,
 * input `audio` [1, N]) the dynamic batch axis the exporter now writes: the front end's Reshape
 * target [1, 1, -1] becomes [0, 1, -1] (copy the batch dimension) and the input / output shapes
 * [1, N] / [1, T, 52] become [B, N] / [B, T, 52]. Nothing else changes, and the result is checked:
 * at B = 1 it must give bit-identical output to the original, and each row of a B = 3 run must be
 * bit-identical to that row run alone. Refuses any other graph.
 *
 *   node training/batch-axis.mjs <model.onnx> [--out <file>]   (default: rewrite in place)
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { fromBinary, toBinary } from '@bufbuild/protobuf';
import { ModelProtoSchema } from 'onnx-buf';
import ort from 'onnxruntime-node';
import { batchRowMismatch } from './lib/batch-check.mjs';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { out: { type: 'string' } } });
const input = positionals[0];
if (!input) {
  console.error('usage: node training/batch-axis.mjs <model.onnx> [--out <file>]');
  process.exit(2);
}
const out = values.out ?? input;
const original = fs.readFileSync(input);
const model = fromBinary(ModelProtoSchema, original);
const g = model.graph;
if (model.producerName !== 'avatar-stream-server/training') throw new Error(`${input}: not exported by training/lib/onnx-graph.mjs (producer "${model.producerName}")`);

const int64s = (t) => {
  const dv = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.byteLength);
  return Array.from({ length: t.rawData.byteLength / 8 }, (_, i) => dv.getBigInt64(i * 8, true));
};
const reshapes = g.node.filter((n) => n.opType === 'Reshape' && n.input[0] === g.input[0]?.name);
if (reshapes.length !== 1) throw new Error('expected one Reshape of the audio input');
const target = g.initializer.find((t) => t.name === reshapes[0].input[1]);
if (!target || target.rawData.byteLength !== 24) throw new Error('Reshape target is not a 3-element int64 initializer');
const before = int64s(target).join(',');
if (before === '0,1,-1') {
  console.log(`${input}: already has a batch axis`);
} else {
  if (before !== '1,1,-1') throw new Error(`unexpected Reshape target [${before}]`);
  const raw = new Uint8Array(24);
  const dv = new DataView(raw.buffer);
  [0n, 1n, -1n].forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  target.rawData = raw;
}
for (const vi of [g.input[0], g.output[0]]) {
  const dim0 = vi.type.value.value.shape.dim[0];
  const d = dim0.value;
  if (!(d.case === 'dimValue' && d.value === 1n) && !(d.case === 'dimParam' && d.value === 'B')) throw new Error(`${vi.name}: first dimension is not 1`);
  dim0.value = { case: 'dimParam', value: 'B' };
}
const rewritten = toBinary(ModelProtoSchema, model);

// The check: same numbers, bit for bit.
const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' };
const a = await ort.InferenceSession.create(original, opts);
const b = await ort.InferenceSession.create(rewritten, opts);
let last;
for (const n of [533, 8000, 14400]) {
  const x = new Float32Array(n).map((_, i) => 0.3 * Math.sin(i * (0.02 + n * 1e-6)) * Math.sin(i * 0.002));
  const ya = (await a.run({ [a.inputNames[0]]: new ort.Tensor('float32', x, [1, n]) }))[a.outputNames[0]];
  const yb = (await b.run({ [b.inputNames[0]]: new ort.Tensor('float32', x, [1, n]) }))[b.outputNames[0]];
  if (ya.data.length !== yb.data.length || ya.data.some((v, i) => !Object.is(v, yb.data[i]))) throw new Error(`N=${n}: output differs at B = 1`);
  last = x;
}
const { mismatch, dims } = await batchRowMismatch(b, [last, last.map((v) => v * 0.5), last.map((v, i) => (i % 7 === 0 ? -v : v))]);
if (mismatch >= 0) throw new Error(`row ${mismatch} of a B = 3 run differs from its own run (dims [${dims}])`);
fs.writeFileSync(out, rewritten);
console.log(`${out}: input [B, N], output [B, T, ${dims[2]}]; B = 1 identical to the original, B = 3 rows identical to single runs`);
