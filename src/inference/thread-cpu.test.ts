import t from 'tap';
import { Worker } from 'node:worker_threads';
import { threadCpuMs } from './thread-cpu.js';

const linux = process.platform === 'linux';

t.test('counts this thread only: a busy worker thread gains CPU time, the waiting main thread does not', { skip: !linux && 'Linux /proc only' }, async (t) => {
  const before = threadCpuMs()!;
  t.type(before, 'number');
  const url = new URL('./thread-cpu.js', import.meta.url).href;
  const worker = new Worker(
    `import(${JSON.stringify(url)}).then(({ threadCpuMs }) => {
       const { parentPort } = require('node:worker_threads');
       const a = threadCpuMs();
       let x = 0;
       while (threadCpuMs() - a < 150) x += Math.sqrt(x + 1); // spin until 150 ms of this thread's CPU
       parentPort.postMessage({ a, b: threadCpuMs() });
     });`,
    { eval: true },
  );
  const { a, b } = await new Promise<{ a: number; b: number }>((resolve, reject) => worker.once('message', resolve).once('error', reject));
  await worker.terminate();
  const mainDelta = threadCpuMs()! - before;
  t.ok(b - a >= 150, `worker thread: ${(b - a).toFixed(1)} ms of its own CPU`);
  t.ok(mainDelta < b - a, `main thread, waiting meanwhile: ${mainDelta.toFixed(1)} ms`);
  const r1 = threadCpuMs()!;
  const r2 = threadCpuMs()!;
  t.ok(r2 >= r1, 'readings never go backwards');
});
