import t from 'tap';
import type { Test } from 'tap';
import { noisePcm, startSession, stopPacing, turnFrames, type Harness, type Msg } from './testing/session-harness.js';

/**
 * An agent that streams at exactly real time, in 100 ms chunks on an absolute schedule (the way a
 * TTS service paces itself): every frame must reach the pacer before it is due. Real pacing
 * worker, real timers; windows are served as soon as they are asked for.
 */

t.teardown(stopPacing);

const CHUNK = 2400; // samples: 100 ms at 24 kHz
const CHUNKS = 25; // 2.5 s

/**
 * One turn of an agent that hands over 100 ms chunks at `t0 + delayMs(k)`; resolves what the
 * client got and the pacer's counters over the turn (its next report after the turn covers all of it).
 */
async function agentTurn(t: Test, h: Harness, pcm: Buffer, responseId: string, delayMs: (k: number) => number) {
  const statsBefore = h.pacer.stats!;
  h.agent.emit('responseStart', { responseId });
  const t0 = performance.now();
  for (let k = 0; k < CHUNKS; k++) {
    const wait = t0 + delayMs(k) - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    h.agent.emit('audio', pcm.subarray(k * CHUNK * 2, (k + 1) * CHUNK * 2));
  }
  h.agent.emit('responseEnd', { responseId, transcript: '' });
  const end = await h.waitFor((m: Msg) => m.type === 'avatar_state' && m.state === 'Listening');
  const start = h.sent.find((m) => m.type === 'audio_start')!;
  const { frames, audio } = turnFrames(h.sent.slice(0, end), start.turnId as string);
  const atEnd = h.pacer.stats;
  const deadline = performance.now() + 10_000;
  while (h.pacer.stats === atEnd && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  t.not(h.pacer.stats, atEnd, 'a pacer report after the turn');
  return { frames, audio, underruns: h.pacer.stats!.underruns - statsBefore.underruns, reanchors: h.pacer.stats!.reanchors - statsBefore.reanchors };
}

t.test('a 1× real-time agent with 100 ms chunks: no underrun, every frame on its clock, exact audio', async (t) => {
  const h = await startSession({ maxInflight: 2, lookaheadFrames: 30 });
  t.teardown(() => h.close());
  const pcm = noisePcm(CHUNK * CHUNKS, 9);
  const { frames, audio, underruns } = await agentTurn(t, h, pcm, 'r1', (k) => k * 100);
  t.equal(frames.length, 75, 'one frame per 1/30 s');
  t.ok(audio.equals(pcm), 'exactly the agent audio');
  t.equal(underruns, 0, `no frame reached the pacer after its deadline (${underruns})`);
});

t.test('an agent that falls behind real time (stalls 300 ms, then 1× again): the clock re-anchors on it, so not every window after underruns', async (t) => {
  const h = await startSession({ maxInflight: 2, lookaheadFrames: 30 });
  t.teardown(() => h.close());
  const pcm = noisePcm(CHUNK * CHUNKS, 10);
  const STALL_AT = 10;
  const STALL_MS = 300;
  const { frames, audio, underruns, reanchors } = await agentTurn(t, h, pcm, 'r2', (k) => k * 100 + (k >= STALL_AT ? STALL_MS : 0));
  t.equal(frames.length, 75, 'one frame per 1/30 s');
  t.ok(audio.equals(pcm), 'exactly the agent audio');
  // Its audio came late, so the clock moves with it. Kept on its old schedule (as for an inference
  // tail), all 45 frames after the stall would reach the pacer late: 300 ms behind, every one.
  // On a quiet host only the first is late; the bound leaves room for a loaded one.
  t.ok(reanchors >= 1, `the clock was re-anchored (${reanchors})`);
  t.ok(underruns < 45 / 2, `the stall underruns once, not on every window after it (${underruns} late frames)`);
});
