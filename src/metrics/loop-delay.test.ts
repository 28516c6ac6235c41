import t from 'tap';
import { LoopDelayMonitor } from './loop-delay.js';

/** Let the loop run (timers, I/O) until the monitor has recorded `n` more ticks. */
async function ticks(m: LoopDelayMonitor, n: number): Promise<void> {
  const target = m.samples + n;
  while (m.samples < target) await new Promise((r) => setImmediate(r));
}

// How small an idle reading is depends on how busy the host is (bench/ measures loop delay under
// load); what holds on any host: readings are delays (resolution subtracted, never negative) and a
// blocking task shows at least as its length.
t.test('readings are ordered and never negative; a blocking task shows as its length', async (t) => {
  const m = new LoopDelayMonitor(2);
  await ticks(m, 5);
  const idle = m.snapshot();
  t.ok(idle.p50Ms >= 0 && idle.p50Ms <= idle.p99Ms && idle.p99Ms <= idle.maxMs, `idle p50 ${idle.p50Ms} ≤ p99 ${idle.p99Ms} ≤ max ${idle.maxMs} ms`);
  m.reset();
  await ticks(m, 1);
  const until = performance.now() + 30;
  while (performance.now() < until); // block the loop for 30 ms
  await ticks(m, 1); // the tick that was held up by the block
  const blocked = m.snapshot();
  t.ok(blocked.maxMs >= 25, `a 30 ms block shows (max ${blocked.maxMs} ms)`);
  m.stop();
});

// Each tick wakes the main thread (~50 µs of CPU on a VM): the server's monitor must not tick
// more than about every 10 ms. Ticks cannot come faster than the resolution, so n of them take at
// least n × resolution of wall time (however slow the host, never less).
t.test('the default monitor wakes the loop at most every 10 ms', async (t) => {
  const m = new LoopDelayMonitor();
  t.ok(m.resolutionMs >= 10, `resolution ${m.resolutionMs} ms`);
  await ticks(m, 1);
  const t0 = performance.now();
  await ticks(m, 10);
  const elapsed = performance.now() - t0;
  t.ok(elapsed >= 10 * 10 - 2, `10 ticks took ${elapsed.toFixed(1)} ms`);
  m.stop();
});
