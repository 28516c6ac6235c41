import t from 'tap';
import { AccessUnitSplitter, isKeyframe, nalTypes } from './annexb.js';

const aud = [0, 0, 0, 1, 0x09, 0xf0];
const sps = [0, 0, 0, 1, 0x67, 1, 2, 3];
const pps = [0, 0, 0, 1, 0x68, 4];
const idr = [0, 0, 1, 0x65, 9, 9, 9, 0, 0, 3, 1];
const p = [0, 0, 1, 0x41, 7, 7];

t.test('splits at access unit delimiters, across arbitrary chunk boundaries', async (t) => {
  const stream = Buffer.from([...aud, ...sps, ...pps, ...idr, ...aud, ...p, ...aud, ...p, 5]);
  for (const size of [1, 2, 3, 5, 7, 1000]) {
    const s = new AccessUnitSplitter();
    const aus: Buffer[] = [];
    for (let at = 0; at < stream.length; at += size) aus.push(...s.push(stream.subarray(at, at + size)));
    const last = s.flush();
    if (last) aus.push(last);
    t.equal(aus.length, 3, `chunk ${size}`);
    t.same(Buffer.concat(aus), stream, `lossless at chunk ${size}`);
    t.same(nalTypes(aus[0]!), [9, 7, 8, 5]);
    t.ok(isKeyframe(aus[0]!));
    t.notOk(isKeyframe(aus[1]!));
  }
});
