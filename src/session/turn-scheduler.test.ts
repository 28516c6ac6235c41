import t from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, type Msg } from './testing/session-harness.js';
import { FIRST_WINDOW_MAX_WAIT_MS } from './turn-scheduler.js';

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
