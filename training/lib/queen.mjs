/**
 * Real speech for TRAINING: the voice track of "Flight of the Amazon Queen" (Debian package
 * `flight-of-the-amazon-queen`, main; © 1995 John Passfield and Steven Stamatiadis; its licence
 * allows free distribution and modification — debian/copyright "Flight-of-the-Amazon-Queen-License").
 * Nothing of it is copied into the repository: it is read from the installed package at training time.
 *
 * Facts used (learnt from the package's file and from how ScummVM's queen engine reads it):
 * - Everything is in one file, `queen.1c`: "QTBL", a 5-byte version ("CEM10"), a uint32 BE
 *   compression kind (1: MP3), a uint16 BE entry count, then per entry 21 bytes: a NUL-padded
 *   12-byte name, a bundle byte, uint32 BE offset and uint32 BE size of the entry's bytes.
 * - Spoken lines are `<name>.SB` entries: MPEG layer III, 11025 Hz mono in this version.
 * - Conversations are `<name>.DOG` entries (20-byte header, then big-endian int16 fields):
 *   level count (its absolute value), unique key, talk key, Joe's line count, the other person's
 *   line count, six game-state fields, then the offsets (uint16) of the person's lines, of the
 *   cutaway and of the "talked to before" pair; Joe's lines start at 32 + 96 × level count. A line
 *   list is, per line, 2 bytes, an int16 id and a string (a length byte, then the text; the next
 *   field starts at the next multiple of 4). The "talked to before" pair is two such strings
 *   aligned to 2: the person's, then Joe's.
 * - A line's voice files are named by the talk key (2 digits), the line id (4 hex digits), J (Joe)
 *   or P (the other person), e.g. 02 0006 J; Joe's opening line uses SSSS for the id, the "talked
 *   to before" pair XXXX; spaces become 0. Text between `*` commands (`*` + two characters;
 *   `*XY` + 11 more) is spoken as separate segments: segment k (from 0) is file <prefix><k + 1>.SB,
 *   and the text before each command is the segment that command closes.
 */
import fs from 'node:fs';

export const QUEEN_FILE = '/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c';
export const QUEEN_SAMPLE_RATE = 11025;

const DOG_HEADER_BYTES = 20;

/** The resource table of a queen.1c file: Map name → { offset, size }. */
export function readQueenTable(buf) {
  if (buf.length < 15 || buf.toString('latin1', 0, 4) !== 'QTBL') throw new Error('queen.1c: no QTBL resource table');
  const count = buf.readUInt16BE(13);
  const table = new Map();
  let p = 15;
  for (let i = 0; i < count; i++, p += 21) {
    if (p + 21 > buf.length) throw new Error('queen.1c: resource table truncated');
    const name = buf.toString('latin1', p, p + 12).replace(/\0.*$/s, '').toUpperCase();
    const offset = buf.readUInt32BE(p + 13);
    const size = buf.readUInt32BE(p + 17);
    if (offset + size > buf.length) throw new Error(`queen.1c: ${name} lies outside the file`);
    table.set(name, { offset, size });
  }
  return table;
}

/** A string field: a length byte and the text; the next field starts at a multiple of `align`. */
function readString(d, o, align) {
  if (o >= d.length) throw new Error('DOG string out of range');
  const len = d[o];
  o++;
  if (!len) return { text: '', next: o };
  if (o + len > d.length) throw new Error('DOG string out of range');
  return { text: d.toString('latin1', o, o + len), next: (o + len + align - 1) & ~(align - 1) };
}

function readLines(d, o, count) {
  const lines = [];
  for (let i = 0; i < count; i++) {
    const id = d.readInt16BE(o + 2);
    const s = readString(d, o + 4, 4);
    lines.push({ id, text: s.text });
    o = s.next;
  }
  return lines;
}

/**
 * A conversation's spoken lines: [{ prefix, who: 'J' | 'P', text }], the prefix being the voice
 * file name before the segment digit (e.g. "020006J").
 */
export function readDog(bytes) {
  const d = bytes.subarray(DOG_HEADER_BYTES);
  if (d.length < 32) throw new Error('DOG file too short');
  const levels = Math.abs(d.readInt16BE(0));
  const key = d.readInt16BE(4);
  const joeCount = d.readInt16BE(6);
  const personCount = d.readInt16BE(8);
  const personAt = d.readUInt16BE(22);
  const againAt = d.readUInt16BE(26);
  const joeAt = 32 + 96 * levels;
  if (key < 0 || key > 99 || joeCount < 0 || personCount < 0) throw new Error('DOG header out of range');
  const name = (id, who) => `${String(key).padStart(2, '0')}${id}${who}`;
  const hex = (id) => (id & 0xffff).toString(16).toUpperCase().padStart(4, '0');
  const out = [];
  const joe = readLines(d, joeAt, joeCount);
  joe.forEach((l, i) => out.push({ prefix: name(i === 0 ? 'SSSS' : hex(l.id), 'J'), who: 'J', text: l.text }));
  for (const l of readLines(d, personAt, personCount)) out.push({ prefix: name(hex(l.id), 'P'), who: 'P', text: l.text });
  const person2 = readString(d, againAt, 2);
  const joe2 = readString(d, person2.next, 2);
  out.push({ prefix: name('XXXX', 'P'), who: 'P', text: person2.text }, { prefix: name('XXXX', 'J'), who: 'J', text: joe2.text });
  return out;
}

/** A line's spoken segments: [{ index (from 0), text }], split at its `*` commands; empty ones left out. */
export function segments(text) {
  const out = [];
  let index = 0;
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (text[i] !== '*') {
      i++;
      continue;
    }
    out.push({ index, text: text.slice(start, i) });
    const command = text.slice(i + 1, i + 3);
    i += 3 + (command === 'XY' ? 11 : 0);
    index++;
    start = i;
  }
  if (start < text.length) out.push({ index, text: text.slice(start) });
  return out.map((s) => ({ index: s.index, text: s.text.trim() })).filter((s) => s.text.length > 0);
}

/**
 * Spoken conversation lines with their text: [{ name, offset, size, speaker, text }] (name of the
 * .SB entry, its bytes in `file`), sorted by name. Joe King is `joe`; the other speaker is named
 * after the conversation file (APE2.DOG → `ape`). Segments without a voice file are left out.
 */
export function queenLines(file = QUEEN_FILE) {
  if (!fs.existsSync(file)) return [];
  const buf = fs.readFileSync(file);
  const table = readQueenTable(buf);
  const lines = new Map();
  for (const [dogName, entry] of [...table].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!dogName.endsWith('.DOG')) continue;
    const person = dogName.replace(/\.DOG$/, '').replace(/\d+$/, '').toLowerCase();
    for (const line of readDog(buf.subarray(entry.offset, entry.offset + entry.size))) {
      for (const seg of segments(line.text)) {
        const name = `${line.prefix}${(seg.index + 1).toString(16).toUpperCase()}.SB`;
        const sb = table.get(name);
        if (!sb || lines.has(name)) continue;
        lines.set(name, { name, offset: sb.offset, size: sb.size, speaker: line.who === 'J' ? 'joe' : person, text: seg.text });
      }
    }
  }
  return [...lines.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
