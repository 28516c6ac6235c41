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

/** A test signal that changes every sample (so a misplaced or re-resampled sample shows). */
function chirp(samples: number, seed = 1): Int16Array {
  const pcm = new Int16Array(samples);
  for (let i = 0; i < samples; i++) pcm[i] = Math.round(9000 * Math.sin(0.0003 * i * i + seed) + 3000 * Math.sin(0.37 * i));
  return pcm;
}

/** Every window the track hands out (without running them), releasing each as inference would. */
function drain(track: SpeechTrack): Array<Exclude<ReturnType<SpeechTrack['nextWindow']>, null>> {
  const reqs = [];
  for (let req = track.nextWindow(); req; req = track.nextWindow()) {
    reqs.push(req);
    track.ring.release(req.releaseTo);
    track.onWeights(req.id, null, Math.ceil((req.end - req.start) / 800));
  }
  return reqs;
}

t.test('right context: a window reads up to 100 ms of the audio after it when the segment has it; the last window none', async (t) => {
  const pcm = chirp(16_000 * 3 + 333); // 3.02 s, one response at once (frame-stream)
  const withRight = new SpeechTrack(PcmRing.create(24_000 * 10), { rightContextSamples: 2400 });
  const without = new SpeechTrack(PcmRing.create(24_000 * 10));
  for (const track of [withRight, without]) {
    track.append(pcm);
    track.end();
  }
  const a = drain(withRight);
  const b = drain(without);
  const len24 = Math.ceil((pcm.length * 3) / 2);
  t.same(a.map((r) => [r.contextStart, r.start, r.end, r.firstFrameIndex, r.final, r.releaseTo]), b.map((r) => [r.contextStart, r.start, r.end, r.firstFrameIndex, r.final, r.releaseTo]), 'the same windows, cut at the same places');
  t.ok(a.length >= 3, `${a.length} windows`);
  for (const r of a.slice(0, -1)) t.equal(r.readEnd, Math.min(r.end + 2400, len24), `window ${r.start}–${r.end} reads to ${r.readEnd}`);
  t.equal(a.at(-1)!.readEnd, undefined, 'the last window has nothing after it');
  t.ok(b.every((r) => r.readEnd === undefined), 'no right context unless asked for');
  // The audio written early as right context is what the next window would have written itself.
  const x = new Int16Array(len24), y = new Int16Array(len24);
  withRight.ring.readPcm(0, len24, x);
  without.ring.readPcm(0, len24, y);
  t.ok(x.every((v, i) => v === y[i]), 'the ring holds the same samples, bit for bit');
});

t.test('right context while speech streams in (MuseTalk): never past the audio that can be resampled, never a wait', async (t) => {
  const pcm = chirp(16_000 * 2 + 500, 2);
  const withRight = new SpeechTrack(PcmRing.create(24_000 * 10), { rightContextSamples: 2400 });
  const without = new SpeechTrack(PcmRing.create(24_000 * 10));
  const a: ReturnType<typeof drain> = [], b: ReturnType<typeof drain> = [];
  let withSome = 0;
  for (let at = 0; at < pcm.length; at += 320) { // 20 ms chunks
    const chunk = pcm.subarray(at, Math.min(pcm.length, at + 320));
    withRight.append(chunk);
    without.append(chunk);
    const got = drain(withRight);
    b.push(...drain(without));
    const computable24 = Math.floor(((Math.min(pcm.length, at + 320) - 32) * 3) / 2);
    for (const r of got) {
      if (r.readEnd !== undefined) {
        withSome++;
        t.ok(r.readEnd <= computable24, `readEnd ${r.readEnd} ≤ what the resampler can produce now (${computable24})`);
        t.ok(r.readEnd - r.end <= 2400 && (r.readEnd - r.end) % 3 === 0, 'at most 100 ms, in whole 3-sample steps');
      }
    }
    a.push(...got);
  }
  withRight.end();
  without.end();
  a.push(...drain(withRight));
  b.push(...drain(without));
  t.same(a.map((r) => [r.start, r.end, r.final]), b.map((r) => [r.start, r.end, r.final]), 'windows leave at the same moments as without right context');
  t.ok(withSome > 0, `${withSome} of ${a.length} windows had some audio after them`);
  const len24 = Math.ceil((pcm.length * 3) / 2);
  const x = new Int16Array(len24), y = new Int16Array(len24);
  withRight.ring.readPcm(0, len24, x);
  without.ring.readPcm(0, len24, y);
  t.ok(x.every((v, i) => v === y[i]), 'the ring holds the same samples, bit for bit');
});

t.test('right context never overwrites audio a window in flight still reads', async (t) => {
  const ring = PcmRing.create(8400); // a block, its right context and a quarter block more
  const track = new SpeechTrack(ring, { contextSamples: 2400, rightContextSamples: 2400, maxWindowSamples: 4800 });
  track.append(chirp(16_000, 3));
  track.end();
  const first = track.nextWindow()!;
  t.same([first.start, first.end, first.readEnd], [0, 4800, 7200], 'the first window takes its full right context');
  track.onWeights(first.id, null, 6);
  // Not released yet: the second window [4800, 9600) does not fit in the ring.
  t.equal(track.nextWindow(), null, 'the ring is full until the first window releases');
  ring.release(first.releaseTo);
  const second = track.nextWindow()!;
  t.same([second.start, second.end], [4800, 9600], 'the second window leaves once the first released');
  t.equal(second.readEnd, first.releaseTo + ring.capacity, 'its right context shrinks to the free ring (1200 of 2400 samples)');
});
