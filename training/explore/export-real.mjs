// The real-speech evaluation set (eval.mjs --real) as log-mel features and eval.mjs's 30 fps labels
// (targets, viseme per frame, pause frames, p/b/m spans), for explore.py: node training/explore/export-real.mjs
import fs from 'node:fs';
import { loadRealSpeech } from '../lib/real-speech.mjs';
import { FeatureExtractor } from '../lib/features.mjs';
import { buildFeatureModel } from '../lib/onnx-graph.mjs';
import { buildTargets, expandPhones, CHANNEL_COUNT as C, CH, SIL, VISEME_VECTORS } from '../lib/visemes.mjs';
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
  const pause = [];
  for (const s of segs) {
    if (s.viseme !== SIL || s.end - s.start <= 0.2) continue;
    for (let t = Math.ceil((s.start + 0.06) * FPS - 0.5); (t + 0.5) / FPS <= s.end - 0.06 && t < T; t++) if (t >= 0) pause.push(t);
  }
  const closure = (arr, t) => arr[t * C + CH.mouthClose] + arr[t * C + CH.mouthPress];
  const bil = [];
  segs.forEach((s, si) => {
    if (!s.closure) return;
    let first = -1, last = -1;
    for (let t = 0; t < T; t++) if (segOf[t] === si) (first = first < 0 ? t : first), (last = t);
    if (first < 0) first = last = Math.min(T - 1, Math.round(((s.start + s.end) / 2) * FPS - 0.5));
    const lo = Math.max(0, first - 3), hi = Math.min(T - 1, last + 3);
    let tPeak = lo;
    for (let t = lo; t <= hi; t++) if (closure(targets, t) > closure(targets, tPeak)) tPeak = t;
    bil.push([first, last, lo, hi, closure(targets, tPeak)]);
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
