import t from 'tap';
import { LoopDelayMonitor } from './loop-delay.js';

t.test('an idle loop reads near zero; a blocking task shows as its length', async (t) => {
  const m = new LoopDelayMonitor(2);
  await new Promise((r) => setTimeout(r, 300));
  const idle = m.snapshot();
  t.ok(idle.p50Ms < 1.5, `idle p50 ${idle.p50Ms} ms (the resolution is not counted as delay)`);
  m.reset();
  await new Promise((r) => setTimeout(r, 20));
  const until = performance.now() + 30;
  while (performance.now() < until); // block the loop for 30 ms
  await new Promise((r) => setTimeout(r, 20));
  const blocked = m.snapshot();
  t.ok(blocked.maxMs >= 25, `a 30 ms block shows (max ${blocked.maxMs} ms)`);
  m.stop();
});
