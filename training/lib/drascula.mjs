/**
 * Real speech for TRAINING: the English voice track of "Drascula: The Vampire Strikes Back"
 * (Debian package `drascula`, main; © 1996-2008 Alcachofa Soft S.L., freeware licence that allows
 * redistribution and modification — debian/copyright "Drascula-License"). Nothing of it is copied
 * into the repository: the files are read from the installed package at training time.
 *
 * Facts used (learnt from the package's files and from how ScummVM's engine names them):
 * - Each spoken line is a file `<PREFIX><n>.ALS` in /usr/share/scummvm/drascula/en/: headerless
 *   8-bit unsigned mono PCM at 11025 Hz.
 * - Its text is entry n of one of the game's text tables in `drascula.dat` (same directory), chosen
 *   by the prefix: '' → the player's table, D → Drascula's (entries from 68 on are the blind man's),
 *   I → Igor, VB → Von Braun, BJ → B.J., P → the pianist, T → the bartender, L → the werewolf,
 *   B → the drunk, E → the musician.
 * - drascula.dat ends with: uint16 BE language count, then 15 text tables, each a uint16 BE entry
 *   count and, per language (English first), a uint16 BE byte length and that many bytes. Inside a
 *   language's bytes entry i ≥ 1 is a NUL-terminated string at p_i (entry 0 is not read), where
 *   p_0 = 4 and p_i = p_{i-1} + (the uint16 BE at p_{i-1} − 2): each region's size is stored just
 *   before it (so the last two bytes of a region hold the next one's size).
 * The table section is found by its shape (the only offset from which the 15 tables end exactly
 * at the end of the file), so nothing depends on the layout of the game data before it.
 */
import fs from 'node:fs';
import path from 'node:path';

export const DRASCULA_DIR = '/usr/share/scummvm/drascula/en';
export const DRASCULA_SAMPLE_RATE = 11025;

const TABLES = ['text', 'textd', 'textb', 'textbj', 'texte', 'texti', 'textl', 'textp', 'textt', 'textvb', 'textsys', 'texthis', 'textverbs', 'textmisc', 'textd1'];
const BLIND_FROM = 68;
const BY_PREFIX = {
  '': { table: 'text', speaker: 'hacker' },
  D: { table: 'textd', speaker: 'drascula' },
  I: { table: 'texti', speaker: 'igor' },
  VB: { table: 'textvb', speaker: 'vonbraun' },
  BJ: { table: 'textbj', speaker: 'bj' },
  P: { table: 'textp', speaker: 'pianist' },
  T: { table: 'textt', speaker: 'bartender' },
  L: { table: 'textl', speaker: 'werewolf' },
  B: { table: 'textb', speaker: 'drunk' },
  E: { table: 'texte', speaker: 'musician' },
};

function tablesFrom(buf, at) {
  const langs = buf.readUInt16BE(at);
  if (langs < 1 || langs > 16) return null;
  let o = at + 2;
  const tables = [];
  for (let t = 0; t < TABLES.length; t++) {
    if (o + 2 > buf.length) return null;
    const count = buf.readUInt16BE(o);
    o += 2;
    let english = null;
    for (let l = 0; l < langs; l++) {
      if (o + 2 > buf.length) return null;
      const len = buf.readUInt16BE(o);
      o += 2;
      if (o + len > buf.length) return null;
      if (l === 0) english = buf.subarray(o, o + len);
      o += len;
    }
    tables.push({ count, english });
  }
  return o === buf.length ? tables : null;
}

function entries(bytes, count) {
  const out = [''];
  let p = 4;
  for (let i = 1; i < count; i++) {
    if (p > bytes.length) throw new Error('drascula.dat: text entry out of range');
    p += bytes.readUInt16BE(p - 2);
    const z = bytes.indexOf(0, p);
    out.push(bytes.subarray(p, z < 0 ? bytes.length : z).toString('latin1'));
  }
  return out;
}

/** English text tables of drascula.dat: { text: [...], textd: [...], ... }. */
export function readDrasculaTexts(file = path.join(DRASCULA_DIR, 'drascula.dat')) {
  const buf = fs.readFileSync(file);
  let tables = null;
  for (let at = buf.length - 2 - 4 * TABLES.length; at >= 0 && !tables; at--) tables = tablesFrom(buf, at);
  if (!tables) throw new Error(`${file}: text tables not found`);
  return Object.fromEntries(TABLES.map((name, i) => [name, entries(tables[i].english, tables[i].count)]));
}

/**
 * Spoken lines with their text: [{ file, prefix, index, speaker, text }], sorted by file name.
 * Lines without a text entry (and the few prefixes without a known table) are left out.
 */
export function drasculaLines(dir = DRASCULA_DIR) {
  if (!fs.existsSync(path.join(dir, 'drascula.dat'))) return [];
  const texts = readDrasculaTexts(path.join(dir, 'drascula.dat'));
  const lines = [];
  for (const name of fs.readdirSync(dir).sort()) {
    const m = /^([A-Z]*)(\d+)\.ALS$/i.exec(name);
    if (!m) continue;
    const prefix = m[1].toUpperCase();
    const spec = BY_PREFIX[prefix];
    if (!spec) continue;
    const index = Number(m[2]);
    const text = texts[spec.table][index]?.trim();
    if (!text) continue;
    const speaker = prefix === 'D' && index >= BLIND_FROM ? 'blind' : spec.speaker;
    lines.push({ file: path.join(dir, name), prefix, index, speaker, text });
  }
  return lines;
}
