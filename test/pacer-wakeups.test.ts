import t, { type Test } from 'tap';
import pino from 'pino';
import { SyncFrameEncoder } from '../src/inference/frame-encoder.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import { Pacer } from '../src/pacing/pacer.js';
import type { WindowResult } from '../src/inference/tasks.js';
import { Waiters } from './helpers/waiters.js';

/**
 * The main thread wakes the pacing worker (Atomics.notify: a futex wake-up under V8's
 * process-wide lock) only when the pacer would otherwise sleep past the time a message needs it.
 * The real Pacer and its real worker thread; frames are real sync_frame bytes.
 */

const encoder = new SyncFrameEncoder();
const BATCH_MS = 5;

function windowOf(session: number, turn: number, first: number, frames: number): WindowResult {
  const pcm = new Int16Array(frames * 800).map((_, i) => (i * 37) % 2000);
  const enc = encoder.encode({ sessionId: `s${session}`, turnId: `t${turn}` }, first, new Float32Array(frames * ARKIT_COUNT), pcm, frames);
  return { ...enc, frameCount: frames, inferMs: 0, taskMs: 0, audioMs: (frames * 1000) / 30, threadId: 0 };
}

function start(t: Test) {
  const waiters = new Waiters('pacer');
  const frames: Array<{ session: number; turn: number; frameIndex: number; at: number }> = [];
  const done: Array<{ session: number; turn: number; at: number }> = [];
  let reports = 0;
  const pacer = new Pacer(2, BATCH_MS, {
    onFrame: (session, turn, frameIndex) => {
      frames.push({ session, turn, frameIndex, at: performance.now() });
      waiters.wake();
    },
    onTurnDone: (session, turn) => {
      done.push({ session, turn, at: performance.now() });
      waiters.wake();
    },
  }, pino({ level: 'silent' }));
  t.teardown(() => pacer.stop());
  let lastStats = pacer.stats;
  const statsReports = () => {
    if (pacer.stats !== lastStats) {
      lastStats = pacer.stats;
      reports++;
    }
    return reports;
  };
  return { pacer, frames, done, waitFor: <V>(probe: () => V | undefined | false | null) => waiters.waitFor(probe, 20_000), statsReports };
}

t.test("a turn's first frames wake the pacer; later windows posted long before they are due do not, and none is late", async (t) => {
  const { pacer, frames, done, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1); // the thread is up
  await waitFor(() => pacer.sleepsUntilEpochMs !== undefined);
  const n0 = pacer.notifies;
  pacer.pushFrames(1, 1, 0, windowOf(1, 1, 0, 6));
  t.equal(pacer.notifies, n0 + 1, 'the first window: the idle pacer is woken');
  await waitFor(() => frames.length >= 3); // lead frames out: the clock runs
  const quiet0 = pacer.postsWithoutNotify;
  pacer.pushFrames(1, 1, 6, windowOf(1, 1, 6, 15));
  pacer.pushFrames(1, 1, 21, windowOf(1, 1, 21, 15));
  t.equal(pacer.postsWithoutNotify, quiet0 + 2, 'windows due hundreds of ms later: no wake-up');
  t.equal(pacer.notifies, n0 + 1);
  pacer.endTurn(1, 1, 36);
  await waitFor(() => done.length === 1);
  t.same(frames.map((f) => f.frameIndex), Array.from({ length: 36 }, (_, i) => i), 'every frame, in order');
  const reportsAtEnd = statsReports();
  await waitFor(() => statsReports() > reportsAtEnd); // a report that covers the whole turn
  t.equal(pacer.stats!.underruns, 0, 'no frame reached the pacer after its deadline');
});

t.test('an end while the pacer sleeps long wakes it: turnDone before the pacer would have woken by itself', async (t) => {
  const { pacer, frames, done, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1);
  pacer.pushFrames(2, 1, 0, windowOf(2, 1, 0, 3)); // lead frames only: all go at once
  await waitFor(() => frames.length === 3);
  // The pacer has nothing left to send and sleeps until its next report (up to 1 s away).
  const sleepsUntil = await waitFor(() => {
    const s = pacer.sleepsUntilEpochMs;
    return s !== undefined && s - (performance.timeOrigin + performance.now()) > 100 ? s : undefined;
  });
  const n0 = pacer.notifies;
  const endAt = performance.now();
  pacer.endTurn(2, 1, 3);
  t.equal(pacer.notifies, n0 + 1, 'woken for the end');
  await waitFor(() => done.length === 1);
  t.ok(performance.timeOrigin + done[0]!.at < sleepsUntil, `turnDone ${(done[0]!.at - endAt).toFixed(1)} ms after the end, before the pacer's own wake-up`);
});

t.test('stop always wakes a sleeping pacer', async (t) => {
  const { pacer, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1);
  await waitFor(() => pacer.sleepsUntilEpochMs !== undefined);
  const t0 = performance.now();
  await pacer.stop();
  t.ok(performance.now() - t0 < 1000, 'the worker left its wait at once (stop would otherwise wait up to 1 s, then terminate it)');
});

t.test("a drop wakes nobody, yet none of the dropped turn's queued frames goes out", async (t) => {
  const { pacer, frames, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1);
  pacer.pushFrames(3, 1, 0, windowOf(3, 1, 0, 30)); // 1 s of frames queued
  await waitFor(() => frames.length >= 3);
  const n0 = pacer.notifies;
  const droppedAt = performance.now();
  pacer.drop(3, 1);
  t.equal(pacer.notifies, n0, 'no wake-up for the drop');
  // Another session's first window wakes the pacer (reading the drop first); its frame 15 goes out
  // half a second later, when the dropped turn would have sent about as many.
  pacer.pushFrames(5, 1, 0, windowOf(5, 1, 0, 20));
  await waitFor(() => frames.some((f) => f.session === 5 && f.frameIndex === 15));
  // Frames the pacer had already handed over can still arrive just after the drop call: at most
  // those due by then (plus the batch it sends early).
  const dueByDrop = Math.max(...frames.filter((f) => f.session === 3 && f.at <= droppedAt).map((f) => f.frameIndex));
  const after = frames.filter((f) => f.session === 3 && f.at > droppedAt);
  t.ok(after.every((f) => f.frameIndex <= dueByDrop + 1), `dropped turn: ${after.length} frame(s) after the drop call, none beyond the one due then`);
  t.ok(frames.filter((f) => f.session === 3).length <= dueByDrop + 2, 'the rest of the dropped turn never went out');
});

t.test('an end for a turn whose last frame is still to come wakes nobody; turnDone follows that frame', async (t) => {
  const { pacer, frames, done, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1);
  pacer.pushFrames(4, 1, 0, windowOf(4, 1, 0, 15));
  await waitFor(() => frames.length >= 3);
  const n0 = pacer.notifies;
  pacer.endTurn(4, 1, 15);
  t.equal(pacer.notifies, n0, 'the pacer wakes for the remaining frames anyway');
  await waitFor(() => done.length === 1);
  t.equal(frames.filter((f) => f.session === 4).length, 15, 'every frame');
  t.ok(done[0]!.at >= frames.at(-1)!.at, 'turnDone after the last frame');
});

t.test('a first window while the pacer wakes within a batch anyway: no wake-up, its frames go at that wake-up', async (t) => {
  const { pacer, frames, waitFor, statsReports } = start(t);
  await waitFor(() => statsReports() >= 1);
  pacer.pushFrames(6, 1, 0, windowOf(6, 1, 0, 300)); // 10 s of frames: the pacer wakes for each
  await waitFor(() => frames.length >= 3);
  const epochNow = () => performance.timeOrigin + performance.now();
  // An attempt counts only if the pacer slept on the same wait from before the push until after it
  // (its published wake time unchanged): a host that stalls this thread between the look and the
  // push can let the pacer wake and sleep again, and then a wake-up may be due.
  for (let attempt = 0; attempt < 50; attempt++) {
    const session = 100 + attempt;
    const win = windowOf(session, 1, 0, 3);
    // Wait (spinning, no timers) until the pacer sleeps and will wake in under a batch by itself.
    let before: number | undefined;
    for (;;) {
      before = pacer.sleepsUntilEpochMs;
      if (before !== undefined && before - epochNow() > 0 && before - epochNow() < BATCH_MS - 2) break;
      await new Promise((r) => setImmediate(r));
    }
    const n0 = pacer.notifies;
    const pushedAt = performance.now();
    pacer.pushFrames(session, 1, 0, win);
    const notified = pacer.notifies - n0;
    if (pacer.sleepsUntilEpochMs !== before) continue;
    t.equal(notified, 0, 'no wake-up');
    await waitFor(() => frames.some((f) => f.session === session));
    const first = frames.find((f) => f.session === session)!;
    t.ok(first.at - pushedAt < 200, `its first frame ${(first.at - pushedAt).toFixed(1)} ms after the push`);
    return;
  }
  t.fail('the pacer never slept through a push undisturbed in 50 attempts');
});
