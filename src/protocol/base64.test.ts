import t from 'tap';
import { base64ByteLength, isStrictBase64 } from './base64.js';

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
