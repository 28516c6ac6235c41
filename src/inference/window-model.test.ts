import t from 'tap';
import { fileURLToPath } from 'node:url';
import { WindowModel } from './window-model.js';
import { PcmRing } from '../audio/pcm-ring.js';
import { SAMPLES_PER_FRAME } from '../audio/constants.js';
import { syntheticSpeech } from '../../test/helpers/fake-remote-agent.js';
import type { WindowTask } from './tasks.js';

const MODEL = fileURLToPath(new URL('../../../pretrained_models/lipsync-small.onnx', import.meta.url));

function task(turnId: string, contextStart: number, start: number, end: number, ring: PcmRing): WindowTask {
  return { kind: 'window', ring: ring.sab, sessionId: 's', turnId, contextStart, start, end, firstFrameIndex: start / SAMPLES_PER_FRAME, final: false, releaseTo: 0 };
}

t.test('a turn\'s next window reuses the resampled context, with exactly the weights of a full resample', async (t) => {
  const ring = PcmRing.create(24_000 * 8);
  const pcm = syntheticSpeech(6, { f0: 130, seed: 11 });
  t.equal(ring.write(0, pcm), pcm.length / 2, 'six seconds of speech in the ring');
  const reusing = await WindowModel.create(MODEL);
  const fresh = await WindowModel.create(MODEL);
  t.teardown(() => Promise.all([reusing.release(), fresh.release()]));
  // The scheduler's windows: a short first one without context, full ones with 400 ms of it,
  // and partial windows of whole frames (shifts that are not whole 16 kHz samples, too).
  const frames = [6, 15, 15, 7, 15, 4, 15, 15, 8];
  let start = 0;
  for (const [i, f] of frames.entries()) {
    const end = start + f * SAMPLES_PER_FRAME;
    const contextStart = Math.max(0, start - 9_600);
    const w = task('t1', contextStart, start, end, ring);
    const got = await reusing.weights(ring, w, f);
    // The control sees every window as a turn's first (a new turn id), so resamples all of it.
    const want = await fresh.weights(ring, task(`control${i}`, contextStart, start, end, ring), f);
    t.same(got.weights, want.weights, `window ${i} (${f} frames): the same weights, bit for bit`);
    start = end;
  }
  t.equal(fresh.reusedSamples, 0, 'the control never reused');
  // Windows 1, 2, 3, 5, 7 and 8 follow a whole number of 16 kHz samples (a multiple of 3 frames
  // before them); 4 and 6 follow 7 and 4 frames and resample everything.
  t.ok(reusing.reusedSamples > 3_000 + 5 * 4_800, `most of each such context was reused (${reusing.reusedSamples} samples at 16 kHz)`);
});

t.test('turns interleaved on one worker each reuse their own context; a final window forgets its turn', async (t) => {
  const ring = PcmRing.create(24_000 * 8);
  t.equal(ring.write(0, syntheticSpeech(8, { f0: 150, seed: 2 })), 192_000);
  const m = await WindowModel.create(MODEL);
  const control = await WindowModel.create(MODEL);
  t.teardown(() => Promise.all([m.release(), control.release()]));
  // Three turns over different parts of the ring, their windows in turns (as a busy worker runs them).
  const bases = [0, 60_000, 120_000];
  for (let k = 0; k < 4; k++) {
    for (const [i, base] of bases.entries()) {
      const start = base + 4_800 + k * 12_000;
      const w = { ...task(`turn${i}`, Math.max(base, start - 9_600), start, start + 12_000, ring), final: k === 3 };
      const got = await m.weights(ring, w, 15);
      const want = await control.weights(ring, { ...w, turnId: `control${i}-${k}` }, 15);
      t.same(got.weights, want.weights, `turn ${i} window ${k + 1}: bit for bit`);
    }
  }
  t.ok(m.reusedSamples >= 9 * 6_000, `each turn's windows 2-4 reused their context although other turns ran between (${m.reusedSamples})`);
  const before = m.reusedSamples;
  await m.weights(ring, task('turn0', 0 + 4_800 + 3 * 12_000, 52_800, 64_800, ring), 15);
  t.equal(m.reusedSamples, before, 'after its final window a turn is forgotten');
});

t.test('a window of another turn, or an earlier one, resamples everything', async (t) => {
  const ring = PcmRing.create(24_000 * 4);
  t.equal(ring.write(0, syntheticSpeech(3, { f0: 200, seed: 5 })), 72_000);
  const m = await WindowModel.create(MODEL);
  t.teardown(() => m.release());
  await m.weights(ring, task('a', 0, 9_600, 21_600, ring), 15);
  await m.weights(ring, task('b', 12_000, 21_600, 33_600, ring), 15);
  t.equal(m.reusedSamples, 0, 'another turn');
  await m.weights(ring, task('b', 0, 9_600, 21_600, ring), 15);
  t.equal(m.reusedSamples, 0, 'an earlier window of the same turn');
  await m.weights(ring, task('b', 12_000, 21_600, 33_600, ring), 15);
  t.ok(m.reusedSamples > 0, 'the next window of the same turn reuses');
});
