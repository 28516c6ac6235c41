import t from 'tap';
import { Worker } from 'node:worker_threads';
import { PcmRing } from './pcm-ring.js';

function pcmBytes(values: number[]): Buffer {
  const b = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => b.writeInt16LE(v, i * 2));
  return b;
}

t.test('writes wrap around and read back exactly', async (t) => {
  const ring = PcmRing.create(8);
  t.equal(ring.write(0, pcmBytes([1, 2, 3, 4, 5, 6])), 6);
  ring.release(5);
  t.equal(ring.freeSamples(6), 7);
  t.equal(ring.write(6, pcmBytes([7, 8, 9, 10, 11, 12, 13])), 7, 'fills to the released point');
  const out = new Int16Array(8);
  ring.readPcm(5, 13, out);
  t.same([...out], [6, 7, 8, 9, 10, 11, 12, 13]);
  const f = new Float32Array(2);
  ring.readFloat(11, 13, f);
  t.same([...f], [12 / 32768, 13 / 32768]);
});

t.test('never overwrites unreleased samples', async (t) => {
  const ring = PcmRing.create(4);
  t.equal(ring.write(0, pcmBytes([1, 2, 3, 4, 5])), 4, 'only what fits');
  t.equal(ring.write(4, pcmBytes([9])), 0, 'full until released');
  ring.release(2);
  ring.release(1); // never backwards
  t.equal(ring.freeSamples(4), 2);
});

t.test('a worker thread sees what the producer wrote (shared memory)', async (t) => {
  const ring = PcmRing.create(16);
  ring.write(0, pcmBytes([100, -200, 300]));
  const code = `
    const { workerData, parentPort } = require('node:worker_threads');
    const v = new Int16Array(workerData, 16, 3);
    parentPort.postMessage([...v]);
    new Int32Array(workerData, 0, 4)[1] = 3;`;
  const w = new Worker(code, { eval: true, workerData: ring.sab });
  const got = await new Promise((r) => w.once('message', r));
  await new Promise((r) => w.once('exit', r));
  t.same(got, [100, -200, 300]);
  t.equal(ring.freeSamples(3), 16, 'release by the consumer frees space');
});

t.test('random writes at any alignment, offset and wrap point read back as the little-endian samples sent', async (t) => {
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 40; round++) {
    const capacity = 5 + rand(60);
    const ring = PcmRing.create(capacity);
    const expected: number[] = [];
    let pos = 0;
    let released = 0;
    for (let w = 0; w < 30; w++) {
      const count = rand(capacity + 4);
      // The bytes sit at an odd or even place inside a bigger buffer, behind `skip` bytes the
      // caller asks to skip (byteOffset), as slices of agent messages do.
      const lead = rand(3);
      const skip = rand(2) * 2 + rand(2);
      const backing = Buffer.alloc(lead + skip + count * 2 + rand(2));
      for (let i = 0; i < backing.length; i++) backing[i] = rand(256);
      const pcm = backing.subarray(lead);
      const wrote = ring.write(pos, pcm, skip);
      const fits = Math.min((pcm.length - skip) >> 1, capacity - (pos - released));
      t.equal(wrote, Math.max(0, fits), `round ${round} write ${w}: only whole samples that fit`);
      for (let i = 0; i < wrote; i++) expected.push(pcm.readInt16LE(skip + i * 2));
      pos += wrote;
      if (rand(2) === 1) released += rand(pos - released + 1);
      ring.release(released);
    }
    const from = Math.max(released, pos - capacity);
    const out = new Int16Array(pos - from);
    ring.readPcm(from, pos, out);
    t.same([...out], expected.slice(from), `round ${round}: the ring holds exactly the samples written`);
  }
});
