// How far do the real-speech eval targets move when the alignment's phone boundaries move by a few
// ms? A ceiling for any model scored against them: node training/explore/alignment-jitter.mjs
import { loadRealSpeech } from '../lib/real-speech.mjs';
import { buildTargets, expandPhones, nearestViseme, CHANNEL_COUNT as C } from '../lib/visemes.mjs';
import { makeRng } from '../lib/rng.mjs';
import { pearson } from '../lib/stats.mjs';
const MAIN = [0, 1, 2, 3, 4, 5, 6, 8, 9];
const clips = loadRealSpeech({ split: 'eval' });
for (const sigma of [0.01, 0.02, 0.03]) {
  const rng = makeRng(1);
  const a = Array.from({ length: C }, () => []), b = Array.from({ length: C }, () => []);
  let agree = 0, n = 0;
  for (const clip of clips) {
    const T = Math.floor((clip.samples.length * 3) / 1600);
    const ref = buildTargets(expandPhones(clip.phones), T, 30);
    // jitter every inner boundary by N(0, sigma), keeping order (and ≥ 10 ms per phone)
    const ph = clip.phones.map((p) => ({ ...p }));
    for (let i = 1; i < ph.length; i++) {
      const lo = ph[i - 1].start + 0.01, hi = ph[i].end - 0.01;
      if (hi <= lo) continue;
      const nb = Math.min(hi, Math.max(lo, ph[i].start + rng.normal() * sigma));
      ph[i - 1].end = nb; ph[i].start = nb;
    }
    const jit = buildTargets(expandPhones(ph), T, 30);
    for (let t = 0; t < T; t++) {
      for (let c = 0; c < C; c++) (a[c].push(ref.targets[t * C + c]), b[c].push(jit.targets[t * C + c]));
      if (nearestViseme(jit.targets, t * C) === ref.visemes[t]) agree++;
      n++;
    }
  }
  const r = a.map((x, c) => pearson(x, b[c]));
  console.log(`sigma ${sigma * 1000} ms: jawOpen r ${r[0].toFixed(3)}, main mean r ${(MAIN.reduce((s, c) => s + r[c], 0) / MAIN.length).toFixed(3)}, viseme acc of jittered targets ${(agree / n).toFixed(3)}`);
}
