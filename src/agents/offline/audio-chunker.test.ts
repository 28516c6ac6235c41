import t from 'tap';
import { AudioChunker } from './audio-chunker.js';

function ramp(bytes: number, start: number): Buffer {
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (start + i) & 0xff;
  return b;
}

t.test('fixed-size chunks across pieces, short last chunk, nothing lost', async (t) => {
  const chunker = new AudioChunker(10);
  const pieces = [ramp(4, 0), ramp(23, 4), ramp(2, 27), ramp(10, 29)];
  const out: Buffer[] = [];
  for (const p of pieces) out.push(...chunker.push(p));
  const last = chunker.flush();
  t.same(out.map((c) => c.length), [10, 10, 10]);
  t.equal(last?.length, 9);
  t.ok(Buffer.concat([...out, last!]).equals(Buffer.concat(pieces)), 'same bytes, same order');
  t.equal(chunker.flush(), null, 'flush empties');
});

t.test('exact multiples need no flush; chunks inside a piece are views', async (t) => {
  const chunker = new AudioChunker(4);
  const piece = ramp(8, 0);
  const out = chunker.push(piece);
  t.equal(out.length, 2);
  t.equal(out[0]!.buffer, piece.buffer, 'no copy');
  t.equal(chunker.flush(), null);
});

t.test('rejects odd or empty chunk sizes', async (t) => {
  t.throws(() => new AudioChunker(3));
  t.throws(() => new AudioChunker(0));
});
