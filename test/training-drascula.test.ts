import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// training/lib/drascula.mjs reads the text tables of the game's drascula.dat and pairs each voice
// file with its line. The real file comes from a Debian package that CI does not install, so the
// test writes a file of the same layout (documented in the module) and checks the parser on it.
// Plain JS outside the build, imported from the repository root.
const drascula = (await import(path.resolve('training/lib/drascula.mjs'))) as {
  readDrasculaTexts(file: string): Record<string, string[]>;
  drasculaLines(dir: string): { file: string; prefix: string; index: number; speaker: string; text: string }[];
};

const TABLES = ['text', 'textd', 'textb', 'textbj', 'texte', 'texti', 'textl', 'textp', 'textt', 'textvb', 'textsys', 'texthis', 'textverbs', 'textmisc', 'textd1'];

const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);

/**
 * One language's bytes as the game stores them: entry 0 empty; each entry's region (its NUL-padded
 * text, then two bytes that hold the next region's size) is preceded by its own size.
 */
function langBytes(texts: string[]): Buffer {
  const sizes = texts.map((s) => {
    const n = Buffer.byteLength(s, 'latin1') + 3; // text, NUL, the next region's size
    return n + (n % 2);
  });
  const parts: Buffer[] = [Buffer.alloc(2), u16(4), Buffer.alloc(2), u16(sizes[0] ?? 0)];
  texts.forEach((s, i) => {
    const b = Buffer.alloc(sizes[i]!);
    b.write(s, 0, 'latin1');
    if (i + 1 < texts.length) u16(sizes[i + 1]!).copy(b, b.length - 2);
    parts.push(b);
  });
  return Buffer.concat(parts);
}

function datFile(tables: Record<string, string[][]>, langs: number): Buffer {
  const junk = Buffer.from('DRASCULA\x00\x06 other game data, whose layout the parser must not need \x00\x02\x00\x0f', 'latin1');
  const parts: Buffer[] = [junk, u16(langs)];
  for (const name of TABLES) {
    const perLang = tables[name] ?? Array.from({ length: langs }, () => ['X']);
    parts.push(u16(perLang[0]!.length + 1));
    for (let l = 0; l < langs; l++) {
      const bytes = langBytes(perLang[l]!);
      parts.push(u16(bytes.length), bytes);
    }
  }
  return Buffer.concat(parts);
}

t.test('drascula.dat: English text tables found by their shape and read entry by entry', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drascula-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const text = ["THAT'S THE SECOND BIGGEST DOOR", 'NOT REALLY', 'A', "IT'S A COFFIN IN THE SHAPE OF A CROSS"];
  const textd = Array.from({ length: 70 }, (_, i) => `DRASCULA LINE ${i + 1}`);
  const dat = datFile({
    text: [text, text.map((s) => `ES ${s}`)],
    textd: [textd, textd.map((s) => `ES ${s}`)],
    texti: [['MASTER, THIS IS NOT WORKING'], ['AMO']],
  }, 2);
  fs.writeFileSync(path.join(dir, 'drascula.dat'), dat);

  const texts = drascula.readDrasculaTexts(path.join(dir, 'drascula.dat'));
  t.same(Object.keys(texts), TABLES, 'all fifteen tables');
  t.same(texts.text, ['', ...text], 'entry 0 is empty, then the English lines in order (not the second language)');
  t.equal(texts.textd!.length, 71);
  t.equal(texts.textd![69], 'DRASCULA LINE 69');
  t.same(texts.texti, ['', 'MASTER, THIS IS NOT WORKING']);

  // Voice files: prefix → table and speaker; Drascula's table from entry 68 on is the blind man.
  for (const f of ['1.ALS', '4.ALS', '9.ALS', 'D2.ALS', 'D68.ALS', 'I1.ALS', 'S1.ALS', 'readme.txt']) fs.writeFileSync(path.join(dir, f), Buffer.alloc(16, 0x80));
  const lines = drascula.drasculaLines(dir);
  t.same(lines.map((l) => [path.basename(l.file), l.speaker, l.text]), [
    ['1.ALS', 'hacker', "THAT'S THE SECOND BIGGEST DOOR"],
    ['4.ALS', 'hacker', "IT'S A COFFIN IN THE SHAPE OF A CROSS"],
    ['D2.ALS', 'drascula', 'DRASCULA LINE 2'],
    ['D68.ALS', 'blind', 'DRASCULA LINE 68'],
    ['I1.ALS', 'igor', 'MASTER, THIS IS NOT WORKING'],
  ], 'lines without a text entry (9) or a known table (S) are left out');
});

t.test('drascula.dat: a file without the table section is refused with a clear error; no package → no lines', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'drascula-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const dat = datFile({}, 1);
  fs.writeFileSync(path.join(dir, 'drascula.dat'), dat.subarray(0, dat.length - 3)); // truncated
  t.throws(() => drascula.readDrasculaTexts(path.join(dir, 'drascula.dat')), /text tables not found/);
  t.same(drascula.drasculaLines(path.join(dir, 'missing')), []);
});
