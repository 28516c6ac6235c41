import t from 'tap';
import { base64ByteLength, decodeStrictBase64, isStrictBase64 } from './base64.js';

t.test('strict base64: the standard alphabet, padded; nothing Buffer.from would quietly accept', async (t) => {
  for (const n of [0, 1, 2, 3, 4, 5, 1600]) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 73 + 11) & 255));
    const s = bytes.toString('base64');
    t.ok(isStrictBase64(s), `${n} bytes encoded`);
    t.equal(base64ByteLength(s), n, `${n} bytes counted`);
  }
  for (const [s, why] of [
    ['AAE', 'unpadded'], ['AA-_', 'URL-safe alphabet'], ['AA A', 'a space'], ['AA\nA', 'a newline'],
    ['A=AA', 'padding inside'], ['AAA=====', 'too much padding'], ['AAé=', 'a non-ASCII letter'], ['AA$A', 'a symbol'],
  ] as const) t.notOk(isStrictBase64(s), why);
});

t.test('decodeStrictBase64 accepts exactly what isStrictBase64 accepts, and decodes it', async (t) => {
  for (const n of [0, 1, 2, 3, 4, 5, 1600, 4800]) {
    const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 73 + 11) & 255));
    t.same(decodeStrictBase64(bytes.toString('base64')), bytes, `${n} bytes round trip`);
  }
  // Non-canonical but strict (unused bits set in the last character): decoded as Buffer.from does.
  for (const s of ['QR==', 'QUJ=', 'AAB=']) t.same(decodeStrictBase64(s), Buffer.from(s, 'base64'), `${s}: non-canonical, accepted`);
  // Random strings over an alphabet with near misses: both checks agree on every one.
  const alphabet = 'AQgw+/=-_ $\né中.';
  let seed = 7;
  let disagreements = 0;
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    let s = '';
    const len = 4 * (1 + (i % 4)) + (i % 7 === 0 ? 1 : 0);
    for (let k = 0; k < len; k++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      s += seed % 100 < 88 ? 'AQgw+/'[seed % 6] : alphabet[seed % alphabet.length];
    }
    const d = decodeStrictBase64(s);
    if ((d !== null) !== isStrictBase64(s)) disagreements++;
    if (d !== null) {
      accepted++;
      if (!d.equals(Buffer.from(s, 'base64'))) disagreements++;
    }
  }
  t.equal(disagreements, 0, 'same verdict and bytes as the pattern check');
  t.ok(accepted > 1000 && accepted < 19_000, `both verdicts exercised (${accepted} accepted)`);
  for (const s of ['AAE', 'AA-_', 'AA A', 'A=AA', 'AAA=====', 'AAé=', 'AA$A', '====']) t.equal(decodeStrictBase64(s), null, JSON.stringify(s));
});

t.test('decodeStrictBase64 and the pattern agree on every 4-character string over near-miss characters', async (t) => {
  const chars = ['A', 'z', '9', '+', '/', '=', '-', '_', ' ', '\n', '\0', '.', 'é', '\u0100', '中', '\uD83D'];
  let disagreements = 0;
  let accepted = 0;
  const visit = (s: string): void => {
    if (s.length < 4) {
      for (const c of chars) visit(s + c);
      return;
    }
    const d = decodeStrictBase64(s);
    if ((d !== null) !== isStrictBase64(s) || (d !== null && !d.equals(Buffer.from(s, 'base64')))) disagreements++;
    if (d !== null) accepted++;
  };
  visit('');
  t.equal(disagreements, 0, `${chars.length ** 4} strings: same verdict and bytes`);
  t.ok(accepted > 500, `${accepted} accepted`);
  // One bad character anywhere in a long valid string, as a broken agent might send.
  const good = Buffer.from(Array.from({ length: 4800 }, (_, i) => (i * 37) & 255)).toString('base64');
  for (const c of chars.slice(6)) { // not '=': padding in the last place is valid
    for (const at of [0, 1, 2400, good.length - 3, good.length - 1]) {
      const s = good.slice(0, at) + c + good.slice(at + 1);
      if (decodeStrictBase64(s) !== null) t.fail(`${JSON.stringify(c)} at ${at} accepted`);
    }
  }
});

t.test('decoded chunks own their bytes: later decodes (across slab boundaries) never change an earlier one', async (t) => {
  const kept: Array<{ got: Buffer; want: Buffer }> = [];
  for (let i = 0; i < 200; i++) {
    const n = [4800, 1, 0, 9600, 33_000, 4801][i % 6]!;
    const want = Buffer.from(Array.from({ length: n }, (_, k) => (k * 13 + i) & 255));
    const got = decodeStrictBase64(want.toString('base64'));
    if (!got) return t.fail(`chunk ${i} not decoded`);
    kept.push({ got, want });
    // A rejected string in between must not disturb anything either.
    t.equal(decodeStrictBase64(`${want.toString('base64').slice(4)}A A=`), null);
  }
  t.ok(kept.every(({ got, want }) => got.equals(want)), 'every kept chunk still holds its own bytes');
});
