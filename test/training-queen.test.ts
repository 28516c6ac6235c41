import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// training/lib/queen.mjs reads Flight of the Amazon Queen's resource file (queen.1c) and pairs each
// conversation voice file with its text. The real file comes from a Debian package that CI does not
// install, so the test writes a file of the same layout (documented in the module) and checks the
// reader on it. Plain JS outside the build, imported from the repository root.
interface Line { name: string; offset: number; size: number; speaker: string; text: string }
const queen = (await import(path.resolve('training/lib/queen.mjs'))) as {
  readQueenTable(buf: Buffer): Map<string, { offset: number; size: number }>;
  readDog(bytes: Buffer): { prefix: string; who: string; text: string }[];
  segments(text: string): { index: number; text: string }[];
  queenLines(file: string): Line[];
};

const i16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeInt16BE(n);
  return b;
};

/** A conversation file as the game stores it: 20-byte header, fields, tree, Joe's and the person's lines, the "again" pair. */
function dogFile(key: number, joe: Array<[number, string]>, person: Array<[number, string]>, again: [string, string]): Buffer {
  const levels = 1;
  const body: number[] = [];
  const at = () => body.length;
  const push = (b: Buffer) => body.push(...b);
  const pad = (align: number) => {
    while (body.length % align) body.push(0);
  };
  const str = (s: string, align: number) => {
    push(Buffer.from([s.length]));
    push(Buffer.from(s, 'latin1'));
    if (s.length) pad(align);
  };
  push(Buffer.alloc(32 + 96 * levels)); // fields, filled in below; the dialogue tree (unused here)
  for (const [id, s] of joe) {
    push(Buffer.alloc(2));
    push(i16(id));
    str(s, 4);
  }
  const personAt = at();
  for (const [id, s] of person) {
    push(Buffer.alloc(2));
    push(i16(id));
    str(s, 4);
  }
  const againAt = at();
  str(again[0], 2);
  str(again[1], 2);
  const d = Buffer.from(body);
  i16(levels).copy(d, 0);
  i16(key).copy(d, 4);
  i16(joe.length).copy(d, 6);
  i16(person.length).copy(d, 8);
  d.writeUInt16BE(personAt, 22);
  d.writeUInt16BE(againAt, 26);
  return Buffer.concat([Buffer.from('AmBk\x00\x0f\x00\x01 header bytes', 'latin1').subarray(0, 20), d]);
}

/** queen.1c: QTBL, version, compression, count, 21-byte entries, then the entries' bytes. */
function resourceFile(entries: Array<[string, Buffer]>): Buffer {
  const head = Buffer.concat([Buffer.from('QTBLCEM10', 'latin1'), Buffer.from([0, 0, 0, 1]), Buffer.from([entries.length >> 8, entries.length & 255])]);
  let offset = head.length + 21 * entries.length;
  const table = entries.map(([name, bytes]) => {
    const e = Buffer.alloc(21);
    e.write(name, 0, 'latin1');
    e[12] = 1;
    e.writeUInt32BE(offset, 13);
    e.writeUInt32BE(bytes.length, 17);
    offset += bytes.length;
    return e;
  });
  return Buffer.concat([head, ...table, ...entries.map(([, b]) => b)]);
}

const mp3 = (tag: string) => Buffer.from(`\xff\xe3 fake mpeg bytes of ${tag}`, 'latin1');

t.test('segments: text between * commands, numbered from 0 in order; *XY carries 11 more characters; empty ones left out', async (t) => {
  t.same(queen.segments('Hello there.*02'), [{ index: 0, text: 'Hello there.' }]);
  t.same(queen.segments('Ummm....*06Hi, I\'m Joe King.*03'), [{ index: 0, text: 'Ummm....' }, { index: 1, text: 'Hi, I\'m Joe King.' }]);
  t.same(queen.segments('*01*01Ooop oop!'), [{ index: 2, text: 'Ooop oop!' }], 'leading commands: the text is segment 2');
  t.same(queen.segments('Wait.*XY00(237,112)Now go.'), [{ index: 0, text: 'Wait.' }, { index: 1, text: 'Now go.' }], '*XY00(237,112) is one command');
  t.same(queen.segments('No commands at all'), [{ index: 0, text: 'No commands at all' }]);
  t.same(queen.segments(''), []);
});

t.test('queenLines: voice file names from the talk key, line id (hex), J/P and segment; texts, speakers, files without text or voice left out', async (t) => {
  const dog = dogFile(2, [[0, 'Hello.*06I\'m Joe.*03'], [6, 'Nice plane.*02'], [0x1e, 'Bye.']], [[6, '*01Thanks, King.'], [9, 'Never mind.']], ['*01Back again?', 'Yes.*02']);
  const dog2 = dogFile(7, [[0, ''], [3, 'Second talk.']], [[3, 'Indeed.']], ['', '']); // Joe's first line is his opening one (SSSS), here silent
  const entries: Array<[string, Buffer]> = [
    ['ZEP1.DOG', dog], ['ZEP2.DOG', dog2],
    ['02SSSSJ1.SB', mp3('a')], ['02SSSSJ2.SB', mp3('b')], ['020006J1.SB', mp3('c')], ['02001EJ1.SB', mp3('d')],
    ['020006P2.SB', mp3('e')], // 020009P1 (Never mind.) has no voice file
    ['02XXXXP2.SB', mp3('f')], ['02XXXXJ1.SB', mp3('g')],
    ['070003J1.SB', mp3('h')], ['070003P1.SB', mp3('i')],
    ['OTHER.PCX', Buffer.from('not speech')],
  ];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'queen-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'queen.1c');
  const buf = resourceFile(entries);
  fs.writeFileSync(file, buf);

  const lines = queen.queenLines(file);
  t.same(lines.map((l) => [l.name, l.speaker, l.text]), [
    ['020006J1.SB', 'joe', 'Nice plane.'],
    ['020006P2.SB', 'zep', 'Thanks, King.'],
    ['02001EJ1.SB', 'joe', 'Bye.'],
    ['02SSSSJ1.SB', 'joe', 'Hello.'],
    ['02SSSSJ2.SB', 'joe', 'I\'m Joe.'],
    ['02XXXXJ1.SB', 'joe', 'Yes.'],
    ['02XXXXP2.SB', 'zep', 'Back again?'],
    ['070003J1.SB', 'joe', 'Second talk.'],
    ['070003P1.SB', 'zep', 'Indeed.'],
  ]);
  for (const l of lines) t.equal(buf.subarray(l.offset, l.offset + l.size).toString('latin1').startsWith('\xff\xe3'), true, `${l.name}: offset and size point at its bytes`);
  t.same(queen.queenLines(path.join(dir, 'absent.1c')), [], 'no package: no lines');
});

t.test('a damaged resource file is refused with a clear error', async (t) => {
  const buf = resourceFile([['A.SB', mp3('a')]]);
  t.throws(() => queen.readQueenTable(Buffer.from('NOTQ and more bytes here')), /no QTBL/);
  t.throws(() => queen.readQueenTable(buf.subarray(0, 20)), /truncated/);
  const outside = Buffer.from(buf);
  outside.writeUInt32BE(1 << 30, 15 + 17);
  t.throws(() => queen.readQueenTable(outside), /outside the file/);
  t.throws(() => queen.readDog(Buffer.alloc(30)), /too short/);
});
