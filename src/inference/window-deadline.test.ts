import t from 'tap';
import { pino } from 'pino';
import { runBeforeDeadline, type LateWindowHandlers } from './window-deadline.js';
import type { WindowResult, WindowTask } from './tasks.js';

const task: WindowTask = { kind: 'window', ring: new SharedArrayBuffer(16), sessionId: 's', turnId: 't', contextStart: 0, start: 0, end: 800, firstFrameIndex: 6, final: false, releaseTo: 0 };
const result = (threadId: number): WindowResult => ({ bytes: new Uint8Array(0), lengths: [], timestampOffsets: [], frameCount: 1, inferMs: 0, taskMs: 0, audioMs: 33, threadId });

/** Handlers whose original run is held until released; counts what the race did. */
function handlers(opts: { idle: boolean }) {
  let releaseOriginal: (r: WindowResult) => void = () => undefined;
  const seen = { hedges: 0, fills: 0, discarded: [] as string[], hedgeTask: null as WindowTask | null, originalTask: null as WindowTask | null };
  const h: LateWindowHandlers = {
    original: (tk) => {
      seen.originalTask = tk;
      return new Promise((resolve) => (releaseOriginal = resolve));
    },
    hasIdleWorker: () => opts.idle,
    hedge: async (tk) => {
      seen.hedgeTask = tk;
      return new Promise(() => undefined); // the hedge never comes back either
    },
    fill: async () => result(99),
    recentSlowestMs: () => 0,
    onHedge: () => seen.hedges++,
    onFill: () => seen.fills++,
    onLateDiscarded: (source) => seen.discarded.push(source),
    logger: pino({ level: 'silent' }),
  };
  return { h, seen, release: (r: WindowResult) => releaseOriginal(r) };
}

t.test('a stuck window: hedged on a free worker, then filled; the late original is discarded and its copies told to skip', async (t) => {
  const { h, seen, release } = handlers({ idle: true });
  const due = performance.now(); // already due: the minimum budgets decide
  const { result: r, source } = await runBeforeDeadline(task, { dueAtMs: () => due, stillNeeded: () => true }, h);
  t.equal(source, 'fill');
  t.equal(r.threadId, 99, 'the fill worker served it');
  t.equal(seen.hedges, 1, 'hedged first, while a worker was free');
  t.equal(seen.fills, 1);
  t.equal(seen.hedgeTask?.abandoned, seen.originalTask?.abandoned, 'hedge and original share one abandoned flag');
  t.equal(Atomics.load(new Int32Array(seen.originalTask!.abandoned!), 0), 1, 'queued copies are told to skip');
  release(result(1));
  await new Promise((r) => setImmediate(r));
  t.same(seen.discarded, ['original'], 'the late original is discarded');
});

t.test('no free worker: no hedge, straight to the fill', async (t) => {
  const { h, seen } = handlers({ idle: false });
  const { source } = await runBeforeDeadline(task, { dueAtMs: () => undefined, stillNeeded: () => true }, h);
  t.equal(source, 'fill');
  t.equal(seen.hedges, 0);
});

t.test('a window back in time is used as it is: no hedge, no fill', async (t) => {
  const { h, seen, release } = handlers({ idle: true });
  const raced = runBeforeDeadline(task, { dueAtMs: () => performance.now() + 60_000, stillNeeded: () => true }, h);
  release(result(1));
  const { source, result: r } = await raced;
  t.equal(source, 'original');
  t.equal(r.threadId, 1);
  t.equal(seen.hedges + seen.fills, 0);
});

t.test('an interrupted turn is not filled: the original still settles the window', async (t) => {
  const { h, seen, release } = handlers({ idle: true });
  const raced = runBeforeDeadline(task, { dueAtMs: () => performance.now(), stillNeeded: () => false }, h);
  // Past every budget, nothing happens while nobody needs the window: the signal is a twin
  // dispatched just after it, with the same budgets but needed, that has been hedged and filled.
  const twin = handlers({ idle: true });
  const twinRaced = await runBeforeDeadline(task, { dueAtMs: () => performance.now(), stillNeeded: () => true }, twin.h);
  t.equal(twinRaced.source, 'fill', 'the twin that is needed was filled');
  t.equal(twin.seen.hedges, 1, 'and hedged before');
  twin.release(result(2));
  t.equal(seen.hedges + seen.fills, 0, 'neither hedged nor filled');
  release(result(1));
  t.equal((await raced).source, 'original');
});
