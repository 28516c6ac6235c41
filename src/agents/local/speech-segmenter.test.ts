import t from 'tap';
import { SpeechSegmenter, type SegmenterOptions } from './speech-segmenter.js';

// 32 ms frames at 16 kHz, as Silero v5 gives them; round numbers of frames below.
const base: SegmenterOptions = {
  threshold: 0.5, negativeThreshold: 0.35, minSilenceMs: 320, minSpeechMs: 96, speechPadMs: 64, maxSpeechMs: 30_000,
  frameSamples: 512, sampleRate: 16_000,
};
const F = 512;
const repeat = (p: number, n: number): number[] => Array.from({ length: n }, () => p);

t.test('start after min speech, end after min silence, padded bounds', async (t) => {
  const seg = new SpeechSegmenter(base);
  t.same(seg.push(repeat(0.05, 20)), []);
  t.same(seg.push([0.9, 0.9]), [], 'two frames are not yet min speech (3 frames)');
  t.same(seg.push([0.9]), [{ type: 'speechStart', startSample: 20 * F - 1024 }], 'confirmed on the third frame; start padded by 64 ms');
  t.ok(seg.inSpeech);
  t.same(seg.push(repeat(0.9, 17)), []);
  // Speech occupied frames 20..39; silence from frame 40 needs 10 frames (320 ms).
  t.same(seg.push(repeat(0.1, 9)), []);
  t.same(seg.push([0.1]), [{ type: 'speechEnd', startSample: 20 * F - 1024, endSample: 40 * F + 1024, reason: 'silence' }]);
  t.notOk(seg.inSpeech);
});

t.test('hysteresis: frames between the thresholds neither start, end, nor break a silence', async (t) => {
  const seg = new SpeechSegmenter(base);
  t.same(seg.push(repeat(0.45, 30)), [], 'below threshold never starts');
  t.equal(seg.push(repeat(0.8, 3)).length, 1);
  t.same(seg.push(repeat(0.4, 50)), [], 'between the thresholds speech goes on');
  t.same(seg.push(repeat(0.2, 5)), []);
  t.same(seg.push(repeat(0.4, 4)), [], 'a silence run is not reset by frames under the threshold');
  const [end] = seg.push([0.3]);
  t.match(end, { type: 'speechEnd', reason: 'silence', endSample: (30 + 3 + 50) * F + 1024 });
});

t.test('a dip below the negative threshold resets the silence count only when speech returns above threshold', async (t) => {
  const seg = new SpeechSegmenter(base);
  seg.push(repeat(0.9, 5));
  t.same(seg.push([...repeat(0.1, 8), 0.9, ...repeat(0.1, 8)]), [], 'a word after a short pause keeps the utterance');
  const [end] = seg.push(repeat(0.1, 2));
  t.match(end, { type: 'speechEnd', endSample: 14 * F + 1024 });
});

t.test('short bursts are ignored; the pad never reaches before 0 or past the audio', async (t) => {
  const seg = new SpeechSegmenter(base);
  t.same(seg.push([0.9, 0.9, 0.1, 0.9, 0.9, 0.2]), [], 'clicks shorter than min speech');
  const pad = new SpeechSegmenter({ ...base, speechPadMs: 1000 });
  t.same(pad.push(repeat(0.9, 3)), [{ type: 'speechStart', startSample: 0 }]);
  const [end] = pad.push(repeat(0.0, 10));
  t.match(end, { startSample: 0, endSample: 13 * F }, 'end pad clipped to what was fed');
});

t.test('max length and flush end an utterance', async (t) => {
  const seg = new SpeechSegmenter({ ...base, maxSpeechMs: 640 });
  const events = seg.push(repeat(0.9, 25));
  t.same(events.map((e) => e.type), ['speechStart', 'speechEnd', 'speechStart']);
  t.match(events[1], { reason: 'maxLength', startSample: 0, endSample: 20 * F });
  const flushed = seg.flush();
  t.match(flushed, { type: 'speechEnd', reason: 'flush', endSample: 25 * F });
  t.equal(seg.flush(), null, 'nothing to flush in silence');
  t.throws(() => new SpeechSegmenter({ ...base, negativeThreshold: 0.6 }), /negativeThreshold/);
});
