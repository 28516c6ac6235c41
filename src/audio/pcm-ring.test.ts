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
