/**
 * "Natural proxy" set: REAL recorded human English speech from Debian packages, with phone
 * timings from pocketsphinx forced alignment, as clips shaped like eval.mjs's
 * ({ group, voice, samples: Float32Array @ 16 kHz, phones: [{ name, parts, start, end }] }).
 *
 * Sources (audio is never copied into the repository; it is read from the installed packages and
 * decoded into training/.cache/real-speech/, which is gitignored):
 *
 * | source     | Debian package (bookworm)                   | licence (debian/copyright)   | speaker(s)                  | text from                                   | split |
 * |------------|---------------------------------------------|------------------------------|-----------------------------|---------------------------------------------|-------|
 * | asterisk   | asterisk-core-sounds-en-g722 1.6.1-1 (+ asterisk-core-sounds-en 1.6.1-1 for core-sounds-en.txt) | CC-BY-SA-3.0, © 2003-2010 Allison Smith | Allison Smith (US, f), G.722 16 kHz | core-sounds-en.txt (prompt transcripts) | eval |
 * | ktuberling | ktuberling-data 4:22.12.3-1                 | GPL-2+ (© KDE, A. Astals Cid) | sounds/en (object names)  | file name (+ a small fix table)               | eval  |
 * | klettres   | klettres-data 4:22.12.3-1                   | GPL-2+ (© A.-M. Mahfouf)      | en and en_GB: 2 speakers (letters, short words) | file name (+ letter names and phonics sounds as alternatives) | eval  |
 * | tuxpaint   | tuxpaint-stamps-default 2022.06.04-1        | GPL-2 (© Bill Kendrick et al.) | stamp descriptions, several unnamed speakers | <stamp>.txt first line        | eval  |
 * | drascula   | drascula 1.0+ds4-2                          | Drascula licence (freeware, redistribution and modification allowed; © 1996-2008 Alcachofa Soft S.L.) | the English voice track of the game: 11 characters' actors, 8-bit 11025 Hz | the game's own text tables (lib/drascula.mjs) | train |
 * | queen      | flight-of-the-amazon-queen 1.0.0-9          | Flight of the Amazon Queen licence (free distribution and modification allowed; © 1995 J. Passfield, S. Stamatiadis) | the game's conversations: Joe King and 28 characters' actors, MP3 11025 Hz; every line | the game's own conversation files (lib/queen.mjs) | train |
 *
 * Split: held out by speaker — the games' voice actors (`drascula`, `queen`) are `train`: gen-data.mjs turns
 * them into the `train-real` training split. Every other speaker is `eval`, and eval.mjs --real
 * scores `eval` only, so no evaluated voice is trained on. Deterministic (sorted file lists, no
 * randomness).
 *
 * Alignment: each utterance's transcript → CMU ARPAbet (cmudict-en-us from pocketsphinx-en-us,
 * every listed pronunciation as an alternative) → a per-utterance Sphinx FSG whose "words" are
 * single phones, with an optional `sil` between words and at both ends; `pocketsphinx_batch`
 * (0.8 / 5prealpha, en-us PTM model, -compallsen yes) gives the best path with -hypseg, i.e. phone
 * start frames (10 ms). A free context-independent phone-loop decode (-allphone -allphone_ci) of the same audio gives a reference
 * acoustic score; with all senones computed both scores share one normalisation, so
 * (forced − free) / speech frames measures how well the transcript explains the audio (calibrated
 * on the build's control run, which aligns every kept utterance against another one's transcript:
 * at −35, ~99% of correct transcripts pass and ~1% (sentences) to ~15% (single letters) of wrong ones). Utterances are
 * dropped when the alignment fails, that gap is below ALIGN_GAP_MIN, a phone is implausibly long,
 * most phones sit at the 3-frame minimum, or the aligned speech is not louder than the aligned
 * pauses. Phones map to flite names (lower-case ARPAbet; SIL → pau).
 *
 * Result of the build (bookworm packages above): eval 191 clips / 20.2 min / 5 voices / 754 p-b-m;
 * train 1,434 clips / 153.0 min / 40 voices / 4,982 p-b-m (Drascula: 523 of 742 lines kept — 78 have
 * a word cmudict lacks, 63 fail to align, 78 fail the quality checks; Flight of the Amazon Queen:
 * 2,919 of 3,983 — 266, 63 and 727, and 8 have no words). Control: 42 of 4,126 wrong transcripts pass
 * (2 of 523 Drascula, 22 of 2,919 Queen lines). 28 min to build on 2 cores, beside a niced data run (the forced, phone-loop
 * and control passes run one pocketsphinx process per core over parts of the list).
 * Caveats: Allison's prompts are trimmed tight (often no lead-in, pauses at joins come only from
 * the trailing room tone); ktuberling / tuxpaint speakers are not named in the packages, so each
 * is one `voice`; the ktuberling and tuxpaint texts are the file name / written description, not a
 * transcript, and the gap check drops the recordings that do not match.
 *
 * Tools (training-time only, never fetched at run time):
 *   apt-get install pocketsphinx pocketsphinx-en-us ffmpeg \
 *     asterisk-core-sounds-en asterisk-core-sounds-en-g722 ktuberling-data klettres-data tuxpaint-stamps-default drascula flight-of-the-amazon-queen
 * Without pocketsphinx/ffmpeg/model, or without any source package, loadRealSpeech returns [].
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FLITE_PHONES } from './visemes.mjs';
import { concatFloat32, peakOf } from './audio.mjs';
import { MODEL_SAMPLE_RATE } from '../../src/contracts/contracts.mjs';
import { DRASCULA_SAMPLE_RATE, drasculaLines } from './drascula.mjs';
import { QUEEN_FILE, QUEEN_SAMPLE_RATE, queenLines } from './queen.mjs';

const SR = MODEL_SAMPLE_RATE;
const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REAL_SPEECH_DIR = path.resolve(HERE, '..', '.cache', 'real-speech');
/** Bump when the build changes; a cache with another version is rebuilt. */
export const BUILD_VERSION = 8;

const PS_MODEL_DIR = '/usr/share/pocketsphinx/model/en-us';
const PS_HMM = path.join(PS_MODEL_DIR, 'en-us');
const PS_DICT = path.join(PS_MODEL_DIR, 'cmudict-en-us.dict');
const PS_PHONE_LM = path.join(PS_MODEL_DIR, 'en-us-phone.lm.bin');
const FRAME = 0.01;
/** A 10 ms frame index → time of the boundary before it (window 25.6 ms, shift 10 ms). */
const FRAME_OFFSET = 0.0078;

/** Quality thresholds (see alignQuality). */
export const ALIGN_GAP_MIN = -35; // (forced − phone-loop acoustic score) per aligned speech frame, pocketsphinx log units
const MAX_PHONE_S = 0.6;
const MAX_MIN_DURATION_SHARE = 0.5;
const MIN_SPEECH_OVER_PAUSE_DB = 6;

/** Clip assembly. */
const CONTEXT_S = 0.4; // own audio kept before the first / after the last phone of each utterance
const CLIP_MIN_S = 5;
const CLIP_MAX_S = 10;
const FADE_S = 0.005;
const UTT_PEAK = 0.5; // eval.mjs clips are peak-normalised to 0.5 too

export const SOURCES = {
  asterisk: { packages: ['asterisk-core-sounds-en-g722', 'asterisk-core-sounds-en'], licence: 'CC-BY-SA-3.0 (Allison Smith)', split: 'eval' },
  ktuberling: { packages: ['ktuberling-data'], licence: 'GPL-2+', split: 'eval' },
  klettres: { packages: ['klettres-data'], licence: 'GPL-2+', split: 'eval' },
  tuxpaint: { packages: ['tuxpaint-stamps-default'], licence: 'GPL-2', split: 'eval' },
  drascula: { packages: ['drascula'], licence: 'Drascula licence (freeware; redistribution and modification allowed; © Alcachofa Soft S.L.)', split: 'train' },
  queen: { packages: ['flight-of-the-amazon-queen'], licence: 'Flight of the Amazon Queen licence (free distribution and modification allowed; © 1995 John Passfield and Steven Stamatiadis)', split: 'train' },
};

/** Every QUEEN_EVERY-th conversation line of the game (of 3,983): 1 = all of them (about 2 h kept). */
const QUEEN_EVERY = 1;

const ARPABET = ['aa', 'ae', 'ah', 'ao', 'aw', 'ay', 'b', 'ch', 'd', 'dh', 'eh', 'er', 'ey', 'f', 'g', 'hh', 'ih', 'iy', 'jh', 'k', 'l', 'm', 'n', 'ng', 'ow', 'oy', 'p', 'r', 's', 'sh', 't', 'th', 'uh', 'uw', 'v', 'w', 'y', 'z', 'zh'];

// ---------------------------------------------------------------------------------------------
// Tools and packages

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

function pkgVersion(pkg) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}\t${Version}', pkg], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout.startsWith('install ok installed')) return null;
  return r.stdout.split('\t')[1];
}

/** What is missing to build the set: { tools: [apt packages], sources: {name: [apt packages]} }. */
export function checkRequirements() {
  const tools = [];
  if (!which('pocketsphinx_batch')) tools.push('pocketsphinx');
  if (!fs.existsSync(PS_DICT) || !fs.existsSync(PS_PHONE_LM) || !fs.existsSync(path.join(PS_HMM, 'mdef'))) tools.push('pocketsphinx-en-us');
  if (!which('ffmpeg')) tools.push('ffmpeg');
  const sources = {};
  for (const [name, s] of Object.entries(SOURCES)) {
    const missing = s.packages.filter((p) => !pkgVersion(p));
    if (missing.length) sources[name] = missing;
  }
  return { tools, sources, installCommand: `apt-get install -y ${[...tools, ...Object.values(sources).flat()].join(' ')}` };
}

// ---------------------------------------------------------------------------------------------
// Text → pronunciations

let cmudict = null;
function loadDict() {
  if (cmudict) return cmudict;
  cmudict = new Map();
  for (const line of fs.readFileSync(PS_DICT, 'utf8').split('\n')) {
    const m = /^(\S+?)(?:\(\d+\))?\s+(.+?)\s*$/.exec(line);
    if (!m) continue;
    const prons = cmudict.get(m[1]) ?? [];
    prons.push(m[2].toLowerCase().split(/\s+/));
    cmudict.set(m[1], prons);
  }
  return cmudict;
}

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve',
  'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
function numberWords(n) {
  if (n < 20) return [ONES[n]];
  if (n < 100) return [TENS[Math.floor(n / 10)], ...(n % 10 ? [ONES[n % 10]] : [])];
  if (n < 1000) return [ONES[Math.floor(n / 100)], 'hundred', ...(n % 100 ? numberWords(n % 100) : [])];
  if (n < 10000) return [...numberWords(Math.floor(n / 1000)), 'thousand', ...(n % 1000 ? numberWords(n % 1000) : [])];
  return String(n).split('').map((d) => ONES[+d]);
}

/**
 * Transcript → token list; each token is a list of alternative word sequences
 * (e.g. '#' may be read "pound" or "hash"). Returns null for texts that are not speech.
 */
export function tokenize(text) {
  if (/^\s*[[(<]/.test(text)) return null; // "[beep tone]", "(1 second of silence)", "<beep ascending>"
  const t = text
    .replace(/\*/g, ' STAR ').replace(/#/g, ' POUND ').replace(/&/g, ' and ').replace(/%/g, ' percent ')
    .replace(/(\d),(\d)/g, '$1$2')
    .replace(/[-–—/]/g, ' ')
    .replace(/[^A-Za-z0-9' ]+/g, ' ')
    .toLowerCase();
  const tokens = [];
  for (let w of t.split(/\s+/)) {
    w = w.replace(/^'+|'+$/g, '');
    if (!w) continue;
    if (w === 'star') tokens.push([['star'], ['asterisk']]);
    else if (w === 'pound') tokens.push([['pound'], ['hash']]);
    else if (/^\d+$/.test(w)) tokens.push([w.length > 1 && w[0] === '0' ? w.split('').map((d) => ONES[+d]) : numberWords(+w)]);
    else tokens.push([[w]]);
  }
  return tokens.length ? tokens : null;
}

/** Tokens → [[alternative phone sequences] per token] or { oov }. */
function pronounce(tokens, extra = {}) {
  const dict = loadDict();
  const out = [];
  const oov = [];
  for (const alts of tokens) {
    const phoneAlts = [];
    for (const seq of alts) {
      // Cartesian product over each word's pronunciations (capped).
      let acc = [[]]; // an empty `seq` is an optional token (null transition)
      let ok = true;
      for (const w of seq) {
        const prons = extra[w] ?? dict.get(w);
        if (!prons) { ok = false; oov.push(w); break; }
        acc = acc.flatMap((a) => prons.map((p) => [...a, ...p])).slice(0, 8);
      }
      if (ok) phoneAlts.push(...acc);
    }
    if (!phoneAlts.length) continue;
    out.push(phoneAlts);
  }
  return oov.length ? { oov } : { words: out };
}

/** Per-utterance Sphinx FSG: optional sil around and between words, phones as words. */
function makeFsg(name, words) {
  const trans = [];
  let n = 1;
  let cur = 0;
  const optSil = () => {
    const next = n++;
    trans.push(`TRANSITION ${cur} ${next} 0.5 sil`, `TRANSITION ${cur} ${next} 0.5`);
    cur = next;
  };
  optSil();
  for (const alts of words) {
    const end = n++;
    const seen = new Set();
    const uniq = alts.filter((a) => !seen.has(a.join(' ')) && seen.add(a.join(' ')));
    for (const phones of uniq) {
      if (!phones.length) {
        trans.push(`TRANSITION ${cur} ${end} ${(1 / uniq.length).toFixed(4)}`);
        continue;
      }
      let s = cur;
      phones.forEach((p, i) => {
        const to = i === phones.length - 1 ? end : n++;
        trans.push(`TRANSITION ${s} ${to} ${i === 0 ? (1 / uniq.length).toFixed(4) : '1.0'} ${p}`);
        s = to;
      });
    }
    cur = end;
    optSil();
  }
  return `FSG_BEGIN ${name}\nNUM_STATES ${n}\nSTART_STATE 0\nFINAL_STATE ${cur}\n${trans.join('\n')}\nFSG_END\n`;
}

// ---------------------------------------------------------------------------------------------
// Source inventories (deterministic, sorted)

function listFiles(dir, re) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (re.test(e.name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const safeId = (s) => s.replace(/[^A-Za-z0-9_.-]+/g, '_');

function asteriskItems() {
  const root = '/usr/share/asterisk/sounds/en_US_f_Allison';
  const txt = '/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz';
  if (!fs.existsSync(root) || !fs.existsSync(txt)) return [];
  const texts = new Map();
  for (const line of zlib.gunzipSync(fs.readFileSync(txt)).toString('utf8').split('\n')) {
    const m = /^([^;:\s][^:]*):\s*(.+)$/.exec(line.trim());
    if (m) texts.set(m[1].trim(), m[2].trim());
  }
  return listFiles(root, /\.g722$/).flatMap((file) => {
    const key = path.relative(root, file).replace(/\.g722$/, '');
    const text = texts.get(key);
    return text ? [{ id: `asterisk__${safeId(key)}`, source: 'asterisk', speaker: 'allison', file, format: 'g722', text }] : [];
  });
}

/** ktuberling sounds are named after objects; a few names are not what is said / not in cmudict. */
const KTUBERLING_TEXT = {
  palmtree: 'palm tree', fallingstar: 'falling star', moonwalker: 'moon walker', broccolli: 'broccoli', sphynx: 'sphinx',
  ufo: 'u f o', tv: 't v',
};
function ktuberlingItems() {
  return listFiles('/usr/share/ktuberling/sounds/en', /\.ogg$/).map((file) => {
    const base = path.basename(file, '.ogg');
    const word = base.includes('_') ? base.slice(base.indexOf('_') + 1) : base;
    return { id: `ktuberling__${safeId(base)}`, source: 'ktuberling', speaker: 'en', file, format: 'ogg', text: KTUBERLING_TEXT[word] ?? word };
  });
}

/** Letter names (en: US, en_GB: "zed"), plus phonics sounds: the en_GB alphabet may be either. */
const LETTER_PHONICS = {
  a: 'ae', b: 'b ah', c: 'k ah', d: 'd ah', e: 'eh', f: 'f', g: 'g ah', h: 'hh ah', i: 'ih', j: 'jh ah', k: 'k ah', l: 'l', m: 'm',
  n: 'n', o: 'aa', p: 'p ah', q: 'k w ah', r: 'r', s: 's', t: 't ah', u: 'ah', v: 'v', w: 'w ah', x: 'k s', y: 'y ah', z: 'z',
};
function klettresItems() {
  const items = [];
  for (const lang of ['en', 'en_GB']) {
    for (const file of listFiles(`/usr/share/klettres/${lang}`, /\.ogg$/)) {
      const base = path.basename(file, '.ogg');
      const kind = path.basename(path.dirname(file));
      const item = { id: `klettres__${lang}_${kind}_${safeId(base)}`, source: 'klettres', speaker: lang, file, format: 'ogg', text: base.toLowerCase() };
      if (kind === 'alpha') {
        const l = base.toLowerCase();
        const names = [...(loadDict().get(l) ?? [])].filter((p) => p.length > 1 || l === 'a' || l === 'e' || l === 'i' || l === 'o');
        if (l === 'a') names.splice(0, names.length, ['ey']);
        if (l === 'z' && lang === 'en_GB') names.splice(0, names.length, ['z', 'eh', 'd']);
        item.extra = { [l]: [...names, LETTER_PHONICS[l].split(' ')] };
      } else if (base === 'th') item.extra = { th: [['th'], ['th', 'ah']] };
      else if (base === 'ch') item.extra = { ch: [['ch'], ['ch', 'ah']] };
      else if (base === 'aw') item.extra = { aw: [['ao']] };
      items.push(item);
    }
  }
  return items;
}

function tuxpaintItems() {
  return listFiles('/usr/share/tuxpaint/stamps', /_desc\.ogg$/).flatMap((file) => {
    const txt = file.replace(/_desc\.ogg$/, '.txt');
    if (!fs.existsSync(txt)) return [];
    const text = fs.readFileSync(txt, 'utf8').split('\n')[0].trim();
    if (!text || /=/.test(text)) return [];
    const rel = path.relative('/usr/share/tuxpaint/stamps', file).replace(/_desc\.ogg$/, '');
    // Several recordings drop the leading article of the written description: it is optional.
    return [{ id: `tuxpaint__${safeId(rel)}`, source: 'tuxpaint', speaker: 'various', file, format: 'ogg', text, optionalArticle: true }];
  });
}

/** Drascula's English voice track (lib/drascula.mjs): one `speaker` per character. */
function drasculaItems() {
  return drasculaLines().map((l) => ({
    id: `drascula__${l.prefix || 'H'}${l.index}`, source: 'drascula', speaker: l.speaker, file: l.file, format: 'u8', sampleRate: DRASCULA_SAMPLE_RATE, text: l.text,
  }));
}

/** Flight of the Amazon Queen's conversations (lib/queen.mjs): Joe King and the person he talks to, MP3 inside queen.1c. */
function queenItems() {
  return queenLines().filter((_, i) => i % QUEEN_EVERY === 0).map((l) => ({
    id: `queen__${l.name.replace(/\.SB$/, '')}`, source: 'queen', speaker: l.speaker, file: QUEEN_FILE, byteOffset: l.offset, byteLength: l.size,
    format: 'mp3', sampleRate: QUEEN_SAMPLE_RATE, text: l.text,
  }));
}

export function inventory() {
  return [...asteriskItems(), ...ktuberlingItems(), ...klettresItems(), ...tuxpaintItems(), ...drasculaItems(), ...queenItems()];
}

// ---------------------------------------------------------------------------------------------
// Decoding, alignment, quality

function decode(item, rawPath) {
  if (fs.existsSync(rawPath)) return true;
  // A line stored inside a bigger file (queen.1c) reaches ffmpeg on its stdin.
  const inner = item.byteOffset !== undefined;
  const src = inner ? 'pipe:0' : item.file;
  const input = item.format === 'g722' ? ['-f', 'g722', '-i', src]
    : item.format === 'u8' ? ['-f', 'u8', '-ar', String(item.sampleRate), '-ac', '1', '-i', src] // headerless 8-bit PCM
      : item.format === 'mp3' ? ['-f', 'mp3', '-i', src]
        : ['-i', src];
  const tmp = `${rawPath}.tmp`;
  const stdin = inner ? readBytes(item.file, item.byteOffset, item.byteLength) : undefined;
  const r = spawnSync('ffmpeg', [...(inner ? [] : ['-nostdin']), '-loglevel', 'error', '-y', ...input, '-ac', '1', '-ar', String(SR), '-f', 's16le', '-c:a', 'pcm_s16le', tmp], { input: stdin });
  if (r.status !== 0) return false;
  fs.renameSync(tmp, rawPath);
  return true;
}

function readBytes(file, offset, length) {
  const fd = fs.openSync(file, 'r');
  try {
    const b = Buffer.alloc(length);
    fs.readSync(fd, b, 0, length, offset);
    return b;
  } finally {
    fs.closeSync(fd);
  }
}

function readRaw(rawPath) {
  const buf = fs.readFileSync(rawPath);
  const n = buf.length >> 1;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = buf.readInt16LE(2 * i) / 32768;
  return x;
}

/** Parse a -hypseg file: uttid → { ascr, segs: [{ word, sf }], lastFrame }. */
function parseHypseg(file) {
  const out = new Map();
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 9) continue;
    const ascr = +f[f.indexOf('A') + 1];
    const segs = [];
    let i = f.indexOf('L') + 2;
    for (; i + 3 < f.length; i += 4) segs.push({ sf: +f[i], ascr: +f[i + 1], word: f[i + 3] });
    out.set(f[0], { ascr, segs, lastFrame: +f[f.length - 1] });
  }
  return out;
}

/** pocketsphinx_batch processes run at once (one per core, at most 4); PS_JOBS overrides. */
const PS_JOBS = Math.max(1, Number(process.env.PS_JOBS) || Math.min(4, os.availableParallelism?.() ?? os.cpus().length));

const shq = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;

/**
 * Runs `pocketsphinx_batch` over `ids` split into PS_JOBS contiguous parts at once, each with its
 * own control file (`<name>.<k>.ctl`, passed to `makeArgs(ctl)` which also names it as -fsgctl
 * where used) and log, and joins the parts' -hypseg output into `<name>.seg` in order. The
 * acoustic model normalises cepstra per utterance (feat.params: -cmn batch), so how the list is
 * split does not change any alignment.
 */
function runBatches(alignDir, name, ids, makeArgs) {
  const n = Math.max(1, Math.min(PS_JOBS, ids.length));
  const parts = [];
  for (let k = 0; k < n; k++) {
    const part = ids.slice(Math.floor((k * ids.length) / n), Math.floor(((k + 1) * ids.length) / n));
    const ctl = path.join(alignDir, `${name}.${k}.ctl`);
    fs.writeFileSync(ctl, part.join('\n') + '\n');
    parts.push({ hyp: path.join(alignDir, `${name}.${k}.seg`), log: path.join(alignDir, `${name}.${k}.log`), args: [...makeArgs(ctl), '-hypseg', path.join(alignDir, `${name}.${k}.seg`)] });
  }
  const script = parts.map((p, k) => `pocketsphinx_batch ${p.args.map(shq).join(' ')} > ${shq(p.log)} 2>&1 & p${k}=$!; `).join('')
    + `fail=0; ${parts.map((_, k) => `wait $p${k} || fail=$?; `).join('')}exit $fail`;
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`pocketsphinx_batch failed (${r.status}${r.stderr ? `: ${r.stderr.trim()}` : ''}); see ${parts.map((p) => p.log).join(', ')}`);
  fs.writeFileSync(path.join(alignDir, `${name}.seg`), parts.map((p) => fs.readFileSync(p.hyp, 'utf8')).join(''));
}

function frameEnergyDb(x) {
  const hop = Math.round(FRAME * SR);
  const n = Math.floor(x.length / hop);
  const e = new Float32Array(n);
  for (let j = 0; j < n; j++) {
    let s = 0;
    for (let i = j * hop; i < (j + 1) * hop; i++) s += x[i] * x[i];
    e[j] = 10 * Math.log10(s / hop + 1e-10);
  }
  return e;
}

/** Phones [{name,start,end}] of one utterance from its forced-alignment segments. */
function segsToPhones(segs, lastFrame, duration) {
  const phones = [];
  const t = (frame) => Math.min(duration, Math.max(0, frame * FRAME + FRAME_OFFSET));
  const real = segs.filter((s) => s.word !== '(NULL)');
  for (let i = 0; i < real.length; i++) {
    const endFrame = i + 1 < real.length ? real[i + 1].sf : lastFrame + 1;
    const name = real[i].word === 'sil' ? 'pau' : real[i].word;
    phones.push({ name, start: i === 0 ? 0 : t(real[i].sf), end: i + 1 < real.length ? t(endFrame) : duration, frames: endFrame - real[i].sf });
  }
  // merge adjacent pauses
  const merged = [];
  for (const p of phones) {
    const last = merged.at(-1);
    if (last && last.name === 'pau' && p.name === 'pau') (last.end = p.end), (last.frames += p.frames);
    else merged.push({ ...p });
  }
  if (merged.length && merged[0].name !== 'pau' && merged[0].start > 0) merged.unshift({ name: 'pau', start: 0, end: merged[0].start, frames: 0 });
  return merged;
}

/** Returns { ok, reason, gap, speechOverPauseDb, minShare, longest }. */
function alignQuality(phones, forced, free, energy) {
  const speech = phones.filter((p) => p.name !== 'pau');
  const speechFrames = speech.reduce((n, p) => n + p.frames, 0);
  const gap = free ? (forced.ascr - free.ascr) / Math.max(10, speechFrames) : null;
  if (!speech.length) return { ok: false, reason: 'no speech phones' };
  const longest = Math.max(...speech.map((p) => p.end - p.start));
  const minShare = speech.filter((p) => p.frames <= 3).length / speech.length;
  const meanDb = (sel) => {
    let s = 0, n = 0;
    for (const p of phones.filter(sel)) for (let j = Math.floor(p.start / FRAME); j < Math.min(energy.length, Math.ceil(p.end / FRAME)); j++) (s += energy[j]), n++;
    return n ? s / n : null;
  };
  const sp = meanDb((p) => p.name !== 'pau');
  const pa = meanDb((p) => p.name === 'pau');
  const speechOverPauseDb = sp !== null && pa !== null ? sp - pa : null;
  const stats = { gap: gap === null ? null : +gap.toFixed(1), speechOverPauseDb: speechOverPauseDb === null ? null : +speechOverPauseDb.toFixed(1), minShare: +minShare.toFixed(2), longest: +longest.toFixed(3) };
  let reason = null;
  if (gap !== null && gap < ALIGN_GAP_MIN) reason = `acoustic gap ${gap.toFixed(0)} < ${ALIGN_GAP_MIN}`;
  else if (longest > MAX_PHONE_S) reason = `phone of ${longest.toFixed(2)} s`;
  else if (minShare > MAX_MIN_DURATION_SHARE) reason = `${Math.round(minShare * 100)}% phones at 30 ms minimum`;
  else if (speechOverPauseDb !== null && speechOverPauseDb < MIN_SPEECH_OVER_PAUSE_DB) reason = `speech only ${speechOverPauseDb.toFixed(1)} dB over pauses`;
  return { ok: !reason, reason, ...stats };
}

/**
 * Build the set into `dir`: decode, align, check. Writes index.json (all utterances with their
 * verdicts) and audio.f32 (16 kHz audio of the kept ones). `control`: also align every kept
 * utterance against another utterance's transcript and report how many such wrong transcripts
 * pass the checks (a measure of how discriminative they are).
 */
export function buildRealSpeech({ dir = REAL_SPEECH_DIR, log = () => {}, control = true } = {}) {
  const req = checkRequirements();
  if (req.tools.length) throw new Error(`missing tools: ${req.installCommand}`);
  const items = inventory();
  if (!items.length) throw new Error(`no source package installed: ${req.installCommand}`);
  const rawDir = path.join(dir, 'raw');
  const alignDir = path.join(dir, 'align');
  fs.mkdirSync(rawDir, { recursive: true });
  fs.rmSync(alignDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(alignDir, 'fsg'), { recursive: true });

  const phoneDict = `${ARPABET.map((p) => `${p} ${p.toUpperCase()}`).join('\n')}\nsil SIL\n`;
  fs.writeFileSync(path.join(alignDir, 'phones.dict'), phoneDict);

  log(`decoding ${items.length} files with ffmpeg …`);
  const utts = [];
  for (const item of items) {
    const u = { id: item.id, source: item.source, speaker: item.speaker, file: item.file, text: item.text };
    utts.push(u);
    const tokens = tokenize(item.text);
    if (tokens && item.optionalArticle && ['a', 'an', 'the'].includes(tokens[0][0][0])) tokens[0].push([]);
    if (!tokens) { u.reason = 'not speech'; continue; }
    const pr = pronounce(tokens, item.extra);
    if (pr.oov) { u.reason = `OOV: ${pr.oov.join(' ')}`; continue; }
    if (!decode(item, path.join(rawDir, `${item.id}.raw`))) { u.reason = 'decode failed'; continue; }
    u.words = pr.words;
  }
  const todo = utts.filter((u) => u.words);
  const common = ['-hmm', PS_HMM, '-adcin', 'yes', '-cepdir', rawDir, '-cepext', '.raw', '-samprate', String(SR), '-compallsen', 'yes'];
  const forcedArgs = (ctl, fsgdir) => [...common, '-dict', path.join(alignDir, 'phones.dict'), '-fsgctl', ctl, '-fsgdir', fsgdir, '-fsgext', '.fsg',
    '-fsgusefiller', 'no', '-bestpath', 'no', '-ctl', ctl];

  const ids = todo.map((u) => u.id);
  for (const u of todo) fs.writeFileSync(path.join(alignDir, 'fsg', `${u.id}.fsg`), makeFsg(u.id, u.words));
  log(`forced alignment of ${todo.length} utterances (pocketsphinx_batch × ${Math.min(PS_JOBS, todo.length)}) …`);
  runBatches(alignDir, 'forced', ids, (ctl) => forcedArgs(ctl, path.join(alignDir, 'fsg')));
  log('free phone-loop decode (reference scores) …');
  runBatches(alignDir, 'free', ids, (ctl) => [...common, '-allphone', PS_PHONE_LM, '-allphone_ci', 'yes', '-beam', '1e-20', '-pbeam', '1e-20', '-lw', '2', '-ctl', ctl]);
  const forced = parseHypseg(path.join(alignDir, 'forced.seg'));
  const free = parseHypseg(path.join(alignDir, 'free.seg'));

  const audio = [];
  let offset = 0;
  for (const u of todo) {
    const x = readRaw(path.join(rawDir, `${u.id}.raw`));
    const fa = forced.get(u.id);
    delete u.words;
    if (!fa || !fa.segs.length) { u.reason = 'alignment failed'; continue; }
    const duration = x.length / SR;
    const phones = segsToPhones(fa.segs, fa.lastFrame, duration);
    const q = alignQuality(phones, fa, free.get(u.id), frameEnergyDb(x));
    u.quality = q;
    u.phones = phones.map((p) => [p.name, +p.start.toFixed(4), +p.end.toFixed(4)]);
    if (!q.ok) { u.reason = q.reason; continue; }
    u.offset = offset;
    u.length = x.length;
    offset += x.length;
    audio.push(x);
  }

  let controlReport = null;
  if (control) {
    // Wrong transcripts: each kept utterance against the next kept one's (same source, rotated).
    const kept = todo.filter((u) => !u.reason);
    const pairs = [];
    for (const src of Object.keys(SOURCES)) {
      const list = kept.filter((u) => u.source === src);
      list.forEach((u, i) => { if (list.length > 1) pairs.push([u, list[(i + Math.max(1, list.length >> 1)) % list.length]]); });
    }
    const cdir = path.join(alignDir, 'fsg-control');
    fs.mkdirSync(cdir, { recursive: true });
    const byId = new Map(items.map((it) => [it.id, it]));
    const cctl = [];
    for (const [u, other] of pairs) {
      const pr = pronounce(tokenize(other.text), byId.get(other.id).extra);
      if (pr.oov || other.text.toLowerCase() === u.text.toLowerCase()) continue;
      fs.writeFileSync(path.join(cdir, `${u.id}.fsg`), makeFsg(u.id, pr.words));
      cctl.push(u.id);
    }
    log(`control: ${cctl.length} utterances against wrong transcripts …`);
    runBatches(alignDir, 'control', cctl, (c) => forcedArgs(c, cdir));
    const cseg = parseHypseg(path.join(alignDir, 'control.seg'));
    let passed = 0, total = 0;
    const bySource = {};
    for (const id of cctl) {
      const u = kept.find((k) => k.id === id);
      const fa = cseg.get(id);
      const s = (bySource[u.source] ??= { total: 0, passed: 0 });
      total++, s.total++;
      if (!fa || !fa.segs.length) continue;
      const x = readRaw(path.join(rawDir, `${id}.raw`));
      const q = alignQuality(segsToPhones(fa.segs, fa.lastFrame, x.length / SR), fa, free.get(id), frameEnergyDb(x));
      if (q.ok) passed++, s.passed++;
    }
    controlReport = { total, passed, bySource };
  }

  const sources = Object.fromEntries(Object.entries(SOURCES).map(([k, s]) => [k, { ...s, versions: Object.fromEntries(s.packages.map((p) => [p, pkgVersion(p)])) }]));
  const index = { version: BUILD_VERSION, sampleRate: SR, sources, control: controlReport, utterances: utts };
  fs.writeFileSync(path.join(dir, 'audio.f32'), Buffer.from(concatFloat32(audio).buffer));
  fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
  return index;
}

// ---------------------------------------------------------------------------------------------
// Loading

function readIndex(dir) {
  const file = path.join(dir, 'index.json');
  if (!fs.existsSync(file) || !fs.existsSync(path.join(dir, 'audio.f32'))) return null;
  const index = JSON.parse(fs.readFileSync(file, 'utf8'));
  return index.version === BUILD_VERSION ? index : null;
}

/**
 * Utterances → clips of one speaker, ~CLIP_MIN_S..CLIP_MAX_S s: each utterance keeps up to
 * CONTEXT_S of its own audio around its first/last phone (room tone, never digital silence),
 * is peak-normalised to UTT_PEAK, and gets 5 ms fades at the joins.
 */
function assembleClips(index, audio, split) {
  const kept = index.utterances.filter((u) => !u.reason && u.length && (split === 'all' || SOURCES[u.source]?.split === split));
  const bySpeaker = new Map();
  for (const u of kept) {
    const key = `${u.source}:${u.speaker}`;
    if (!bySpeaker.has(key)) bySpeaker.set(key, []);
    bySpeaker.get(key).push(u);
  }
  const clips = [];
  for (const [voice, list] of [...bySpeaker].sort(([a], [b]) => (a < b ? -1 : 1))) {
    let pieces = [];
    let phones = [];
    let t = 0;
    const flush = () => {
      if (!pieces.length) return;
      clips.push({ group: 'real-speech', voice, samples: concatFloat32(pieces), phones, ids: pieces.ids });
      pieces = [];
      phones = [];
      t = 0;
    };
    for (const u of list) {
      const ph = u.phones.map(([name, start, end]) => ({ name, start, end }));
      const speech = ph.filter((p) => p.name !== 'pau');
      const dur = u.length / SR;
      const i0 = Math.round(Math.max(0, speech[0].start - CONTEXT_S) * SR);
      const i1 = Math.min(u.length, Math.round(Math.min(dur, speech.at(-1).end + CONTEXT_S) * SR));
      const a = i0 / SR;
      const b = i1 / SR;
      const x = audio.slice(u.offset + i0, u.offset + i1);
      const peak = peakOf(x);
      const fade = Math.round(FADE_S * SR);
      for (let i = 0; i < x.length; i++) {
        const g = Math.min(1, i / fade, (x.length - 1 - i) / fade);
        x[i] *= (UTT_PEAK / peak) * g;
      }
      const segDur = x.length / SR;
      if (pieces.length && t + segDur > CLIP_MAX_S) flush();
      pieces.ids = [...(pieces.ids ?? []), u.id];
      for (const p of ph) {
        const s = Math.max(p.start, a) - a;
        const e = Math.min(p.end, b) - a;
        if (e <= s) continue;
        const last = phones.at(-1);
        if (last && last.name === 'pau' && p.name === 'pau' && Math.abs(last.end - (t + s)) < 1e-3) last.end = t + e;
        else phones.push({ name: p.name, parts: FLITE_PHONES[p.name], start: t + s, end: t + e });
      }
      pieces.push(x);
      t += segDur;
      if (t >= CLIP_MIN_S) flush();
    }
    flush();
  }
  return clips;
}

/**
 * Real-speech clips for `split` ('eval' = held-out speakers, 'train' = the others, 'all').
 * Reads training/.cache/real-speech/; builds it first when missing and the tools and packages are
 * installed (nothing is ever downloaded); returns [] when it cannot.
 */
export function loadRealSpeech({ split = 'eval', dir = REAL_SPEECH_DIR, build = true, log = () => {} } = {}) {
  let index = readIndex(dir);
  if (!index && build) {
    const req = checkRequirements();
    if (req.tools.length || Object.keys(req.sources).length === Object.keys(SOURCES).length) return [];
    try {
      buildRealSpeech({ dir, log });
    } catch (err) {
      log(`real-speech build failed: ${err.message}`);
      return [];
    }
    index = readIndex(dir);
  }
  if (!index) return [];
  const buf = fs.readFileSync(path.join(dir, 'audio.f32'));
  const audio = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  return assembleClips(index, audio, split);
}
