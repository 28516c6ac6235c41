/**
 * Targets: phoneme → viseme → ARKit weights, with co-articulation smoothing and neutral silence.
 *
 * The model predicts MOUTH_CHANNELS (15 values; left/right pairs share one value) and the
 * exported graph spreads them onto the 52 ARKit names; every other channel is exactly 0.
 * The tables below are the documented contract (LIPSYNC_MODEL_CARD.md copies them).
 */
import { ARKIT_INDEX } from '../../src/contracts/contracts.mjs';

/** Model output channels; a name ending in L/R-less form maps to both `…Left` and `…Right`. */
export const MOUTH_CHANNELS = [
  'jawOpen', 'mouthClose', 'mouthFunnel', 'mouthPucker', 'mouthSmile', 'mouthStretch',
  'mouthRollLower', 'mouthRollUpper', 'mouthPress', 'mouthLowerDown', 'mouthUpperUp',
  'mouthShrugLower', 'mouthShrugUpper', 'tongueOut', 'jawForward',
];
export const CH = Object.fromEntries(MOUTH_CHANNELS.map((n, i) => [n, i]));
export const CHANNEL_COUNT = MOUTH_CHANNELS.length;

/** ARKit indices each model channel drives (1 or 2). */
export const CHANNEL_TO_ARKIT = MOUTH_CHANNELS.map((name) =>
  name in ARKIT_INDEX ? [ARKIT_INDEX[name]] : [ARKIT_INDEX[`${name}Left`], ARKIT_INDEX[`${name}Right`]],
);

/** Oculus viseme set (same order as @met4citizen/headaudio, so the baseline compares 1:1). */
export const VISEMES = ['aa', 'E', 'I', 'O', 'U', 'PP', 'SS', 'TH', 'DD', 'FF', 'kk', 'nn', 'RR', 'CH', 'sil'];
export const VISEME_INDEX = Object.fromEntries(VISEMES.map((v, i) => [v, i]));
export const SIL = VISEME_INDEX.sil;

/**
 * Viseme → mouth-channel weights (0..1). Unlisted channels are 0; `sil` is all zeros (neutral).
 * Shapes follow the usual ARKit rig conventions: jawOpen carries vowel height, pucker/funnel the
 * rounding, smile/stretch the spreading, press/close/roll the lip seal of p b m, rollLower +
 * upperUp the lower lip under the teeth for f v, tongueOut for th/dh.
 */
export const VISEME_SHAPES = {
  sil: {},
  PP: { jawOpen: 0.04, mouthClose: 0.3, mouthPress: 0.55, mouthRollLower: 0.3, mouthRollUpper: 0.2, mouthShrugUpper: 0.1 },
  FF: { jawOpen: 0.1, mouthRollLower: 0.6, mouthUpperUp: 0.3, mouthShrugUpper: 0.2, mouthClose: 0.05 },
  TH: { jawOpen: 0.2, tongueOut: 0.5, mouthLowerDown: 0.15, mouthUpperUp: 0.1 },
  DD: { jawOpen: 0.22, mouthStretch: 0.15, mouthLowerDown: 0.15, mouthSmile: 0.05 },
  kk: { jawOpen: 0.3, mouthStretch: 0.12, mouthLowerDown: 0.1 },
  CH: { jawOpen: 0.15, mouthFunnel: 0.5, mouthPucker: 0.25, mouthUpperUp: 0.2, mouthLowerDown: 0.2, jawForward: 0.1 },
  SS: { jawOpen: 0.08, mouthStretch: 0.35, mouthSmile: 0.25, mouthUpperUp: 0.15, mouthLowerDown: 0.15 },
  nn: { jawOpen: 0.18, mouthStretch: 0.08, mouthLowerDown: 0.1, mouthShrugLower: 0.1 },
  RR: { jawOpen: 0.18, mouthFunnel: 0.35, mouthPucker: 0.3, mouthUpperUp: 0.1 },
  aa: { jawOpen: 0.65, mouthLowerDown: 0.35, mouthUpperUp: 0.1, mouthStretch: 0.1 },
  E: { jawOpen: 0.4, mouthStretch: 0.35, mouthSmile: 0.25, mouthLowerDown: 0.3, mouthUpperUp: 0.15 },
  I: { jawOpen: 0.2, mouthSmile: 0.45, mouthStretch: 0.4, mouthUpperUp: 0.15, mouthLowerDown: 0.1 },
  O: { jawOpen: 0.45, mouthFunnel: 0.55, mouthPucker: 0.3, mouthLowerDown: 0.15 },
  U: { jawOpen: 0.15, mouthPucker: 0.7, mouthFunnel: 0.35, mouthShrugLower: 0.1 },
};

/** Viseme shapes as dense vectors over MOUTH_CHANNELS. */
export const VISEME_VECTORS = VISEMES.map((v) => {
  const vec = new Float32Array(CHANNEL_COUNT);
  for (const [name, w] of Object.entries(VISEME_SHAPES[v])) vec[CH[name]] = w;
  return vec;
});

/**
 * Phone inventories → parts. A part is [fraction of the phone's duration, {viseme: weight}];
 * diphthongs have two parts. 'NEXT' (h) borrows the following phone's first part at 0.7.
 */
const one = (v, w = 1) => [[1, { [v]: w }]];
const two = (a, b, wb = 0.85) => [[0.55, { [a]: 1 }], [0.45, { [b]: wb }]];
const NEXT = 'NEXT';

/** CMU / flite US phone set. */
export const FLITE_PHONES = {
  pau: one('sil'), h$: one('sil'), brth: one('sil'), sil: one('sil'),
  p: one('PP'), b: one('PP'), m: one('PP'), em: one('PP'),
  f: one('FF'), v: one('FF'),
  th: one('TH'), dh: one('TH'),
  t: one('DD'), d: one('DD'), dx: one('DD'),
  k: one('kk'), g: one('kk'), ng: one('kk'),
  n: one('nn'), l: one('nn'), el: one('nn'), en: one('nn'),
  s: one('SS'), z: one('SS'),
  sh: one('CH'), zh: one('CH'), ch: one('CH'), jh: one('CH'),
  r: one('RR'), er: one('RR'), axr: one('RR'),
  w: one('U', 0.8), y: one('I', 0.7), hh: NEXT,
  aa: one('aa'), ah: one('aa', 0.85), ax: one('aa', 0.55), ae: [[1, { aa: 0.6, E: 0.45 }]],
  ao: [[1, { O: 0.85, aa: 0.2 }]], eh: one('E'), ih: one('I', 0.8), iy: one('I'), uh: one('U', 0.7), uw: one('U'),
  ay: two('aa', 'I'), aw: two('aa', 'U'), ey: two('E', 'I'), ow: two('O', 'U'), oy: two('O', 'I'),
};

/** eSpeak IPA units (longest match first); stress and length marks are stripped before lookup. */
const IPA_UNITS = {
  aɪ: two('aa', 'I'), aʊ: two('aa', 'U'), eɪ: two('E', 'I'), oʊ: two('O', 'U'), əʊ: two('O', 'U'),
  ɔɪ: two('O', 'I'), ɪə: two('I', 'aa', 0.5), eə: two('E', 'aa', 0.5), ɛə: two('E', 'aa', 0.5), ʊə: two('U', 'aa', 0.5),
  tʃ: one('CH'), dʒ: one('CH'), ɑɹ: two('aa', 'RR', 1), ɔɹ: two('O', 'RR', 1), ɛɹ: two('E', 'RR', 1), ɪɹ: two('I', 'RR', 1), ʊɹ: two('U', 'RR', 1),
  p: one('PP'), b: one('PP'), m: one('PP'), f: one('FF'), v: one('FF'), θ: one('TH'), ð: one('TH'),
  t: one('DD'), d: one('DD'), ɾ: one('DD'), ʔ: one('DD', 0.5), k: one('kk'), ɡ: one('kk'), g: one('kk'), ŋ: one('kk'), x: one('kk'),
  n: one('nn'), l: one('nn'), ɫ: one('nn'), s: one('SS'), z: one('SS'), ʃ: one('CH'), ʒ: one('CH'),
  ɹ: one('RR'), r: one('RR'), ɚ: one('RR'), ɝ: one('RR'), ɜ: one('RR', 0.7), w: one('U', 0.8), j: one('I', 0.7), h: NEXT,
  ɑ: one('aa'), a: one('aa'), ɐ: one('aa', 0.7), ʌ: one('aa', 0.85), ə: one('aa', 0.55), æ: [[1, { aa: 0.6, E: 0.45 }]],
  ɔ: [[1, { O: 0.85, aa: 0.2 }]], ɒ: [[1, { O: 0.7, aa: 0.4 }]], o: one('O'), ɛ: one('E'), e: one('E'),
  ɪ: one('I', 0.8), ᵻ: one('I', 0.7), i: one('I'), ʊ: one('U', 0.7), u: one('U'), ʉ: one('U', 0.8), ʍ: one('U', 0.8),
};
const IPA_KEYS = Object.keys(IPA_UNITS).sort((a, b) => b.length - a.length);

/** Parse one eSpeak IPA phoneme string into parts (empty string = pause). */
export function ipaParts(ipa, unknown) {
  const s = ipa.replace(/[ˈˌːˑ̩̪̃͡‿:-]/g, '');
  if (s === '') return one('sil');
  const units = [];
  for (let i = 0; i < s.length; ) {
    const key = IPA_KEYS.find((k) => s.startsWith(k, i));
    if (key) {
      units.push(IPA_UNITS[key]);
      i += key.length;
    } else {
      unknown?.add(s[i]);
      i++;
    }
  }
  if (units.length === 0) return one('nn', 0.5);
  if (units.length === 1) return units[0];
  // Several units in one event (rare): share the duration equally.
  return units.flatMap((u) => (u === NEXT ? one('nn', 0.3) : u).map(([frac, mix]) => [frac / units.length, mix]));
}

/**
 * Phone list [{phone parts, start, end}] → sub-segments [{start, end, vec, viseme}] with `NEXT`
 * resolved and diphthongs split.
 */
export function expandPhones(phones) {
  const segs = [];
  for (let p = 0; p < phones.length; p++) {
    const { start, end } = phones[p];
    let parts = phones[p].parts;
    if (parts === NEXT) {
      const next = phones.slice(p + 1).find((q) => q.parts !== NEXT);
      const first = next && next.parts[0][1];
      const isVowelish = first && !('sil' in first);
      parts = isVowelish ? [[1, Object.fromEntries(Object.entries(first).map(([v, w]) => [v, w * 0.7]))]] : one('nn', 0.3);
    }
    let t = start;
    for (const [frac, mix] of parts) {
      const t1 = t + frac * (end - start);
      const vec = new Float32Array(CHANNEL_COUNT);
      let best = 'sil';
      let bestW = -1;
      for (const [v, w] of Object.entries(mix)) {
        const shape = VISEME_VECTORS[VISEME_INDEX[v]];
        for (let c = 0; c < CHANNEL_COUNT; c++) vec[c] += w * shape[c];
        if (w > bestW) (best = v), (bestW = w);
      }
      for (let c = 0; c < CHANNEL_COUNT; c++) vec[c] = Math.min(1, vec[c]);
      segs.push({ start: t, end: t1, vec, viseme: VISEME_INDEX[best], closure: best === 'PP', labiodental: best === 'FF' });
      t = t1;
    }
  }
  return segs;
}

/** Co-articulation parameters (seconds). */
export const COARTICULATION = {
  sigma: 0.025, // Gaussian blend between neighbouring visemes
  lead: 0.015, // mouth shapes lead the sound: the blend is centred 15 ms ahead
  finalSigma: 0.008, // light smoothing after the closure constraints
  edgeGuard: 0.01, // closure constraints skip the first/last 10 ms of a p/b/m/f/v
};

/**
 * Per-frame targets at `frameRate` for frames centred at (j + 0.5) / frameRate.
 * Returns { targets: Float32Array[frames × CHANNEL_COUNT], visemes: Uint8Array[frames] }.
 */
export function buildTargets(segs, frames, frameRate) {
  const C = CHANNEL_COUNT;
  const raw = new Float32Array(frames * C);
  const visemes = new Uint8Array(frames).fill(SIL);
  const segOf = new Int32Array(frames).fill(-1);
  let s = 0;
  for (let j = 0; j < frames; j++) {
    const t = (j + 0.5) / frameRate;
    while (s < segs.length && segs[s].end <= t) s++;
    if (s < segs.length && segs[s].start <= t) {
      raw.set(segs[s].vec, j * C);
      visemes[j] = segs[s].viseme;
      segOf[j] = s;
    }
  }
  const blurred = gaussianBlur(raw, frames, C, COARTICULATION.sigma * frameRate, COARTICULATION.lead * frameRate);
  // Dominance of lip closures: p b m seal the lips and f v tuck the lower lip whatever the neighbours.
  for (let j = 0; j < frames; j++) {
    const seg = segs[segOf[j]];
    if (!seg || !(seg.closure || seg.labiodental)) continue;
    const t = (j + 0.5) / frameRate;
    const guard = Math.min(COARTICULATION.edgeGuard, (seg.end - seg.start) / 4);
    if (t < seg.start + guard || t > seg.end - guard) continue;
    const keep = seg.closure ? [CH.mouthClose, CH.mouthPress, CH.mouthRollLower, CH.mouthRollUpper] : [CH.mouthRollLower, CH.mouthUpperUp];
    for (const c of keep) blurred[j * C + c] = Math.max(blurred[j * C + c], seg.vec[c]);
    blurred[j * C + CH.jawOpen] = Math.min(blurred[j * C + CH.jawOpen], seg.vec[CH.jawOpen] + 0.04);
    for (const c of [CH.mouthFunnel, CH.mouthLowerDown, CH.mouthStretch, CH.mouthSmile]) blurred[j * C + c] *= 0.5;
  }
  const targets = gaussianBlur(blurred, frames, C, COARTICULATION.finalSigma * frameRate, 0);
  return { targets, visemes, segOf };
}

function gaussianBlur(x, frames, C, sigmaFrames, leadFrames) {
  const radius = Math.ceil(3 * sigmaFrames + Math.abs(leadFrames));
  const kernel = [];
  for (let d = -radius; d <= radius; d++) kernel.push(Math.exp(-0.5 * ((d - leadFrames) / sigmaFrames) ** 2));
  const y = new Float32Array(frames * C);
  for (let j = 0; j < frames; j++) {
    let norm = 0;
    for (let d = -radius; d <= radius; d++) {
      const k = j + d;
      const w = kernel[d + radius];
      norm += w; // frames outside the clip count as neutral (zeros)
      if (k < 0 || k >= frames) continue;
      for (let c = 0; c < C; c++) y[j * C + c] += w * x[k * C + c];
    }
    for (let c = 0; c < C; c++) y[j * C + c] /= norm;
  }
  return y;
}

/** Nearest viseme (Euclidean over mouth channels) for one frame of channel weights. */
export function nearestViseme(frame, offset = 0) {
  let best = SIL;
  let bestD = Infinity;
  for (let v = 0; v < VISEMES.length; v++) {
    const shape = VISEME_VECTORS[v];
    let d = 0;
    for (let c = 0; c < CHANNEL_COUNT; c++) d += (frame[offset + c] - shape[c]) ** 2;
    if (d < bestD) (bestD = d), (best = v);
  }
  return best;
}

/** Coarse mouth-shape classes used for a second, less label-sensitive accuracy. */
export const VISEME_CLASS = {
  sil: 'rest', PP: 'closed', FF: 'labiodental', TH: 'neutral', DD: 'neutral', kk: 'neutral', nn: 'neutral', SS: 'spread',
  CH: 'rounded', RR: 'rounded', aa: 'open', E: 'spread', I: 'spread', O: 'rounded', U: 'rounded',
};
