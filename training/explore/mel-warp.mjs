#!/usr/bin/env node
/**
 * (CPU, dev only) How the model scores when its log-mel input is warped along the mel axis at
 * inference — the vocal-tract-length warp `train.mjs` uses as augmentation (lib/features.mjs
 * `melWarp`), applied here to every frame of every clip: a probe of which voices the network
 * serves well and which it would serve better if they sounded like another voice. Nothing here
 * changes the shipped model or runs in CI.
 *
 * The exported graph is edited in memory: the log-mel (the graph's one `Log` node) goes through a
 * fixed [mels × mels] linear interpolation (MatMul) before the fixed normalisation. A spec such as
 * `1+0.9+0.8` runs the network on several warped copies at once (the batch axis) and averages the
 * outputs (test-time augmentation, at that many times the network's cost).
 *
 * Scored like `eval.mjs` (the same functions): the synthetic held-out and seen voices (data/), the
 * real-speech evaluation speakers, and every `--train-every`-th clip of the real recordings the
 * model trains on (the games' actors: "seen" real speakers). Per voice it also prints an
 * unsupervised criterion that needs no targets — the outputs' liveliness (mean over the 15 mouth
 * channels of each clip's standard deviation) — and what choosing each voice's warp by it would
 * score: could a server pick a voice's warp from the audio alone?
 *
 *   node training/explore/mel-warp.mjs [--model pretrained_models/lipsync-small.onnx] [--warps 1,0.95,0.9,0.85,0.8] [--train-every 3] [--margins 0,0.02,0.04]
 */
import path from 'node:path';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import ort from 'onnxruntime-node';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { AttributeProtoSchema, AttributeProto_AttributeType, ModelProtoSchema, NodeProtoSchema, TensorProtoSchema, TensorProto_DataType } from 'onnx-buf';
import { WORKER_SESSION_OPTIONS } from '../../src/contracts/contracts.mjs';
import { FEATURES, melWarp } from '../lib/features.mjs';
import { CHANNEL_COUNT } from '../lib/visemes.mjs';
import { loadRealSpeech } from '../lib/real-speech.mjs';
import { loadEvalSet, newAccumulator, runModel, scoreClip, summarise } from '../eval.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The interpolation matrix of `melWarp(alpha)`: row m mixes source bands i0 and i0 + 1. */
export function warpMatrix(alpha, M = FEATURES.MELS) {
  const w = melWarp(alpha);
  const W = new Float32Array(M * M);
  for (let m = 0; m < M; m++) {
    W[m * M + w.i0[m]] += 1 - w.frac[m];
    W[m * M + w.i0[m] + 1] += w.frac[m];
  }
  return W;
}

/** The model's bytes with its log-mel warped by each of `alphas` (averaged over them when several). */
export function warpedModel(bytes, alphas) {
  const model = fromBinary(ModelProtoSchema, bytes);
  const g = model.graph;
  const logs = g.node.filter((n) => n.opType === 'Log');
  if (logs.length !== 1) throw new Error(`expected one Log node (the log-mel), found ${logs.length}`);
  const logmel = logs[0].output[0];
  const consumers = g.node.filter((n) => n.input.includes(logmel));
  const M = FEATURES.MELS;
  const added = [];
  const views = alphas.map((alpha, k) => {
    if (alpha === 1) return logmel;
    g.initializer.push(create(TensorProtoSchema, { name: `warp_w${k}`, dims: [BigInt(M), BigInt(M)], dataType: TensorProto_DataType.FLOAT, rawData: new Uint8Array(warpMatrix(alpha).buffer) }));
    added.push(create(NodeProtoSchema, { opType: 'MatMul', input: [`warp_w${k}`, logmel], output: [`warp_x${k}`], name: `warp_mm${k}` }));
    return `warp_x${k}`;
  });
  let fed = views[0];
  if (views.length > 1) {
    added.push(create(NodeProtoSchema, { opType: 'Concat', input: views, output: ['warp_views'], name: 'warp_concat', attribute: [intAttr('axis', 0)] }));
    fed = 'warp_views';
  }
  for (const n of consumers) n.input = n.input.map((i) => (i === logmel ? fed : i));
  const at = g.node.indexOf(logs[0]) + 1;
  g.node.splice(at, 0, ...added);
  if (views.length > 1) {
    const out = g.output[0].name;
    const last = g.node.find((n) => n.output[0] === out);
    last.output[0] = 'warp_all';
    g.node.push(create(NodeProtoSchema, { opType: 'ReduceMean', input: ['warp_all'], output: [out], name: 'warp_mean', attribute: [intsAttr('axes', [0]), intAttr('keepdims', 1)] }));
  }
  return toBinary(ModelProtoSchema, model);
}

const intAttr = (name, i) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INT, i: BigInt(i) });
const intsAttr = (name, v) => create(AttributeProtoSchema, { name, type: AttributeProto_AttributeType.INTS, ints: v.map(BigInt) });

/** `from` added into `into` (eval.mjs accumulators: counts add, per-frame lists — per channel or not — concatenate). */
function merge(into, from) {
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === 'number') into[k] += v;
    else if (Array.isArray(into[k][0])) v.forEach((list, i) => { for (const x of list) into[k][i].push(x); });
    else for (const x of v) into[k].push(x);
  }
  return into;
}

/** The index of the liveliest spec, or 0 unless it beats spec 0's liveliness by more than `margin` (relative). */
function pickByLiveliness(live, margin) {
  const best = live.indexOf(Math.max(...live));
  return live[best] > live[0] * (1 + margin) ? best : 0;
}

/** Mean over the mouth channels of the outputs' standard deviation over the clip. */
function liveliness(mouth, frames) {
  let sum = 0;
  for (let c = 0; c < CHANNEL_COUNT; c++) {
    let s1 = 0, s2 = 0;
    for (let t = 0; t < frames; t++) {
      const x = mouth[t * CHANNEL_COUNT + c];
      s1 += x;
      s2 += x * x;
    }
    sum += Math.sqrt(Math.max(0, s2 / frames - (s1 / frames) ** 2));
  }
  return sum / CHANNEL_COUNT;
}

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string', default: path.join(HERE, '..', '..', 'pretrained_models', 'lipsync-small.onnx') },
      data: { type: 'string', default: path.join(HERE, '..', 'data') },
      warps: { type: 'string', default: '1,0.95,0.9,0.85,0.8' },
      'train-every': { type: 'string', default: '3' },
      margins: { type: 'string', default: '0,0.02,0.04' },
    },
  });
  const specs = values.warps.split(',');
  const every = Number(values['train-every']);
  const sets = { synthetic: [], 'real eval': [], 'real train': [] };
  for (const c of loadEvalSet(path.resolve(values.data))) if (c.group === 'heldout-voice' || c.group === 'seen-voice') sets.synthetic.push(c);
  sets['real eval'] = loadRealSpeech({ split: 'eval' });
  sets['real train'] = loadRealSpeech({ split: 'train' }).filter((_, i) => i % every === 0);
  if (!sets['real eval'].length) console.error('no real speech: see `node training/real-speech.mjs` for what to install');
  const bytes = fs.readFileSync(values.model);
  const pooled = {}; // set → spec → accumulator
  const voices = {}; // set|voice → spec → { acc, live, n }
  const perClip = {}; // set|clip index → spec → { acc, live }
  for (const spec of specs) {
    const session = await ort.InferenceSession.create(warpedModel(bytes, spec.split('+').map(Number)), WORKER_SESSION_OPTIONS);
    for (const [set, clips] of Object.entries(sets)) {
      const p = ((pooled[set] ??= {})[spec] ??= newAccumulator());
      for (const [i, clip] of clips.entries()) {
        // Scored once; the voice's and the set's figures pool the clips' accumulators.
        const m = await runModel(session, clip.samples);
        const acc = newAccumulator();
        scoreClip(acc, clip, m, null);
        const live = liveliness(m.mouth, m.frames);
        ((perClip[`${set}|${i}`] ??= {})[spec] = { acc, live });
        const v = ((voices[`${set}|${clip.voice}`] ??= {})[spec] ??= { acc: newAccumulator(), live: 0, n: 0 });
        merge(v.acc, acc);
        merge(p, acc);
        v.live += live;
        v.n++;
      }
    }
    await session.release?.();
  }
  const f = (x) => x.toFixed(3);
  console.log(`model ${path.basename(values.model)}; warps ${specs.join(', ')} (a spec a+b averages the outputs of both)\n`);
  console.log(`| set | clips | ${specs.map((s) => `main r / jawOpen r / viseme acc / closures @ ${s}`).join(' | ')} |`);
  console.log(`|---|---|${specs.map(() => '---').join('|')}|`);
  for (const [set, bySpec] of Object.entries(pooled)) {
    const cells = specs.map((s) => { const r = summarise(bySpec[s]); return `${f(r.mainMeanR)} / ${f(r.r.jawOpen)} / ${f(r.visemeAcc)} / ${f(r.bilabialHitRate)}`; });
    console.log(`| ${set} | ${bySpec[specs[0]].clips} | ${cells.join(' | ')} |`);
  }
  // Each voice at the warp its own outputs' liveliness picks, pooled per set: the first spec (the
  // unwarped model) unless another's liveliness is higher by more than the margin.
  for (const margin of values.margins.split(',').map(Number)) {
    const picked = {};
    for (const [key, bySpec] of Object.entries(voices)) {
      merge((picked[key.split('|')[0]] ??= newAccumulator()), bySpec[specs[pickByLiveliness(specs.map((s) => bySpec[s].live / bySpec[s].n), margin)]].acc);
    }
    const pickedClip = {};
    for (const [key, bySpec] of Object.entries(perClip)) {
      merge((pickedClip[key.split('|')[0]] ??= newAccumulator()), bySpec[specs[pickByLiveliness(specs.map((s) => bySpec[s].live), margin)]].acc);
    }
    console.log(`\nEach voice at the warp its liveliness picks (margin ${margin}; no targets used): ${Object.entries(picked).map(([set, a]) => `${set} main r ${f(summarise(a).mainMeanR)}`).join('; ')}`);
    console.log(`Each clip alone at the warp its liveliness picks (margin ${margin}): ${Object.entries(pickedClip).map(([set, a]) => `${set} main r ${f(summarise(a).mainMeanR)}`).join('; ')}`);
  }
  console.log(`\nPer voice: main mean r (liveliness ×100); * = the warp the liveliness criterion picks\n`);
  console.log(`| set | voice | clips | ${specs.join(' | ')} |`);
  console.log(`|---|---|---|${specs.map(() => '---').join('|')}|`);
  for (const [key, bySpec] of Object.entries(voices).sort(([a], [b]) => a.localeCompare(b))) {
    const [set, voice] = key.split('|');
    const live = specs.map((s) => bySpec[s].live / bySpec[s].n);
    const pick = pickByLiveliness(live, 0);
    const cells = specs.map((s, i) => `${f(summarise(bySpec[s].acc).mainMeanR)} (${(live[i] * 100).toFixed(2)})${i === pick ? ' *' : ''}`);
    console.log(`| ${set} | ${voice} | ${bySpec[specs[0]].n} | ${cells.join(' | ')} |`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
