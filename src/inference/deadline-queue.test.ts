import t from 'tap';
import pino from 'pino';
import { DeadlineDispatcher, DeadlineHeap } from './deadline-queue.js';
import { InferencePool, type InferenceQueueOrder } from './pool.js';
import { PcmRing } from '../audio/pcm-ring.js';
import { DEFAULT_MODEL_PATH } from '../config/config.js';
import type { WindowResult } from './tasks.js';

const drain = (q: DeadlineHeap<string>): string[] => {
  const out: string[] = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) out.push(x);
  return out;
};

t.test('earliest deadline first; equal deadlines keep arrival order; NaN and Infinity go last', async (t) => {
  const q = new DeadlineHeap<string>();
  for (const [name, d] of [['c', 30], ['a', 10], ['none1', Infinity], ['b1', 20], ['b2', 20], ['none2', NaN], ['a0', 5]] as const) q.push(name, d);
  t.equal(q.size, 7);
  t.same(drain(q), ['a0', 'a', 'b1', 'b2', 'c', 'none1', 'none2']);
  t.equal(q.shift(), undefined, 'empty');
});

t.test('remove takes out exactly that item and keeps the heap ordered', async (t) => {
  const q = new DeadlineHeap<string>();
  const keys = Array.from({ length: 50 }, (_, i) => (i * 37) % 23);
  keys.forEach((k, i) => q.push(`t${i}`, k));
  t.ok(q.remove('t10'));
  t.ok(q.remove('t0'));
  t.notOk(q.remove('stranger'));
  t.equal(q.size, 48);
  const expected = keys.map((key, i) => ({ name: `t${i}`, key, i })).filter((x) => x.i !== 10 && x.i !== 0)
    .sort((a, b) => a.key - b.key || a.i - b.i).map((x) => x.name);
  t.same(drain(q), expected, 'deadline, then arrival');
});

/** The dispatcher's callback as a promise, for the test. */
function run<T, R>(d: DeadlineDispatcher<T, R>, task: T, key: number): Promise<R> {
  return new Promise((resolve, reject) => d.run(task, key, (err, r) => (r === undefined ? reject(err) : resolve(r))));
}

t.test('the dispatcher runs at most `slots` at once, the earliest key first when a slot frees', async (t) => {
  const started: string[] = [];
  const finish = new Map<string, () => void>();
  const d = new DeadlineDispatcher<string, string>(() => 2, (name, done) => {
    started.push(name);
    finish.set(name, () => done(null, name));
  });
  const all = [run(d, 'a', 50), run(d, 'b', 40), run(d, 'late', 90), run(d, 'urgent', 1), run(d, 'mid', 30)];
  t.same(started, ['a', 'b'], 'two slots: the first two start at once');
  t.equal(d.queued, 3);
  finish.get('b')!();
  await all[1];
  t.same(started, ['a', 'b', 'urgent'], 'a freed slot goes to the earliest deadline');
  for (const name of ['a', 'urgent']) finish.get(name)!();
  await Promise.all([all[0], all[3]]);
  t.same(started, ['a', 'b', 'urgent', 'mid', 'late']);
  for (const name of ['mid', 'late']) finish.get(name)!();
  t.same(await Promise.all(all), ['a', 'b', 'late', 'urgent', 'mid']);
  finish.get('a')!();
  t.equal(d.queued, 0, 'a second call back of a finished task changes nothing');
  const failing = new DeadlineDispatcher<string, string>(() => 1, () => { throw new Error('no worker'); });
  await t.rejects(run(failing, 'x', 1), /no worker/, 'a start that throws fails that task only');
  await t.rejects(run(failing, 'y', 1), /no worker/, 'and frees its slot');
  const held = new DeadlineDispatcher<string, string>(() => 1, () => undefined);
  const waiting = [run(held, 'first', 1), run(held, 'second', 2)];
  held.clear(new Error('closing'));
  await t.rejects(waiting[1]!, /closing/, 'clear fails what still waits');
  t.equal(held.queued, 0);
});

/** Windows queued behind a busy worker, in the order they are dispatched; returns the order they ran. */
async function runOrder(order: InferenceQueueOrder, beforeClock = false): Promise<string[]> {
  const pool = new InferencePool({ modelPath: DEFAULT_MODEL_PATH, workers: 1, queue: order, logger: pino({ level: 'silent' }) });
  await pool.start();
  try {
    const ring = PcmRing.create(24_000 * 4);
    const pcm = Buffer.alloc(24_000 * 4 * 2);
    for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 9)), i * 2);
    ring.write(0, pcm);
    const window = (sessionId: string) => ({ kind: 'window' as const, ring: ring.sab, sessionId, turnId: 't', contextStart: 0, start: 0, end: 24_000, firstFrameIndex: 0, final: true, releaseTo: 0 });
    const now = performance.now();
    // The first occupies the worker; the next five are dispatched at once with deadlines in the
    // reverse of their arrival (far enough ahead that no hedge or fill starts).
    const runs: Array<Promise<WindowResult & { name: string }>> = [];
    const dispatch = (name: string, dueInMs: number): void => {
      // beforeClock: no turn clock runs yet (no due time), only the order its turn's pacer estimates.
      const deadline = beforeClock
        ? { dueAtMs: () => undefined, orderAtMs: () => now + dueInMs, stillNeeded: () => true }
        : { dueAtMs: () => now + dueInMs, stillNeeded: () => true };
      runs.push(pool.runWindow(window(name), deadline).then((r) => ({ ...r, name })));
    };
    dispatch('busy', 20_000);
    for (let i = 1; i <= 5; i++) dispatch(`w${i}`, 20_000 - i * 1000);
    const results = await Promise.all(runs);
    return results.sort((a, b) => a.startedAtEpochMs! - b.startedAtEpochMs!).map((r) => r.name);
  } finally {
    await pool.close();
  }
}

t.test('a real pool: the deadline queue runs the most urgent queued window first', async (t) => {
  t.same(await runOrder('deadline'), ['busy', 'w5', 'w4', 'w3', 'w2', 'w1'], 'earliest deadline first');
  t.same(await runOrder('deadline', true), ['busy', 'w5', 'w4', 'w3', 'w2', 'w1'], 'before the clocks run: by the order their pacer gives');
  // The baseline is Piscina's own queue. It is not even FIFO for tasks that carry an AbortSignal
  // (they go through its skip queue, which re-appends a task it cannot place), and it knows no
  // deadlines: only check that it serves them all.
  const fifo = await runOrder('fifo');
  t.same([...fifo].sort(), ['busy', 'w1', 'w2', 'w3', 'w4', 'w5'], 'the baseline serves every window');
});
