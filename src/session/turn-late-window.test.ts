import t from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, type Msg } from './testing/session-harness.js';
import { UNDERRUN_SLACK_MS } from '../pacing/turn-clock.js';

/**
 * One inference window comes back late while its audio had long been in (an inference tail: a
 * queue, a slow run): its late frames go out at once and the turn's clock does not move, so the
 * frames after it leave on the schedule they had. Real pacing worker, real scheduler; the pool
 * holds that one window until 150 ms after its first frame was due.
 */

t.teardown(stopPacing);

const FRAME_MS = 1000 / 30;

/** Re-check `probe` every 5 ms until it holds (a positive signal with no event to wait on). */
async function until<V>(probe: () => V | undefined | false, timeoutMs = 10_000): Promise<V> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

t.test('one window 150 ms late from inference, its audio long in: its late frames go out at once, the rest of the turn keeps its schedule', async (t) => {
  const h = await startSession({ maxInflight: 2, lookaheadFrames: 30 });
  t.teardown(() => h.close());
  const pcm = noisePcm(24_000 * 2.5, 11); // 75 frames; windows start at frames 0, 6, 18, 33, 48, 63 (6, then 12: twice the first, then 15 frames)
  const LATE = 18;
  h.pool.onTask = (task) => {
    h.pool.hold = task.firstFrameIndex === LATE;
  };
  const statsBefore = h.pacer.stats!;
  // An agent faster than real time: the whole reply is in before playback starts.
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm);
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  await until(() => h.pool.heldCount === 1);
  const due = (k: number): number => h.pacer.dueAtMs(h.key, 1, k)!;
  // The worker reports its clock before it sends the turn's first frame; until then the main
  // thread's mirror holds a provisional origin (the time it handed the frames over).
  await h.waitFor((m) => m.type === 'sync_frame' && m.frameIndex === 0);
  const dueLate = due(LATE);
  const due60 = due(60);
  const wait = dueLate + 150 - performance.now();
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  const releasedAt = performance.now();
  h.pool.releaseOne();
  const i40 = await h.waitFor((m) => m.type === 'sync_frame' && m.frameIndex === 40);
  t.equal(due(60), due60, 'the main thread\'s mirror of the clock did not move (the pool times later windows on it)');
  t.equal(due(LATE), dueLate);
  const end = await h.waitFor((m: Msg) => m.type === 'avatar_state' && m.state === 'Listening', i40);
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, 75, 'one frame per 1/30 s');
  t.ok(audio.equals(pcm), 'exactly the agent audio');
  const at = (k: number): number => h.sentAt[h.sent.indexOf(frames[k]!)]!;
  const late = frames.filter((f) => (f.frameIndex as number) >= LATE && dueLate + ((f.frameIndex as number) - LATE) * FRAME_MS + 1 < releasedAt);
  t.ok(late.length >= 4, `the held window's first frames were late (${late.length})`);
  t.ok(late.every((f) => at(f.frameIndex as number) >= releasedAt), 'and went out once it was back');
  // Frames 33 on (later windows): a re-anchor would have sent each at least `shift` after its deadline.
  const after = frames.slice(33).map((f) => f.frameIndex as number);
  t.same(after.filter((k) => at(k) < dueLate + (k - LATE) * FRAME_MS - 1), [], 'none of the later frames before its original deadline');
  const shift = releasedAt - dueLate + UNDERRUN_SLACK_MS;
  const delays = after.map((k) => at(k) - (dueLate + (k - LATE) * FRAME_MS)).sort((a, b) => a - b);
  const median = delays[Math.floor(delays.length / 2)]!;
  t.ok(median < shift / 2, `they keep the original schedule: median ${median.toFixed(1)} ms after it, where a re-anchor would put them ≥ ${shift.toFixed(0)} ms after`);
  // The pacer reports its counters once a second: the next report after the turn covers all of it.
  const atEnd = h.pacer.stats;
  await until(() => h.pacer.stats !== atEnd);
  const underruns = h.pacer.stats!.underruns - statsBefore.underruns;
  const reanchors = h.pacer.stats!.reanchors - statsBefore.reanchors;
  t.ok(underruns >= late.length, `the late frames are counted as underruns (${underruns})`);
  t.equal(reanchors, 0, 'no re-anchor');
});

t.test('the pacer is told when each window\'s audio was all in (its last chunk), not when the window was dispatched or served', async (t) => {
  const h = await startSession();
  t.teardown(() => h.close());
  const seen: Array<{ first: number; audioReadyMs: number | undefined }> = [];
  const pushFrames = h.pacer.pushFrames.bind(h.pacer);
  h.pacer.pushFrames = (key, turn, first, r, audioReadyMs) => {
    if (key === h.key) seen.push({ first, audioReadyMs });
    pushFrames(key, turn, first, r, audioReadyMs);
  };
  t.teardown(() => void Reflect.deleteProperty(h.pacer, 'pushFrames'));
  const pcm = noisePcm(14_400, 12); // windows: samples 0–4800 (frames 0–5), 4800–14400 (frames 6–17: twice the first)
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  const a0 = performance.now();
  h.agent.emit('audio', pcm.subarray(0, 7200 * 2)); // the first window and part of the second
  const a1 = performance.now();
  await new Promise((r) => setImmediate(r));
  const b0 = performance.now();
  h.agent.emit('audio', pcm.subarray(7200 * 2)); // completes the second
  const b1 = performance.now();
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  t.equal(h.pool.heldCount, 1, 'one window at a time: the second waits for the first');
  h.pool.hold = false;
  const releasedAt = performance.now();
  h.pool.releaseOne(); // the second window is dispatched only now
  const end = await h.waitFor((m: Msg) => m.type === 'avatar_state' && m.state === 'Listening');
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  t.ok(turnFrames(h.sent.slice(0, end), start.turnId as string).audio.equals(pcm), 'exactly the agent audio');
  t.same(seen.map((s) => s.first), [0, 6], 'two windows');
  const [w0, w1] = seen;
  t.ok(w0!.audioReadyMs! >= a0 && w0!.audioReadyMs! <= a1, 'the first: when the chunk that held all of it came');
  t.ok(w1!.audioReadyMs! >= b0 && w1!.audioReadyMs! <= b1, 'the second: when the chunk that completed it came');
  t.ok(w1!.audioReadyMs! < releasedAt, 'not when it was dispatched (after the first window was back)');
});
