import t from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, until, type Msg } from './testing/session-harness.js';
import { FIRST_WINDOW_MAX_WAIT_MS, PARTIAL_WINDOW_HORIZON_MS, WINDOW_MAX_WAIT_MS } from './turn-scheduler.js';

/**
 * The turn scheduler inside a real Session: real ring, real pacing worker, an in-process agent,
 * and a pool that serves windows (exact audio, neutral weights) when the test lets it.
 */

t.teardown(stopPacing);

const isEnd = (m: Msg) => m.type === 'avatar_state' && m.state === 'Listening';

t.test('ring full: audio beyond the ring waits, windows release it, every byte reaches the client', async (t) => {
  // A 0.5 s ring and 1.5 s of audio delivered at once (3× the ring), windows held by the test.
  const h = await startSession({ ringSamples: 12_000, firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400 });
  t.teardown(() => h.close());
  const pcm = noisePcm(36_000);
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  // 10,000-byte chunks: the third is split by the ring's end (part written, part waiting). The agent
  // reuses one buffer and scribbles over it after each event, as agents may: what waits must be a copy.
  const scratch = Buffer.alloc(10_000);
  for (let at = 0; at < pcm.length; at += 10_000) {
    const n = pcm.copy(scratch, 0, at, at + 10_000);
    h.agent.emit('audio', scratch.subarray(0, n));
    scratch.fill(0x55);
  }

  t.equal(h.pool.tasks.length, 1, 'one window in flight');
  const ring = h.pool.ring();
  t.equal(ring.writePosition32, 12_000, 'the ring took what fits');
  t.equal(ring.freeSamples(ring.writePosition32), 0, 'and is full: nothing unread is overwritten');
  t.equal(h.logs.filter((l) => l.msg === 'ring full; agent audio waits in the turn queue').length, 1, 'logged once per turn');

  // Serve windows one at a time; the agent ends while most of its audio still waits.
  let served = 0;
  while (h.pool.heldCount > 0) {
    const task = h.pool.tasks[served]!;
    t.ok(task.end - task.contextStart <= 12_000, `window ${served} fits the ring`);
    h.pool.releaseOne();
    served++;
    if (served === 2) h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
    await new Promise((r) => setImmediate(r));
  }
  t.ok(served >= 8, `the turn needed ${served} windows`);
  t.equal(ring.writePosition32, 36_000, 'all of it went through the ring');

  const end = await h.waitFor(isEnd);
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, 45, 'one frame per 1/30 s');
  t.ok(frames.every((f, i) => f.frameIndex === i), 'frame indices in order');
  t.ok(audio.equals(pcm), 'the client got exactly the agent audio');
  t.same(h.sent.slice(end - 2, end + 1).map((m) => m.type), ['audio_end', 'transcript_done', 'avatar_state']);
});

t.test('odd byte: odd-length chunks keep every byte; a turn ending on an odd byte drops only that byte', async (t) => {
  const h = await startSession();
  t.teardown(() => h.close());
  const pcm = noisePcm(14_400, 7);
  h.agent.emit('responseStart', { responseId: 'r1' });
  let at = 0;
  for (const size of [1, 4799, 3, 1, 9997, 1, 4799]) {
    h.agent.emit('audio', pcm.subarray(at, at + size));
    at += size;
  }
  h.agent.emit('audio', pcm.subarray(at));
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end1 = await h.waitFor(isEnd);
  const first = turnFrames(h.sent, h.sent.find((m) => m.type === 'audio_start')!.turnId as string);
  t.equal(first.frames.length, 18);
  t.ok(first.audio.equals(pcm), 'every byte, in order, across odd splits');

  const odd = Buffer.concat([pcm.subarray(0, 1602), Buffer.from([0x7f])]); // 1603 bytes: 801.5 samples
  h.agent.emit('responseStart', { responseId: 'r2' });
  h.agent.emit('audio', odd.subarray(0, 801));
  h.agent.emit('audio', odd.subarray(801, 1603));
  h.agent.emit('responseEnd', { responseId: 'r2', transcript: '' });
  const s2 = await h.waitFor((m) => m.type === 'audio_start', end1 + 1);
  await h.waitFor(isEnd, s2);
  const second = turnFrames(h.sent, h.sent[s2]!.turnId as string);
  t.equal(second.frames.length, 2, '801 samples: two frames, the last padded');
  t.ok(second.audio.subarray(0, 1602).equals(odd.subarray(0, 1602)), 'all whole samples kept');
  t.ok(second.audio.subarray(1602).every((b) => b === 0), 'the odd last byte is not played; padding is silence');
  t.ok(h.logs.some((l) => l.msg === 'agent audio ended on an odd byte; last byte dropped'), 'and it is logged');
});

/** Timers the test fires by hand. */
function manualTimers() {
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  return {
    timers,
    live: () => timers.filter((x) => !x.cleared),
    api: {
      setTimeout: (fn: () => void, ms: number) => {
        const h = { fn, ms, cleared: false };
        timers.push(h);
        return h;
      },
      clearTimeout: (h: unknown) => {
        (h as { cleared: boolean }).cleared = true;
      },
    },
    fire(): void {
      const h = timers.find((x) => !x.cleared)!;
      h.cleared = true;
      h.fn();
    },
  };
}

t.test('wait timer: a short window goes out after the max wait, whole frames only; the rest at turn end', async (t) => {
  const clock = manualTimers();
  const h = await startSession({ timers: clock.api });
  t.teardown(() => h.close());
  const pcm = noisePcm(2200, 3);
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm.subarray(0, 2400)); // 1200 samples: less than the first window
  t.equal(h.pool.tasks.length, 0, 'no window before the first one fills…');
  t.equal(clock.live().length, 1, '…but the wait timer runs');
  t.equal(clock.live()[0]!.ms, FIRST_WINDOW_MAX_WAIT_MS, 'the first window waits for a second chunk of a real-time agent');
  h.agent.emit('audio', pcm.subarray(2400));
  t.equal(clock.live().length, 1, 'more audio does not restart the wait');
  clock.fire();
  t.equal(h.pool.tasks.length, 1, 'the wait is over: a window of what is there');
  t.match(h.pool.tasks[0], { start: 0, end: 1600, firstFrameIndex: 0, final: false }, 'whole frames only (2 of 2.75)');
  await h.waitFor((m) => m.type === 'sync_frame' && m.frameIndex === 1);
  t.equal(clock.live().length, 0, 'under a frame left: no wait armed');
  t.equal(h.pool.tasks.length, 1, 'and no window');
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  t.equal(h.pool.tasks.length, 2, 'turn end flushes the partial window');
  t.match(h.pool.tasks[1], { start: 1600, end: 2200, firstFrameIndex: 2, final: true });
  const end = await h.waitFor(isEnd);
  const { frames, audio } = turnFrames(h.sent.slice(0, end), h.pool.tasks[0]!.turnId);
  t.equal(frames.length, 3);
  t.ok(audio.subarray(0, pcm.length).equals(pcm) && audio.subarray(pcm.length).every((b) => b === 0), 'exact audio, then padding');
});

t.test('wait timer: a full window cancels the wait', async (t) => {
  const clock = manualTimers();
  const h = await startSession({ timers: clock.api });
  t.teardown(() => h.close());
  const pcm = noisePcm(6000, 4);
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm.subarray(0, 2400));
  t.equal(clock.live().length, 1);
  h.agent.emit('audio', pcm.subarray(2400));
  t.equal(h.pool.tasks.length, 1, 'the first window filled');
  t.match(h.pool.tasks[0], { start: 0, end: 4800 });
  t.equal(clock.timers[0]!.cleared, true, 'its wait was cleared');
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  const { audio } = turnFrames(h.sent.slice(0, end), h.pool.tasks[0]!.turnId);
  t.ok(audio.subarray(0, pcm.length).equals(pcm) && audio.length === 8 * 1600, 'exact audio in 8 frames');
});

t.test('wait timer, once the clock runs: a short window waits until it is due within the horizon (a fast stream fills it); due sooner, the max wait as before', async (t) => {
  const clock = manualTimers();
  const h = await startSession({ timers: clock.api, firstWindowSamples: 4800, windowSamples: 12_000, maxInflight: 4 });
  t.teardown(() => h.close());
  const pcm = noisePcm(4800 + 2400 + 12_000 + 12_000, 5);
  let at = 0;
  const emit = (samples: number) => {
    h.agent.emit('audio', pcm.subarray(at * 2, (at + samples) * 2));
    at += samples;
  };
  h.agent.emit('responseStart', { responseId: 'r1' });
  emit(4800); // the first window, full: it starts the turn's clock once its frames are at the pacer
  t.equal(h.pool.tasks.length, 1);
  await until(() => h.pacer.dueAtMs(h.key, 1, 6) !== undefined);

  // Frame 6 is due ~133 ms after the clock started: within the horizon, so the plain max wait.
  emit(2400);
  t.equal(clock.live().length, 1);
  t.equal(clock.live()[0]!.ms, WINDOW_MAX_WAIT_MS, 'due soon: a real-time agent\'s short window leaves after the max wait');
  clock.fire();
  t.match(h.pool.tasks[1], { start: 4800, end: 7200 }, 'and it left short');

  // A fast stream: a full window, then part of the next, whose first frame (24) is due ~730 ms
  // after the clock started. The wait stretches to its due time less the horizon…
  emit(12_000);
  t.match(h.pool.tasks[2], { start: 7200, end: 19_200 }, 'a full window leaves at once');
  emit(4000);
  const due = h.pacer.dueAtMs(h.key, 1, 24)!;
  const expected = due - performance.now() - PARTIAL_WINDOW_HORIZON_MS;
  t.equal(clock.live().length, 1);
  const waitMs = clock.live()[0]!.ms;
  t.ok(waitMs > WINDOW_MAX_WAIT_MS && waitMs >= expected - 1 && waitMs <= expected + 50, `waits ${waitMs} ms (due in ${(expected + PARTIAL_WINDOW_HORIZON_MS).toFixed(0)} ms, less the ${PARTIAL_WINDOW_HORIZON_MS} ms horizon)`);
  t.equal(h.pool.tasks.length, 3, 'nothing cut meanwhile');
  // …so the rest of the stream fills the window instead of a 4000-sample one leaving.
  emit(8000);
  t.match(h.pool.tasks[3], { start: 19_200, end: 31_200 }, 'the window filled: 500 ms, not 167');
  t.equal(clock.live().length, 0, 'its wait was cleared');
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  const { frames, audio } = turnFrames(h.sent.slice(0, end), h.pool.tasks[0]!.turnId);
  t.equal(frames.length, 39);
  t.ok(audio.equals(pcm), 'exact audio');
});

t.test('wait timer, before the clock runs: the next window is taken as due as if the clock started now', async (t) => {
  const clock = manualTimers();
  const h = await startSession({ timers: clock.api, firstWindowSamples: 4800, windowSamples: 12_000, maxInflight: 4 });
  t.teardown(() => h.close());
  const pcm = noisePcm(4800 + 9600 + 12_000, 6); // windows of 4800, 9600 (twice the first), 12 000
  h.pool.hold = true; // no frames reach the pacer: the turn's clock does not run
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm.subarray(0, 2 * (4800 + 9600 + 4000)));
  t.equal(h.pool.tasks.length, 2, 'the first window and a full second one');
  t.equal(h.pacer.dueAtMs(h.key, 1, 18), undefined, 'no clock yet');
  // Frame 18 is due no sooner than (18 − lead 2) frames after the clock starts: ~533 ms from now at the earliest.
  const earliest = h.pacer.orderAtMs(h.key, 1, 18) - performance.now() - PARTIAL_WINDOW_HORIZON_MS;
  const waitMs = clock.live()[0]!.ms;
  t.ok(waitMs > WINDOW_MAX_WAIT_MS && waitMs >= earliest - 1 && waitMs <= earliest + 50, `waits ${waitMs} ms (at least ${earliest.toFixed(0)})`);
  h.agent.emit('audio', pcm.subarray(2 * (4800 + 9600 + 4000)));
  t.match(h.pool.tasks[2], { start: 14_400, end: 26_400 }, 'the rest of the stream filled the window');
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  while (h.pool.heldCount > 0) h.pool.releaseOne();
  const end = await h.waitFor(isEnd);
  const { audio } = turnFrames(h.sent.slice(0, end), h.pool.tasks[0]!.turnId);
  t.ok(audio.equals(pcm), 'exact audio');
});
