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

/** A dispatcher whose starts are recorded and finished by hand: single tasks and batches. */
function handDispatcher(slots: number, maxTasks: number) {
  const started: string[][] = [];
  const yields: number[] = [];
  const finishSingle = new Map<string, (err: unknown, r?: string) => void>();
  const batches: Array<{ tasks: string[]; slot: number; done: (err: unknown, results?: string[]) => void }> = [];
  const d = new DeadlineDispatcher<string, string>(() => slots, (name, done) => {
    started.push([name]);
    finishSingle.set(name, done);
  }, {
    maxTasks,
    maxBatches: slots,
    start: (tasks, slot, done) => {
      started.push(tasks);
      batches.push({ tasks, slot, done });
    },
    requestYield: (slot) => yields.push(slot),
  });
  return { d, started, yields, finishSingle, batches };
}

t.test('batches: a freed slot takes, in key order, the waiting tasks that would wait for it anyway, up to maxTasks', async (t) => {
  const { d, started, finishSingle, batches } = handDispatcher(1, 4);
  const all = new Map<string, Promise<string>>();
  for (const [name, key] of [['a', 1], ['d', 40], ['b', 20], ['f', 60], ['c', 30], ['e', 50]] as const) all.set(name, run(d, name, key));
  t.same(started, [['a']], 'a lone task starts alone');
  finishSingle.get('a')!(null, 'A');
  t.equal(await all.get('a'), 'A');
  t.same(started[1], ['b', 'c', 'd', 'e'], 'the freed slot takes four, earliest first; the fifth waits');
  t.equal(d.queued, 1);
  t.equal(d.batchesStarted, 1);
  t.equal(d.batchedTasks, 4);
  batches[0]!.done(null, ['B', 'C', 'D', 'E']);
  t.same(await Promise.all(['b', 'c', 'd', 'e'].map((n) => all.get(n)!)), ['B', 'C', 'D', 'E'], 'each task gets its own result');
  t.same(started[2], ['f'], 'then the last one, alone: nothing else waits');
  finishSingle.get('f')!(null, 'F');
  t.equal(await all.get('f'), 'F');
  t.ok(d.idle);
  t.equal(d.handOffs, 3, 'three hand-offs for six tasks: a, the batch, f');
});

t.test('batches: never while another slot is free for a waiting task', async (t) => {
  const { d, started, finishSingle, batches } = handDispatcher(2, 4);
  const x = run(d, 'x', 10);
  const y = run(d, 'y', 20);
  t.same(started, [['x'], ['y']], 'two free slots: one task each');
  const rest = [run(d, 'p', 30), run(d, 'q', 40), run(d, 'r', 50)];
  finishSingle.get('x')!(null, 'X');
  await x;
  t.same(started[2], ['p', 'q', 'r'], 'one slot freed, three waiting: all three go to it');
  finishSingle.get('y')!(null, 'Y');
  await y;
  t.equal(started.length, 3, 'nothing left to start');
  batches[0]!.done(null, ['P', 'Q', 'R']);
  t.same(await Promise.all(rest), ['P', 'Q', 'R']);
});

t.test('batches yield: an earlier task queued behind a batch asks it to stop; its rest runs after the urgent one', async (t) => {
  const { d, started, yields, finishSingle, batches } = handDispatcher(1, 4);
  const a = run(d, 'a', 1);
  const later = [run(d, 'b', 20), run(d, 'c', 30), run(d, 'd', 40)];
  finishSingle.get('a')!(null, 'A');
  await a;
  t.same(started[1], ['b', 'c', 'd']);
  const behind = run(d, 'z', 90);
  t.same(yields, [], 'a task due after the whole batch does not ask it to yield');
  const urgent = run(d, 'u', 25);
  t.same(yields, [batches[0]!.slot], 'one due before the batch\'s last does');
  void run(d, 'v', 26);
  t.equal(yields.length, 1, 'asked once per batch');
  t.equal(d.yieldsAsked, 1);
  batches[0]!.done(null, ['B']); // the worker stopped after its first window
  t.equal(await later[0], 'B');
  t.same(started[2], ['u', 'v', 'c', 'd'], 'the urgent ones first, then the rest of the batch, by key');
  batches[1]!.done(null, ['U', 'V', 'C', 'D']);
  t.same(await Promise.all([urgent, later[1], later[2]]), ['U', 'C', 'D']);
  t.same(started[3], ['z']);
  finishSingle.get('z')!(null, 'Z');
  t.equal(await behind, 'Z');
});

t.test('batches: a failed batch fails each of its tasks; one with no result too; a second call back is ignored', async (t) => {
  const { d, finishSingle, batches } = handDispatcher(1, 3);
  const a = run(d, 'a', 1);
  const group = [run(d, 'b', 2), run(d, 'c', 3)];
  finishSingle.get('a')!(null, 'A');
  await a;
  batches[0]!.done(new Error('worker crashed'));
  for (const p of group) await t.rejects(p, /worker crashed/);
  batches[0]!.done(null, ['late']);
  t.equal(d.queued, 0);
  t.ok(d.idle, 'the slot is free again, once');
  const b = run(d, 'x', 1);
  const group2 = [run(d, 'y', 2), run(d, 'w', 3)];
  finishSingle.get('x')!(null, 'X');
  await b;
  batches[1]!.done(null, []);
  for (const p of group2) await t.rejects(p, /without results/);
  let releaseFirst: (() => void) | undefined;
  const throwing = new DeadlineDispatcher<string, string>(() => 1, (name, done) => {
    releaseFirst = () => done(null, name);
  }, { maxTasks: 4, maxBatches: 1, start: () => { throw new Error('post failed'); }, requestYield: () => undefined });
  const held = run(throwing, 'first', 0);
  const fails = [run(throwing, 'p', 1), run(throwing, 'q', 2)];
  releaseFirst!();
  t.equal(await held, 'first');
  for (const p of fails) await t.rejects(p, /post failed/, 'a batch whose start throws fails its tasks');
  t.ok(throwing.idle, 'and frees its slot');
});

t.test('a real pool: batched windows give the same frames as one window per task, and a batch yields to an urgent window', async (t) => {
  const ring = PcmRing.create(24_000 * 8);
  const pcm = Buffer.alloc(24_000 * 8 * 2);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(6000 * Math.sin(i / 9) * Math.sin(i / 2400)), i * 2);
  ring.write(0, pcm);
  const window = (i: number) => ({
    kind: 'window' as const, ring: ring.sab, sessionId: `s${i}`, turnId: 't', contextStart: i * 12_000, start: i * 12_000 + 9600,
    end: i * 12_000 + 9600 + 48_000, firstFrameIndex: 0, final: true, releaseTo: 0,
  });
  async function runAll(taskWindows: number, urgentAfterFirst: boolean) {
    const pool = new InferencePool({ modelPath: DEFAULT_MODEL_PATH, workers: 1, taskWindows, logger: pino({ level: 'silent' }) });
    await pool.start();
    try {
      const now = performance.now();
      const deadline = (dueInMs: number) => ({ dueAtMs: () => now + dueInMs, stillNeeded: () => true });
      const done: string[] = [];
      const first = pool.runWindow(window(0), deadline(20_000));
      const rest = Array.from({ length: 7 }, (_, k) => pool.runWindow(window(k + 1), deadline(20_000 + (k + 1) * 100)).then((r) => {
        done.push(`w${k + 1}`);
        return r;
      }));
      await first;
      let urgent: Promise<WindowResult> | undefined;
      if (urgentAfterFirst) {
        // The batch of seven has just been handed over: this one is due before all of them.
        urgent = pool.runWindow(window(8), deadline(10_000)).then((r) => {
          done.push('urgent');
          return r;
        });
      }
      const results = await Promise.all(rest);
      if (urgent) await urgent;
      return { bytes: results.map((r) => Buffer.from(r.bytes).toString('base64')), done, batching: pool.batching };
    } finally {
      await pool.close();
    }
  }
  const single = await runAll(1, false);
  const batched = await runAll(8, false);
  t.equal(single.batching.batches, 0, 'INFERENCE_TASK_WINDOWS=1: one window per task');
  t.equal(batched.batching.batches, 1, 'the seven queued behind the first went in one task');
  t.equal(batched.batching.windows, 7);
  t.same(batched.bytes, single.bytes, 'every window\'s frames are the same bytes either way');
  const yielded = await runAll(8, true);
  t.equal(yielded.batching.yields, 1, 'the urgent window asked the batch to yield');
  t.ok(yielded.done.indexOf('urgent') < yielded.done.indexOf('w7'), `the urgent window did not wait for the whole batch (${yielded.done.join(' ')})`);
  t.same(yielded.bytes, single.bytes, 'the yielded batch\'s windows still give the same frames');
});
