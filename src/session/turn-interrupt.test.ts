import t, { type Test } from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, type Harness, type Msg } from './testing/session-harness.js';

/**
 * Interrupts of the turn scheduler inside a real Session (real ring and pacing worker, a pool the
 * test steps): frames stop, the end messages go out, and the next turn starts clean.
 */

t.teardown(stopPacing);

const isEnd = (m: Msg) => m.type === 'avatar_state' && m.state === 'Listening';

/** The next turn after an interrupt plays whole: its own id, frames from 0, exact audio. */
async function playsClean(t: Test, h: Harness, pcm: Buffer, from: number): Promise<number> {
  h.agent.emit('responseStart', { responseId: 'next' });
  h.agent.emit('audio', pcm);
  h.agent.emit('responseEnd', { responseId: 'next', transcript: '' });
  const s = await h.waitFor((m) => m.type === 'audio_start', from);
  const end = await h.waitFor(isEnd, s);
  const { frames, audio } = turnFrames(h.sent, h.sent[s]!.turnId as string);
  t.equal(frames.length, pcm.length / 1600, 'the next turn: every frame');
  t.ok(frames.every((f, i) => f.frameIndex === i), 'frame indices from 0');
  t.ok(audio.equals(pcm), 'its exact audio');
  t.same(h.sent.slice(end - 2, end + 1).map((m) => m.type), ['audio_end', 'transcript_done', 'avatar_state'], 'and its end messages');
  return end;
}

t.test('interrupt mid-turn: frames stop, end messages, the window in flight is dropped, next turn clean', async (t) => {
  const h = await startSession();
  t.teardown(() => h.close());
  const pcm = noisePcm(48_000, 5); // 2 s, delivered at once, no end yet
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('transcriptDelta', { text: 'one two three four five six seven eight' });
  h.agent.emit('audio', pcm);
  h.pool.releaseOne(); // frames 0–5 go to the pacer; the next window stays in flight
  await h.waitFor((m) => m.type === 'sync_frame' && m.frameIndex === 3);
  t.equal(h.pool.heldCount, 1, 'a window is in flight');
  const turnId = h.pool.tasks[0]!.turnId;

  h.session.onMessage(h.clientMessage({ type: 'interrupt' }), false);
  const at = h.sent.findIndex((m) => m.type === 'interrupt');
  const framesBefore = turnFrames(h.sent.slice(0, at), turnId).frames.length;
  const offsetMs = Math.round(framesBefore * (1000 / 30));
  t.match(h.sent.slice(at), [
    { type: 'interrupt', turnId, offsetMs },
    { type: 'avatar_state', state: 'Listening' },
    { type: 'transcript_done', role: 'assistant', turnId, interrupted: true },
  ], 'interrupt, Listening, transcript_done (interrupted), in that order');
  t.same(h.agent.cancels, [offsetMs], 'the agent hears how much the client got');
  t.notOk(h.session.isSpeaking, 'nothing plays');

  // What was still on its way: the window in flight, and audio the agent had already sent.
  h.pool.releaseOne();
  h.agent.emit('audio', noisePcm(4800, 6));
  t.equal(h.pool.tasks.length, 2, 'no window for audio after the interrupt');
  h.pool.hold = false;

  await playsClean(t, h, noisePcm(12_000, 8), at);
  t.equal(turnFrames(h.sent.slice(at), turnId).frames.length, 0, 'no frame of the interrupted turn after its interrupt');
  t.equal(h.sent.filter((m) => m.type === 'audio_end' && m.turnId === turnId).length, 0, 'and no audio_end for it');
});

t.test('interrupt while the turn has filled the ring: the next turn still gets ring space', async (t) => {
  // The first window keeps its context in the ring (context > window), so it releases nothing.
  const h = await startSession({ ringSamples: 12_000, firstWindowSamples: 2400, windowSamples: 4800, contextSamples: 4800 });
  t.teardown(() => h.close());
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', noisePcm(24_000, 9));
  const ring = h.pool.ring();
  t.equal(ring.freeSamples(ring.writePosition32), 0, 'ring full');
  h.session.onMessage(h.clientMessage({ type: 'interrupt' }), false);
  h.pool.releaseOne(); // the dropped turn's window finishes after the interrupt
  h.pool.hold = false;
  await playsClean(t, h, noisePcm(7200, 10), h.sent.length);
});

t.test('interrupt with a second response queued behind the playing one: both are dropped', async (t) => {
  const h = await startSession();
  t.teardown(() => h.close());
  h.pool.hold = true;
  h.agent.emit('responseStart', { responseId: 'r1' });
  h.agent.emit('audio', noisePcm(9600, 11));
  h.agent.emit('responseEnd', { responseId: 'r1', transcript: '' });
  h.agent.emit('responseStart', { responseId: 'r2' }); // waits behind r1
  h.agent.emit('audio', noisePcm(9600, 12));
  const first = h.pool.tasks[0]!.turnId;
  h.session.onMessage(h.clientMessage({ type: 'interrupt' }), false);
  t.equal(h.sent.filter((m) => m.type === 'interrupt').length, 1, 'one interrupt, for the playing turn');
  t.match(h.sent.find((m) => m.type === 'interrupt'), { turnId: first });
  h.pool.releaseOne();
  h.agent.emit('responseEnd', { responseId: 'r2', transcript: '' }); // no open response: ignored
  h.pool.hold = false;
  const from = h.sent.length;
  await playsClean(t, h, noisePcm(4800, 13), from);
  t.equal(h.sent.filter((m) => m.type === 'audio_start').length, 2, 'only r1 and the new turn ever started');
});
