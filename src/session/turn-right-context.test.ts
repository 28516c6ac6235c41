import t from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, type Msg } from './testing/session-harness.js';
import type { WindowTask } from '../inference/tasks.js';

/**
 * INFERENCE_RIGHT_CONTEXT_MS: a window goes to the pool with the audio that already follows it in
 * the ring (up to rightContextSamples), so the model's lookahead sees speech at the window's end
 * instead of silence (test/model-lipsync.test.ts: the frames then equal one long run). A window never
 * waits for that audio, the turn's last window has none, and the audio itself reaches the client
 * exactly once.
 */

t.teardown(stopPacing);

const isEnd = (m: Msg) => m.type === 'avatar_state' && m.state === 'Listening';

t.test('audio that arrived ahead: every window but the last reads up to 100 ms past its end, never past the turn\'s audio', async (t) => {
  const h = await startSession({ firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400, rightContextSamples: 2400, maxInflight: 2 });
  t.teardown(() => h.close());
  const pcm = noisePcm(36_000 + 1600, 4); // 1.57 s: the last window is a short one (2 frames)
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm);
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  const tasks = h.pool.tasks;
  const turnEnd = tasks[0]!.start + pcm.length / 2;
  t.ok(tasks.length >= 8, `${tasks.length} windows`);
  const last = tasks.at(-1)!;
  t.equal(last.end, turnEnd, 'the last window ends with the turn');
  t.ok(last.final && last.readEnd === undefined, 'the last window: nothing after it to read');
  for (const w of tasks.slice(0, -1)) {
    t.equal(w.readEnd, Math.min(w.end + 2400, turnEnd), `window ${w.windowIndex} (${w.start}–${w.end}) reads to ${w.readEnd}`);
    t.ok(w.releaseTo <= w.end, 'and frees nothing past its own end');
  }
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  t.equal(frames.length, Math.ceil(pcm.length / 2 / 800), 'one frame per 1/30 s');
  t.ok(audio.equals(pcm), 'the client got exactly the agent audio, once');
});

t.test('audio that arrives just in time: a window goes out with what is there, without waiting for more', async (t) => {
  const h = await startSession({ firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400, rightContextSamples: 2400, maxInflight: 2 });
  t.teardown(() => h.close());
  const pcm = noisePcm(2400 + 4800 + 1600, 6);
  const seen: WindowTask[] = [];
  h.pool.onTask = (task) => seen.push(task);
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', pcm.subarray(0, 2400 * 2));
  t.equal(seen.length, 1, 'the first window went out as soon as its audio was in');
  t.equal(seen[0]!.readEnd, undefined, 'with nothing after it');
  h.agent.emit('audio', pcm.subarray(2400 * 2, (2400 + 4800 + 1600) * 2));
  t.equal(seen.length, 2, 'the second window went out at once');
  t.equal(seen[1]!.readEnd, seen[1]!.end + 1600, 'with the 1600 samples that had come in after it');
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  const end = await h.waitFor(isEnd);
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  t.ok(turnFrames(h.sent.slice(0, end), start.turnId as string).audio.equals(pcm), 'every sample played once');
});

t.test('off by default in the scheduler (rightContextSamples unset): windows read only their own audio', async (t) => {
  const h = await startSession({ firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 2400, maxInflight: 2 });
  t.teardown(() => h.close());
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', noisePcm(24_000, 8));
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  await h.waitFor(isEnd);
  t.ok(h.pool.tasks.every((w) => w.readEnd === undefined), 'no window has a readEnd');
});
