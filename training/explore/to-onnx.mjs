// Weights from explore.py (flat float32 .npy, ONNX layout) → the exported model, scored by eval.mjs:
//   node training/explore/to-onnx.mjs w-NAME.npy out.onnx [hidden] [stack] [smoothing kernel, e.g. 1,2,3,2,0]
import fs from 'node:fs';
import { makeArchitecture } from '../lib/net.mjs';
import { exportable } from '../lib/ort-net.mjs';
import { buildLipsyncModel } from '../lib/onnx-graph.mjs';
import { CHANNEL_COUNT, CHANNEL_TO_ARKIT } from '../lib/visemes.mjs';
const [file, out, hidden = '256', stack = '2:2,2:2,4:0,8:0', smooth] = process.argv.slice(2);
const buf = fs.readFileSync(file);
const hlen = buf.readUInt16LE(8);
const header = buf.subarray(10, 10 + hlen).toString();
if (!header.includes("'<f4'")) throw new Error(header);
const raw = buf.subarray(10 + hlen);
const params = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.length));
const arch = makeArchitecture({ mels: 40, hidden: Number(hidden), channels: CHANNEL_COUNT, stack });
if (arch.paramCount !== params.length) throw new Error(`params ${params.length} vs ${arch.paramCount}`);
const n = JSON.parse(fs.readFileSync(new URL('./carry/norm.json', import.meta.url)));
const norm = { mean: Float32Array.from(n.mean), invStd: Float32Array.from(n.invStd) };
fs.writeFileSync(out, buildLipsyncModel({ ...exportable(arch, params, norm, CHANNEL_TO_ARKIT, 52), smooth: smooth?.split(',').map(Number) }, 'exploration'));
console.log('wrote', out);
