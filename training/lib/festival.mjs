/**
 * Festival (Debian's `festival` + `festvox-*` voice packages; training-time only, never shipped, never
 * fetched at run time) as a source of natural female training voices. Our other synthetic voices
 * hold one natural female voice (flite slt); the real-speech evaluation is mostly one (Allison), and
 * the model served unseen natural female voices worst (model card, "Where the gap is").
 *
 * Four of these voices speak other languages. Text in their own language keeps their diphone
 * inventories whole (English text through an Italian diphone set asks for diphones it does not
 * have, and UniSyn puts silence there), so they read seeded pseudo-words built from their
 * languages' own spelling (`pseudoSentence`): what matters for the mouth is the sound of the voice
 * and the timing of each phone, which festival reports for every segment it synthesised.
 * Each voice's phone set maps to our visemes by place and manner of articulation (tables below).
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { parseWav } from './audio.mjs';
import { FLITE_PHONES } from './visemes.mjs';

const one = (v, w = 1) => [[1, { [v]: w }]];
const SIL = one('sil');
const NEXT = FLITE_PHONES.hh; // h: the next phone's shape, weaker
const OPEN_O = [[1, { O: 0.85, aa: 0.2 }]];

/** Sounds shared by the European phone sets below (their own names mapped onto these). */
const EURO = {
  a: one('aa'), e: one('E'), E: one('E'), i: one('I'), o: one('O'), O: OPEN_O, u: one('U'), schwa: one('aa', 0.55),
  p: one('PP'), b: one('PP'), m: one('PP'), f: one('FF'), v: one('FF'), labiodentalNasal: one('FF'),
  t: one('DD'), d: one('DD'), k: one('kk'), g: one('kk'), velarNasal: one('kk'), x: one('kk'),
  s: one('SS'), z: one('SS'), ts: one('SS'), dz: one('SS'), sh: one('CH'), zh: one('CH'), ch: one('CH'), jh: one('CH'),
  n: one('nn'), palatalNasal: one('nn'), l: one('nn'), palatalL: one('nn'),
  // Trilled and tapped r (Italian, Catalan, Czech, Finnish): the tongue tip, not English r's rounded lips.
  r: one('DD'), j: one('I', 0.7), w: one('U', 0.8), th: one('TH'), h: NEXT, sil: SIL,
};

/** Festival phone name (stress digits and length marks stripped, see `phoneParts`) → parts, per phone set. */
export const FESTIVAL_PHONE_SETS = {
  // Italian (festvox-italp16k): stressed vowels carry a 1; J = ɲ, L = ʎ, ng = ŋ, nf = ɱ.
  italian: {
    i: EURO.i, e: EURO.e, E: EURO.E, a: EURO.a, o: EURO.o, O: EURO.O, u: EURO.u, j: EURO.j, w: EURO.w,
    p: EURO.p, t: EURO.t, k: EURO.k, b: EURO.b, d: EURO.d, g: EURO.g, f: EURO.f, s: EURO.s, S: EURO.sh, v: EURO.v,
    z: EURO.z, Z: EURO.zh, ts: EURO.ts, tS: EURO.ch, dz: EURO.dz, dZ: EURO.jh, m: EURO.m, n: EURO.n, J: EURO.palatalNasal,
    ng: EURO.velarNasal, nf: EURO.labiodentalNasal, l: EURO.l, L: EURO.palatalL, r: EURO.r, '#': SIL,
  },
  // Czech (festvox-czech-dita): ~ marks the háček consonants (c~ = č, s~ = š, z~ = ž, r~ = ř, d~/t~/n~ palatal), c = ts, ch = x, n* = ŋ.
  czech: {
    a: EURO.a, e: EURO.e, i: EURO.i, o: EURO.o, u: EURO.u, b: EURO.b, c: EURO.ts, 'c~': EURO.ch, ch: EURO.x, d: EURO.d,
    'd~': EURO.d, dz: EURO.dz, 'dz~': EURO.jh, f: EURO.f, g: EURO.g, h: EURO.h, j: EURO.j, k: EURO.k, l: EURO.l, m: EURO.m,
    n: EURO.n, 'n*': EURO.velarNasal, 'n~': EURO.palatalNasal, p: EURO.p, r: EURO.r, 'r~': EURO.r, 'r~*': EURO.r,
    s: EURO.s, 's~': EURO.sh, t: EURO.t, 't~': EURO.t, v: EURO.v, z: EURO.z, 'z~': EURO.zh, '#': SIL, _: SIL,
  },
  // Catalan (festvox-ca-ona-hts): ax = schwa, J = ɲ, L = ʎ, rr = trill, S/Z = ʃ/ʒ.
  catalan: {
    ax: EURO.schwa, a: EURO.a, e: EURO.e, E: EURO.E, i: EURO.i, o: EURO.o, O: EURO.O, u: EURO.u, j: EURO.j, w: EURO.w,
    b: EURO.b, d: EURO.d, f: EURO.f, g: EURO.g, k: EURO.k, p: EURO.p, t: EURO.t, m: EURO.m, n: EURO.n, J: EURO.palatalNasal,
    l: EURO.l, L: EURO.palatalL, r: EURO.r, rr: EURO.r, s: EURO.s, z: EURO.z, S: EURO.sh, Z: EURO.zh, pau: SIL, _: SIL, '#': SIL,
  },
  // Finnish (festvox-suopuhe-lj): y = y (rounded front), @ = ä, 7 = ö, & = schwa-like; N = ŋ, T/D = θ/ð.
  finnish: {
    a: EURO.a, e: EURO.e, i: EURO.i, o: EURO.o, u: EURO.u, y: [[1, { U: 0.75, I: 0.35 }]], '@': [[1, { aa: 0.6, E: 0.45 }]],
    7: [[1, { O: 0.65, E: 0.4 }]], '&': EURO.schwa, p: EURO.p, t: EURO.t, k: EURO.k, b: EURO.b, d: EURO.d, g: EURO.g,
    f: EURO.f, T: EURO.th, D: EURO.th, s: EURO.s, z: EURO.z, S: EURO.sh, Z: EURO.zh, h: EURO.h, v: EURO.v, m: EURO.m,
    n: EURO.n, N: EURO.velarNasal, l: EURO.l, L: EURO.palatalL, r: EURO.r, j: EURO.j, w: EURO.w, '##': SIL, '#': SIL,
  },
  // US English (festvox-us-slt-hts, the CMU/radio set): flite's table plus hv (voiced h) and nx (flap n).
  english: { ...FLITE_PHONES, hv: FLITE_PHONES.hh, nx: one('nn'), 'h#': SIL },
};

/** The festival voices used for training: each a female speaker. */
export const FESTIVAL_VOICES = [
  { engine: 'festival', voice: 'cmu_us_slt_arctic_hts', lang: 'en', phoneSet: 'english', pkg: 'festvox-us-slt-hts', hts: true },
  { engine: 'festival', voice: 'lp_diphone', lang: 'it', phoneSet: 'italian', pkg: 'festvox-italp16k' },
  { engine: 'festival', voice: 'upc_ca_ona_hts', lang: 'ca', phoneSet: 'catalan', pkg: 'festvox-ca-ona-hts', hts: true },
  { engine: 'festival', voice: 'czech_dita', lang: 'cs', phoneSet: 'czech', pkg: 'festvox-czech-dita' },
  { engine: 'festival', voice: 'suo_fi_lj_diphone', lang: 'fi', phoneSet: 'finnish', pkg: 'festvox-suopuhe-lj' },
];

/** A festival phone name → parts in `phoneSet` (stress digits and length marks dropped first). */
export function phoneParts(phoneSet, name) {
  const table = FESTIVAL_PHONE_SETS[phoneSet];
  const parts = table[name] ?? table[name.replace(/1$/, '').replace(/:$/, '')];
  if (!parts) throw new Error(`festival: unknown ${phoneSet} phone "${name}"`);
  return parts;
}

/**
 * `utt.save.segs` output ("#" header, then "end 100 name" lines) → [{name, start, end}]; segments of
 * zero length are dropped.
 */
export function parseSegs(text) {
  const out = [];
  let prev = 0;
  let body = false;
  for (const line of text.split('\n')) {
    if (!body) {
      body = line.trim() === '#';
      continue;
    }
    const m = /^\s*([0-9.]+)\s+\S+\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const end = Number(m[1]);
    if (end > prev) out.push({ name: m[2], start: prev, end });
    prev = Math.max(prev, end);
  }
  return out;
}

let installed;
/** Whether `festival` and each voice are installed (checked once per process). */
export function festivalVoicesInstalled() {
  if (installed) return installed;
  const probe = spawnSync('festival', ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return (installed = []);
  const root = '/usr/share/festival/voices';
  const present = new Set();
  try {
    for (const lang of fs.readdirSync(root)) for (const v of fs.readdirSync(path.join(root, lang))) present.add(v);
  } catch {
    return (installed = []);
  }
  return (installed = FESTIVAL_VOICES.filter((v) => present.has(v.voice)));
}

/** Scheme string literal. */
const schemeString = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/**
 * One long-lived `festival --pipe` per voice and process: starting festival costs ~0.9 s, an
 * utterance ~0.1 s. Commands go in on stdin; each request ends by writing a numbered marker on
 * stderr (unbuffered, unlike festival's stdout into a pipe), so its warnings are counted per utterance. Requests are served
 * one at a time, in order. A voice may carry state from one utterance to the next (czech_dita's
 * output depends on the ones before it), so the data is deterministic because each data shard asks
 * each voice for the same utterances in the same order in a fresh process.
 */
class FestivalProcess {
  constructor(voice) {
    this.child = spawn('festival', ['--pipe'], { stdio: ['pipe', 'ignore', 'pipe'] });
    this.err = '';
    this.seq = 0;
    this.waiting = null;
    this.exited = null;
    this.child.stderr.setEncoding('utf8').on('data', (d) => ((this.err += d), this.check()));
    this.child.on('exit', (code, signal) => {
      this.exited = `festival (${voice}) exited ${code ?? signal}: ${this.err.slice(-300)}`;
      this.waiting?.reject(new Error(this.exited));
      this.waiting = null;
    });
    this.child.stdin.on('error', () => {}); // a dead child is reported by 'exit'
    this.request(`(voice_${voice})`); // the first request: every later one queues behind it
  }

  /** Keep the parent's event loop alive only while a request is out (an idle festival never holds it open). */
  hold(on) {
    for (const h of [this.child, this.child.stdin, this.child.stderr]) on ? h.ref?.() : h.unref?.();
  }

  check() {
    const w = this.waiting;
    if (!w) return;
    const e = this.err.indexOf(w.errMark);
    if (e < 0) return;
    const stderr = this.err.slice(0, e);
    this.err = this.err.slice(e + w.errMark.length);
    this.waiting = null;
    this.hold(false);
    w.resolve(stderr);
  }

  /** Run scheme `commands`; resolves with what they wrote on stderr. */
  request(commands) {
    const run = () => new Promise((resolve, reject) => {
      if (this.exited) return reject(new Error(this.exited));
      const n = ++this.seq;
      this.hold(true);
      this.waiting = { resolve, reject, errMark: `DONE-${n}\n` };
      this.child.stdin.write(`${commands}\n(format stderr "DONE-${n}\\n")\n`);
    });
    this.queue = (this.queue ?? Promise.resolve()).then(run, run);
    return this.queue;
  }

  close() {
    this.child.stdin.end();
  }
}

/** One utterance failed (the voice's rules, or its process died); another text may well work. */
export class FestivalUtteranceError extends Error {
  name = 'FestivalUtteranceError';
}

const processes = new Map();
/** Stop every festival process this module started (they also end with their parent). */
export function closeFestival() {
  for (const p of processes.values()) p.close();
  processes.clear();
}

/**
 * Synthesize `text` with a festival voice at `stretch` × its durations. Returns
 * { sampleRate, samples, phones: [{name, parts, start, end}], missingDiphones }: `missingDiphones`
 * counts UniSyn's "using default diphone" substitutions (silence where a sound should be: callers
 * drop such utterances).
 */
export async function synthFestival({ voice, text, stretch = 1, tmpDir }) {
  const spec = FESTIVAL_VOICES.find((v) => v.voice === voice);
  if (!spec) throw new Error(`festival: unknown voice ${voice}`);
  fs.mkdirSync(tmpDir, { recursive: true });
  const base = path.join(tmpDir, `festival-${process.pid}-${voice}`);
  let proc = processes.get(voice);
  if (!proc) {
    proc = new FestivalProcess(voice);
    processes.set(voice, proc);
  }
  for (const ext of ['.wav', '.segs']) fs.rmSync(base + ext, { force: true }); // a failed request must not leave the last one's files
  const stderr = await proc.request([
    // HTS voices ignore Duration_Stretch; their engine takes a speed rate (-r, the inverse).
    spec.hts
      ? `(set! hts_engine_params (append ${spec.voice}::hts_engine_params (list (list "-r" ${(1 / stretch).toFixed(4)}))))`
      : `(Parameter.set 'Duration_Stretch ${stretch.toFixed(3)})`,
    `(set! utt (eval (list 'Utterance 'Text ${schemeString(text)})))`,
    '(utt.synth utt)',
    `(utt.save.wave utt ${schemeString(`${base}.wav`)} 'riff)`,
    `(utt.save.segs utt ${schemeString(`${base}.segs`)})`,
  ].join('\n')).catch((err) => {
    processes.delete(voice); // the process died (the Italian voice segfaults now and then): the next call starts another
    throw new FestivalUtteranceError(`${err.message} (text ${JSON.stringify(text)})`);
  });
  if (/SIOD ERROR/.test(stderr) || !fs.existsSync(`${base}.wav`) || !fs.existsSync(`${base}.segs`)) {
    // Some texts make a voice's own prosody rules fail (lp_diphone: ~2 % of pseudo-sentences).
    // After an error its state is not to be trusted (later calls segfaulted): start afresh.
    proc.close();
    processes.delete(voice);
    throw new FestivalUtteranceError(`festival (${voice}) failed on ${JSON.stringify(text)}: ${stderr.trim().slice(-200)}`);
  }
  const { sampleRate, samples } = parseWav(fs.readFileSync(`${base}.wav`));
  const phones = parseSegs(fs.readFileSync(`${base}.segs`, 'utf8')).map((p) => ({ ...p, parts: phoneParts(spec.phoneSet, p.name) }));
  const missingDiphones = (stderr.match(/using default diphone/g) ?? []).length;
  return { sampleRate, samples, phones, missingDiphones };
}

/**
 * Pseudo-words in a language's own spelling (seeded): onsets, vowels and codas that its
 * letter-to-sound rules read as they are written. Each entry: [onsets, vowels, codas, doubled
 * consonants between vowels].
 */
const SPELLING = {
  it: [
    ['', '', 'b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'ch', 'gh', 'gn', 'sc', 'br', 'pr', 'tr', 'dr', 'gr', 'cr', 'fr', 'pl', 'bl', 'st', 'sp', 'ci', 'gi', 'qu'],
    ['a', 'e', 'i', 'o', 'u', 'a', 'o', 'e', 'ia', 'io', 'ie', 'uo'],
    ['', '', '', '', 'n', 'r', 'l', 's'],
    ['tt', 'ss', 'll', 'pp', 'mm', 'nn', 'rr', 'cc', 'bb', 'zz', 'gg'],
  ],
  ca: [
    ['', '', 'b', 'c', 'd', 'f', 'g', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'x', 'ny', 'll', 'j', 'qu', 'gu', 'br', 'pr', 'tr', 'gr', 'cl', 'pl', 'fr'],
    ['a', 'e', 'i', 'o', 'u', 'a', 'e', 'o', 'ia', 'ua', 'au', 'eu'],
    ['', '', '', 'n', 'r', 'l', 's', 't', 'ns', 'rt'],
    ['ss', 'rr', 'll', 'tx', 'ix'],
  ],
  cs: [
    ['', '', 'b', 'c', 'd', 'f', 'h', 'ch', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v', 'z', 'br', 'pr', 'tr', 'kr', 'st', 'sk', 'sl', 'pl', 'kl', 'zv', 'sv'],
    ['a', 'e', 'i', 'o', 'u', 'y', 'a', 'e', 'o', 'ou'],
    ['', '', '', 'n', 'l', 'k', 's', 't', 'm', 'ch', 'st'],
    ['nn', 'tt'],
  ],
  fi: [
    ['', '', 'h', 'j', 'k', 'l', 'm', 'n', 'p', 'r', 's', 't', 'v'],
    ['a', 'e', 'i', 'o', 'u', 'y', 'aa', 'ee', 'ii', 'oo', 'uu', 'ai', 'ei', 'oi', 'ui', 'au', 'ou', 'ie', 'uo'],
    ['', '', '', '', 'n', 's', 't', 'l', 'r'],
    ['kk', 'pp', 'tt', 'll', 'ss', 'mm', 'nn', 'nk', 'lt', 'rt', 'st', 'ht'],
  ],
};

/** One seeded pseudo-sentence in `lang`'s spelling (3–11 words, commas, a full stop or a question mark). */
export function pseudoSentence(rng, lang) {
  const spelling = SPELLING[lang];
  if (!spelling) throw new Error(`no pseudo-word spelling for language ${lang}`);
  const [onsets, vowels, codas, doubles] = spelling;
  const word = () => {
    const syllables = rng.pick([1, 2, 2, 2, 3, 3, 4]);
    let w = '';
    for (let s = 0; s < syllables; s++) {
      const last = s === syllables - 1;
      w += s > 0 && rng.chance(0.25) ? rng.pick(doubles) : rng.pick(onsets);
      w += rng.pick(vowels);
      if (last || rng.chance(0.2)) w += rng.pick(codas);
    }
    return w;
  };
  const words = Array.from({ length: rng.int(3, 12) }, word);
  for (let i = 1; i < words.length - 1; i++) if (rng.chance(0.1)) words[i] += ',';
  const text = words.join(' ');
  return text[0].toUpperCase() + text.slice(1) + (rng.chance(0.2) ? '?' : '.');
}
