import t from 'tap';
import { PcmRing } from '../audio/pcm-ring.js';
import { ARKIT_COUNT } from '../protocol/arkit.js';
import { SpeechTrack } from './speech-track.js';
import { weightsAt25Fps } from './video-clock.js';

/** Stand-in for the inference pool: frame f of the 30 FPS output has every weight = f / 1000. */
function infer(track: SpeechTrack): number {
  let windows = 0;
  for (let req = track.nextWindow(); req; req = track.nextWindow()) {
    const frames = Math.ceil((req.end - req.start) / 800);
    const w = new Float32Array(frames * ARKIT_COUNT);
    for (let f = 0; f < frames; f++) w.fill((req.firstFrameIndex + f) / 1000, f * ARKIT_COUNT, (f + 1) * ARKIT_COUNT);
    track.ring.release(req.releaseTo);
    track.onWeights(req.id, w, frames);
    windows++;
  }
  return windows;
}

t.test('N chunks of 40 ms give N frames, in order, with 30→25 FPS interpolation', async (t) => {
  const track = new SpeechTrack(PcmRing.create(24_000 * 10));
  const chunk = new Int16Array(640).fill(1000);
  for (let i = 0; i < 17; i++) track.append(chunk);
  t.equal(track.queuedFrames, 17);
  infer(track);
  t.ok(track.readyFrames() < 17, 'an open segment holds back frames that need more audio');
  track.end();
  infer(track);
  t.equal(track.readyFrames(), 17);
  const out = new Float32Array(ARKIT_COUNT);
  const got: number[] = [];
  let last = false;
  for (let r = track.take(out); r; r = track.take(out)) {
    got.push(out[0]!);
    last = r.last;
  }
  t.equal(got.length, 17);
  t.ok(last, 'the last frame ends the segment');
  // Frame q's centre is at 30 FPS position 1.2q + 0.1.
  t.ok(Math.abs(got[5]! - 6.1 / 1000) < 1e-6, `frame 5 ≈ 6.1/1000, got ${got[5]}`);
  t.equal(track.queuedFrames, 0);
});

t.test('a partial last chunk is one more frame; the next segment starts fresh', async (t) => {
  const track = new SpeechTrack(PcmRing.create(24_000 * 10));
  track.append(new Int16Array(640 * 3 + 100));
  track.end();
  track.append(new Int16Array(640 * 2));
  track.end();
  t.equal(track.queuedFrames, 6);
  infer(track);
  const out = new Float32Array(ARKIT_COUNT);
  let n = 0;
  while (track.take(out)) n++;
  t.equal(n, 6);
});

t.test('long speech streams through the ring in several windows', async (t) => {
  const track = new SpeechTrack(PcmRing.create(24_000 * 2));
  const out = new Float32Array(ARKIT_COUNT);
  let taken = 0;
  let windows = 0;
  for (let i = 0; i < 250; i++) {
    track.append(new Int16Array(640).fill(i));
    windows += infer(track);
    while (track.take(out)) taken++;
  }
  track.end();
  windows += infer(track);
  while (track.take(out)) taken++;
  t.equal(taken, 250);
  t.ok(windows >= 10, `${windows} windows`);
});

t.test('weightsAt25Fps clamps at the ends', async (t) => {
  const w = new Float32Array(3 * ARKIT_COUNT);
  w.fill(1, 2 * ARKIT_COUNT);
  const out = new Float32Array(ARKIT_COUNT);
  weightsAt25Fps(w, 3, 10, out);
  t.equal(out[0], 1);
  weightsAt25Fps(w, 0, 0, out);
  t.equal(out[0], 0);
});
