import t from 'tap';
import { pino } from 'pino';
import { DeadlineWatch, MIN_TASK_BUDGET_MS, type LateWindowHandlers, type WindowDeadline, type WindowSource } from './window-deadline.js';
import type { WindowResult, WindowTask } from './tasks.js';

const task = (): WindowTask => ({ kind: 'window', ring: new SharedArrayBuffer(16), sessionId: 's', turnId: 't', contextStart: 0, start: 0, end: 800, firstFrameIndex: 6, final: false, releaseTo: 0 });
const result = (threadId: number): WindowResult => ({ bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], frameCount: 1, inferMs: 0, taskMs: 0, audioMs: 33, threadId });

/** Handlers whose original runs are held until released; counts what the races did. */
function handlers(opts: { idle: boolean }) {
  const originals: Array<{ task: WindowTask; release: (r: WindowResult) => void }> = [];
  const seen = { hedges: 0, fills: 0, discarded: [] as WindowSource[], hedgeTasks: [] as WindowTask[], keys: [] as number[] };
  const h: LateWindowHandlers = {
    original: (tk, key, done) => {
      seen.keys.push(key);
      originals.push({ task: tk, release: (r) => done(null, r) });
    },
    hasIdleWorker: () => opts.idle,
    hedge: (tk) => {
      seen.hedgeTasks.push(tk); // the hedge never comes back either
    },
    fill: (_tk, done) => queueMicrotask(() => done(null, result(99))),
    recentSlowestMs: () => 0,
    onHedge: () => seen.hedges++,
    onFill: () => seen.fills++,
    onLateDiscarded: (source) => seen.discarded.push(source),
    logger: pino({ level: 'silent' }),
  };
  return { h, seen, originals, watch: new DeadlineWatch(h) };
}

/** One window raced on `watch`, as a promise. */
function race(watch: DeadlineWatch, tk: WindowTask, deadline: WindowDeadline, key = 7): Promise<{ result: WindowResult; source: WindowSource }> {
  return new Promise((resolve, reject) => watch.run(tk, deadline, key, (err, r, source) => (r ? resolve({ result: r, source: source! }) : reject(err))));
}

t.test('a stuck window: hedged on a free worker, then filled; the late original is discarded and its copies told to skip', async (t) => {
  const { seen, originals, watch } = handlers({ idle: true });
  const due = performance.now(); // already due: the minimum budgets decide
  const { result: r, source } = await race(watch, task(), { dueAtMs: () => due, stillNeeded: () => true });
  t.equal(source, 'fill');
  t.equal(r.threadId, 99, 'the fill worker served it');
  t.equal(seen.hedges, 1, 'hedged first, while a worker was free');
  t.equal(seen.fills, 1);
  t.same(seen.keys, [7], 'the original runs with its queue key');
  t.equal(seen.hedgeTasks[0]?.abandoned, originals[0]!.task.abandoned, 'hedge and original share one abandoned flag');
  t.equal(Atomics.load(new Int32Array(originals[0]!.task.abandoned!), 0), 1, 'queued copies are told to skip');
  t.equal(watch.pending, 0, 'nothing left to watch');
  originals[0]!.release(result(1));
  t.same(seen.discarded, ['original'], 'the late original is discarded');
  watch.stop();
});

t.test('no free worker: no hedge, straight to the fill', async (t) => {
  const { seen, watch } = handlers({ idle: false });
  const started = performance.now();
  const { source } = await race(watch, task(), { dueAtMs: () => undefined, stillNeeded: () => true });
  t.equal(source, 'fill');
  t.equal(seen.hedges, 0);
  t.ok(performance.now() - started >= MIN_TASK_BUDGET_MS - 2, 'not before the minimum budget');
  watch.stop();
});

t.test('a window back in time is used as it is: no hedge, no fill, nothing left to watch', async (t) => {
  const { seen, originals, watch } = handlers({ idle: true });
  const raced = race(watch, task(), { dueAtMs: () => performance.now() + 60_000, stillNeeded: () => true });
  t.equal(watch.pending, 1);
  originals[0]!.release(result(1));
  t.equal(watch.pending, 0, 'forgotten as soon as it is back');
  const { source, result: r } = await raced;
  t.equal(source, 'original');
  t.equal(r.threadId, 1);
  t.equal(seen.hedges + seen.fills, 0);
  watch.stop();
});

t.test('an interrupted turn is not filled: the original still settles the window', async (t) => {
  const { seen, originals, watch } = handlers({ idle: true });
  const raced = race(watch, task(), { dueAtMs: () => performance.now(), stillNeeded: () => false });
  // Past every budget, nothing happens while nobody needs the window: the signal is a twin
  // dispatched just after it, with the same budgets but needed, that has been hedged and filled.
  const twin = handlers({ idle: true });
  const twinRaced = await race(twin.watch, task(), { dueAtMs: () => performance.now(), stillNeeded: () => true });
  t.equal(twinRaced.source, 'fill', 'the twin that is needed was filled');
  t.equal(twin.seen.hedges, 1, 'and hedged before');
  twin.originals[0]!.release(result(2));
  t.equal(seen.hedges + seen.fills, 0, 'neither hedged nor filled');
  originals[0]!.release(result(1));
  t.equal((await raced).source, 'original');
  watch.stop();
  twin.watch.stop();
});

t.test('many windows on one watch: each late one is filled, each one back in time is not, and a due time that moves later postpones the fill', async (t) => {
  const { seen, originals, watch } = handlers({ idle: false });
  const now = performance.now();
  let movedDue = now;
  const stuck = Array.from({ length: 10 }, () => race(watch, task(), { dueAtMs: () => now, stillNeeded: () => true }));
  const moved = race(watch, task(), { dueAtMs: () => movedDue, stillNeeded: () => true });
  const back = Array.from({ length: 10 }, () => race(watch, task(), { dueAtMs: () => now, stillNeeded: () => true }));
  t.equal(watch.pending, 21);
  movedDue = now + 60_000; // the pacer re-anchored that turn: its window is needed much later
  for (const o of originals.slice(11)) o.release(result(1));
  t.same((await Promise.all(back)).map((r) => r.source), Array(10).fill('original'), 'the windows back in time are used');
  t.same((await Promise.all(stuck)).map((r) => r.source), Array(10).fill('fill'), 'every stuck window is filled');
  t.equal(seen.fills, 10, 'and only those');
  t.equal(watch.pending, 1, 'the window due later is still watched');
  originals[10]!.release(result(3));
  t.equal((await moved).source, 'original', 'the moved window was not filled at its old due time');
  t.equal(watch.pending, 0);
  watch.stop();
});
