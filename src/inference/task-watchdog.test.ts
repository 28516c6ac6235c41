import t from 'tap';
import { TaskWatchdog } from './task-watchdog.js';

// The watchdog's timer is unref'd (it never holds a server open): this keeps the test's loop alive.
const keepAlive = setInterval(() => undefined, 1000);
t.teardown(() => clearInterval(keepAlive));

t.test('a task older than the timeout is aborted with a TimeoutError; its listener runs once', async (t) => {
  const dog = new TaskWatchdog(100);
  t.teardown(() => dog.stop());
  t.equal(dog.checkEveryMs, 10, 'checks every tenth of the timeout');
  const started = performance.now();
  const w = dog.watch();
  let calls = 0;
  const aborted = new Promise<number>((resolve) => w.addEventListener('abort', () => {
    calls++;
    resolve(performance.now() - started);
  }));
  const after = await aborted;
  t.ok(after >= 99, `aborted after ${after.toFixed(0)} ms, not before the timeout`);
  t.ok(w.aborted);
  t.ok(w.reason instanceof DOMException && (w.reason as DOMException).name === 'TimeoutError', 'TimeoutError');
  t.match(String((w.reason as Error).message), /longer than 100 ms/);
  w.abort('again');
  t.equal(calls, 1, 'aborting twice calls the listener once');
  t.equal(dog.size, 0, 'no longer watched');
});

t.test('a task done in time is never aborted, and the timer stops once nothing is watched', async (t) => {
  const dog = new TaskWatchdog(100);
  t.teardown(() => dog.stop());
  const quick = dog.watch();
  quick.addEventListener('abort', () => t.fail('a finished task must not be aborted'));
  dog.done(quick);
  const slow = dog.watch();
  await new Promise<void>((resolve) => slow.addEventListener('abort', () => resolve()));
  t.notOk(quick.aborted, 'the finished task was left alone while a later one timed out');
  // Nothing watched: the interval ends at its next check (an idle server has no timer waking it).
  while (dog.running) await new Promise((r) => setTimeout(r, dog.checkEveryMs));
  t.notOk(dog.running);
  const again = dog.watch();
  t.ok(dog.running, 'and starts again with the next task');
  dog.done(again);
});

t.test('a removed listener is not called (Piscina removes its own when a task settles)', async (t) => {
  const dog = new TaskWatchdog(100);
  t.teardown(() => dog.stop());
  const w = dog.watch();
  w.addEventListener('abort', () => t.fail('removed'));
  w.removeEventListener();
  const other = dog.watch();
  await new Promise<void>((resolve) => other.addEventListener('abort', () => resolve()));
  t.ok(w.aborted, 'still marked aborted');
});

t.test('the check interval is a tenth of the timeout, between 10 and 250 ms', async (t) => {
  t.equal(new TaskWatchdog(100).checkEveryMs, 10);
  t.equal(new TaskWatchdog(1000).checkEveryMs, 100);
  t.equal(new TaskWatchdog(5000).checkEveryMs, 250);
  t.equal(new TaskWatchdog(600_000).checkEveryMs, 250);
});
