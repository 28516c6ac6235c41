import t from 'tap';
import { Reconnector } from './reconnect.js';

// The backoff timers are unref'd (they must not hold a server open): keep this test's loop alive.
const keepAlive = setInterval(() => undefined, 1000);
t.teardown(() => clearInterval(keepAlive));

t.test('backs off, reconnects, counts afresh after success', async (t) => {
  let failures = 2;
  const delays: number[] = [];
  const reconnected = new Promise<number>((resolve) => {
    const r = new Reconnector({
      open: async () => {
        if (failures-- > 0) throw new Error('refused');
      },
      onGiveUp: () => t.fail('gave up'),
      onReconnected: resolve,
      onAttemptFailed: () => delays.push(-1),
      baseMs: 5,
    });
    delays.push(r.schedule()!);
  });
  t.equal(await reconnected, 3, 'third attempt succeeded');
  t.same(delays, [5, -1, -1], 'first delay is the base; two failures were reported');
});

t.test('gives up once after maxAttempts failures; stop() cancels', async (t) => {
  let gaveUp = 0;
  await new Promise<void>((resolve) => {
    const r = new Reconnector({ open: () => Promise.reject(new Error('no')), onGiveUp: () => { gaveUp++; resolve(); }, maxAttempts: 3, baseMs: 1 });
    r.schedule();
  });
  t.equal(gaveUp, 1);
  let opened = 0;
  const r = new Reconnector({ open: async () => { opened++; }, onGiveUp: () => undefined, baseMs: 1 });
  r.schedule();
  r.stop();
  // A second reconnector with the same delay, scheduled after: timers of equal delay fire in the
  // order they were set, so once it has opened, the stopped one would have too.
  await new Promise<void>((resolve) => new Reconnector({ open: async () => resolve(), onGiveUp: () => undefined, baseMs: 1 }).schedule());
  t.equal(opened, 0, 'no attempt after stop');
  t.equal(r.schedule(), null);
});
