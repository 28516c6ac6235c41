import t, { type Test } from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, until, type Msg } from './testing/session-harness.js';
import { schedulingFor } from './turn-scheduler.js';

/**
 * The deadline scheduler's side in the session (INFERENCE_SCHEDULER=deadline): a turn's next
 * window goes to the pool while the one before is still there, results may come back in any order,
 * and a turn is computed only a bounded distance ahead of the frames already sent.
 */

t.teardown(stopPacing);

const isEnd = (m: Msg) => m.type === 'avatar_state' && m.state === 'Listening';

t.test('two windows in flight, results back newest first: frames in order, no unread audio overwritten, every byte exact', async (t) => {
  // A 0.5 s ring and 1.5 s of audio at once: the ring is full while both windows are out.
  const h = await startSession({ ringSamples: 12_000, firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400, maxInflight: 2 });
  t.teardown(() => h.close());
  const pcm = noisePcm(36_000, 3);
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  for (let at = 0; at < pcm.length; at += 12_000) h.agent.emit('audio', pcm.subarray(at, at + 12_000));

  t.equal(h.pool.tasks.length, 2, 'the second window went out while the first is at the pool');
  const [w0, w1] = h.pool.tasks;
  t.ok(w1!.releaseTo <= w0!.contextStart, `window 1 frees nothing window 0 still reads (${w1!.releaseTo} ≤ ${w0!.contextStart})`);
  t.equal(w1!.windowIndex, 1, 'windows carry their index in the turn');

  // Always serve the newest held window: the oldest one waits until nothing else can go out.
  let served = 0;
  while (h.pool.heldCount > 0) {
    h.pool.releaseNewest();
    served++;
    if (served === 2) h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
    await new Promise((r) => setImmediate(r));
  }
  const end = await h.waitFor(isEnd);
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, 45, 'one frame per 1/30 s');
  t.ok(frames.every((f, i) => f.frameIndex === i), 'frame indices in order although results were not');
  t.ok(audio.equals(pcm), 'the client got exactly the agent audio');
});

t.test('window lengths grow: the first, twice the audio dispatched so far, then the longest; every byte exact', async (t) => {
  // First 0.1 s, longest 0.5 s: 0.1, 0.2 (twice 0.1), then 0.5 (twice 0.3 = 0.6, capped), … and the rest.
  const h = await startSession({ firstWindowSamples: 2400, windowSamples: 12_000, contextSamples: 2400, maxInflight: 8, ringSamples: 96_000 });
  t.teardown(() => h.close());
  const pcm = noisePcm(48_000, 5); // 2 s
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm);
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  t.same(h.pool.tasks.map((w) => w.end - w.start), [2400, 4800, 12_000, 12_000, 12_000, 4800], 'window lengths in samples');
  t.same(h.pool.tasks.map((w) => w.firstFrameIndex), [0, 3, 9, 24, 39, 54], 'each window starts where the one before ended');
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, 60, 'one frame per 1/30 s');
  t.ok(audio.equals(pcm), 'the client got exactly the agent audio');
});

t.test('queue order: before the clock runs, a turn\'s second window waits as if due when it first can be; then by its due time', async (t) => {
  // Pacer lead 2 frames; a first window of 6 frames: the second can be due 4 frames after the clock starts, no sooner.
  const h = await startSession({ firstWindowSamples: 4800, windowSamples: 12_000, contextSamples: 9600, maxInflight: 2 });
  t.teardown(() => h.close());
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  const before = performance.now();
  h.agent.emit('audio', noisePcm(48_000, 9));
  const [d0, d1] = h.pool.deadlines;
  const after = performance.now();
  t.equal(h.pool.tasks.length, 2, 'both windows at the pool');
  t.equal(d0!.dueAtMs(), undefined, 'no clock yet');
  const o0 = d0!.orderAtMs!();
  t.ok(o0 >= before && o0 <= performance.now(), 'the first window is due at once');
  const o1 = d1!.orderAtMs!();
  t.ok(o1 >= before + 4 * (1000 / 30) && o1 <= performance.now() + 4 * (1000 / 30), `the second: 4 frames later (${(o1 - after).toFixed(1)} ms after dispatch)`);
  h.pool.releaseOne();
  await until(() => d1!.dueAtMs() !== undefined);
  t.equal(d1!.orderAtMs!(), d1!.dueAtMs(), 'once the clock runs: its due time');
  t.ok(d1!.dueAtMs()! >= o1, 'which is never before the estimate');
  h.pool.hold = false;
  while (h.pool.heldCount > 0) h.pool.releaseOne();
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  await h.waitFor(isEnd);
});

/** How far ahead of the frames sent each window started, over one 3 s turn delivered at once. */
async function aheadOf(t: Test, lookaheadFrames: number | undefined): Promise<number> {
  const h = await startSession({ firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400, maxInflight: 2, lookaheadFrames });
  t.teardown(() => h.close());
  const pcm = noisePcm(72_000, 5);
  let maxAhead = 0;
  h.pool.onTask = (task) => {
    const sent = h.sent.filter((m) => m.type === 'sync_frame').length;
    maxAhead = Math.max(maxAhead, task.firstFrameIndex - sent);
  };
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm);
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, 90, 'the whole turn was played');
  t.ok(audio.equals(pcm), 'byte for byte');
  return maxAhead;
}

t.test('lookahead: a turn delivered at once is computed at most lookaheadFrames ahead of playback', async (t) => {
  const bounded = await aheadOf(t, 12);
  t.ok(bounded <= 12, `no window started more than 12 frames ahead (max ${bounded})`);
  const unbounded = await aheadOf(t, undefined);
  t.ok(unbounded > 12, `without the bound the pool ran ${unbounded} frames ahead (so the check above can fail)`);
});

t.test('INFERENCE_SCHEDULER maps to the scheduler: deadline pipelines with a bound, fifo is one window at a time', async (t) => {
  t.same(schedulingFor({ inferenceScheduler: 'deadline', inferenceLookaheadMs: 1000 }), { maxInflight: 2, lookaheadFrames: 30 });
  t.same(schedulingFor({ inferenceScheduler: 'fifo', inferenceLookaheadMs: 1000 }), { maxInflight: 1 });
});
