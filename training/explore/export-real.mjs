// The real-speech evaluation set (eval.mjs --real) as log-mel features and eval.mjs's 30 fps labels
// (targets, viseme per frame, pause frames, p/b/m spans), for explore.py: node training/explore/export-real.mjs
import fs from 'node:fs';
import { loadRealSpeech } from '../lib/real-speech.mjs';
import { FeatureExtractor } from '../lib/features.mjs';
import { buildFeatureModel } from '../lib/onnx-graph.mjs';
import { buildTargets, expandPhones, SIL, VISEME_VECTORS } from '../lib/visemes.mjs';
import { bilabialSpans, closure, pauseFrames } from '../eval.mjs';
const FPS = 30;
const OUT = new URL('./real', import.meta.url).pathname;
fs.mkdirSync(OUT, { recursive: true });
const split = process.argv[2] ?? 'eval';
const clips = loadRealSpeech({ split });
const fx = await FeatureExtractor.create(buildFeatureModel());
const feats = [], tgts = [], vis = [], meta = [];
let fOff = 0, tOff = 0;
for (const clip of clips) {
  const { frames, data } = await fx.compute(clip.samples);
  const T = Math.floor((clip.samples.length * 3) / 1600);
  const segs = expandPhones(clip.phones);
  const { targets, visemes, segOf } = buildTargets(segs, T, FPS);
  const pause = pauseFrames(segs, T);
  const bil = bilabialSpans(segs, segOf, T).map(({ first, last, lo, hi }) => {
    let tPeak = lo;
    for (let t = lo; t <= hi; t++) if (closure(targets, t) > closure(targets, tPeak)) tPeak = t;
    return [first, last, lo, hi, closure(targets, tPeak)];
  });
  feats.push(data); tgts.push(targets); vis.push(Uint8Array.from(visemes));
  meta.push({ voice: clip.voice, frames, fOff, T, tOff, pause, bil });
  fOff += frames; tOff += T;
}
const cat = (arrs, Ctor) => { const n = arrs.reduce((s, a) => s + a.length, 0); const o = new Ctor(n); let k = 0; for (const a of arrs) (o.set(a, k), (k += a.length)); return o; };
fs.writeFileSync(`${OUT}/real-${split}.feat.f32`, Buffer.from(cat(feats, Float32Array).buffer));
fs.writeFileSync(`${OUT}/real-${split}.tgt30.f32`, Buffer.from(cat(tgts, Float32Array).buffer));
fs.writeFileSync(`${OUT}/real-${split}.vis30.u8`, Buffer.from(cat(vis, Uint8Array).buffer));
fs.writeFileSync(`${OUT}/real-${split}.json`, JSON.stringify({ clips: meta, visemeVectors: VISEME_VECTORS.map((v) => [...v]), sil: SIL }));
console.log(split, clips.length, 'clips', fOff, 'feature frames', tOff, '30fps frames');
