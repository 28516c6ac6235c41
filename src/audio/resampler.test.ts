import t from 'tap';
import { PolyphaseResampler, resamplePcm16 } from './resampler.js';

function sine(freq: number, rate: number, n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => Math.sin((2 * Math.PI * freq * i) / rate));
}

function rms(x: Float32Array, from: number, to: number): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i]! ** 2;
  return Math.sqrt(s / (to - from));
}

t.test('24 kHz → 16 kHz keeps the pass band and removes what would alias', async (t) => {
  const r = new PolyphaseResampler(24_000, 16_000);
  t.equal(r.outputLength(24_000), 16_000);
  const out = new Float32Array(16_000);
  for (const f of [200, 1000, 3000, 6000]) {
    r.process(sine(f, 24_000, 24_000), 24_000, out);
    const gain = rms(out, 1000, 15_000) / Math.SQRT1_2;
    t.ok(Math.abs(gain - 1) < 0.03, `${f} Hz passes (gain ${gain.toFixed(3)})`);
  }
  // 10 kHz is above the new Nyquist (8 kHz): it would alias to 6 kHz if not filtered.
  r.process(sine(10_000, 24_000, 24_000), 24_000, out);
  const leak = rms(out, 1000, 15_000) / Math.SQRT1_2;
  t.ok(leak < 0.01, `10 kHz is attenuated by > 40 dB (${(20 * Math.log10(leak)).toFixed(1)} dB)`);
});

t.test('output is time-aligned with the input (no filter delay)', async (t) => {
  const r = new PolyphaseResampler(24_000, 16_000);
  const x = sine(300, 24_000, 4800);
  const out = new Float32Array(r.outputLength(4800));
  r.process(x, 4800, out);
  const expected = sine(300, 16_000, out.length);
  let err = 0;
  for (let i = 100; i < out.length - 100; i++) err = Math.max(err, Math.abs(out[i]! - expected[i]!));
  t.ok(err < 0.02, `max error vs an ideal 16 kHz sine: ${err.toFixed(4)}`);
});

t.test('16 kHz → 24 kHz upsampling works too', async (t) => {
  const r = new PolyphaseResampler(16_000, 24_000);
  const out = new Float32Array(r.outputLength(16_000));
  t.equal(out.length, 24_000);
  r.process(sine(1000, 16_000, 16_000), 16_000, out);
  const gain = rms(out, 1000, 23_000) / Math.SQRT1_2;
  t.ok(Math.abs(gain - 1) < 0.03, `gain ${gain.toFixed(3)}`);
});

t.test('resamplePcm16: length, passband gain, clipping', async (t) => {
  const n = 16000;
  const tone = (freqHz: number, rate: number, length: number, amplitude: number): Int16Array =>
    Int16Array.from({ length }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate)));
  const rms = (x: Int16Array, from: number, to: number): number => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
    return Math.sqrt(sum / (to - from));
  };
  const x = tone(1000, 16000, n, 10000);
  const y = resamplePcm16(x, 16000, 24000);
  t.equal(y.length, 24000, '1 s stays 1 s');
  t.ok(Math.abs(rms(y, 2400, 21600) / rms(x, 1600, 14400) - 1) < 0.01, '1 kHz passes at unity gain');
  const eightK = resamplePcm16(tone(1000, 8000, 8000, 10000), 8000, 24000);
  t.equal(eightK.length, 24000, '8 kHz voices handled too');
  t.equal(resamplePcm16(x, 24000, 24000), x, 'same rate: untouched');
  const loud = resamplePcm16(Int16Array.from({ length: 1600 }, (_, i) => (i % 2 ? 32767 : -32768)), 16000, 24000);
  t.ok(loud.every((v) => v >= -32768 && v <= 32767), 'clamped to int16');
  const input = Int16Array.from([100, 200, 300, 400, 500, 600]);
  resamplePcm16(input, 24000, 16000);
  t.same([...input], [100, 200, 300, 400, 500, 600], 'input untouched when downsampling');
});

t.test('the four-accumulator product equals a plain FIR sum, tap counts not a multiple of 4 included', async (t) => {
  for (const taps of [48, 50, 7]) {
    const r = new PolyphaseResampler(24_000, 16_000, taps);
    const x = Float32Array.from({ length: 2400 }, (_, i) => Math.sin(i * 0.05) * 0.5 + Math.cos(i * 0.71) * 0.2);
    const out = new Float32Array(r.outputLength(2400));
    r.process(x, 2400, out);
    // Reference: the same polyphase arithmetic in one running sum.
    const { phases, delayUp } = r as unknown as { phases: Float32Array[]; delayUp: number };
    let worst = 0;
    for (let j = 0; j < out.length; j++) {
      const pos = j * r.down + delayUp;
      const base = (pos - (pos % r.up)) / r.up;
      let acc = 0;
      for (let k = 0; k < taps; k++) if (base - k >= 0 && base - k < 2400) acc += phases[pos % r.up]![k]! * x[base - k]!;
      worst = Math.max(worst, Math.abs(out[j]! - Math.fround(acc)));
    }
    t.ok(worst <= 1e-6, `${taps} taps: max |diff| ${worst.toExponential(1)}`);
  }
});

t.test('coveringLength and an explicit count: the last output covers the input end', async (t) => {
  const r = new PolyphaseResampler(24_000, 16_000);
  t.equal(r.outputLength(20_000), 13_333);
  t.equal(r.coveringLength(20_000), 13_334);
  t.equal(r.coveringLength(24_000), 16_000, 'whole: no extra sample');
  const x = sine(300, 24_000, 20_000);
  const a = new Float32Array(13_334);
  t.equal(r.process(x, 20_000, a, 13_334), 13_334);
  const b = new Float32Array(13_333);
  r.process(x, 20_000, b);
  t.same(Array.from(a.subarray(0, 13_333)), Array.from(b), 'the first samples are the same');
  t.ok(Number.isFinite(a[13_333]!) && Math.abs(a[13_333]!) <= 1.1, 'the extra sample reads zeros past the end, no garbage');
});

t.test('ranges: a call in pieces is the whole call; interior samples do not depend on the edges', async (t) => {
  const r = new PolyphaseResampler(24_000, 16_000);
  // Noise-like input: every tap matters.
  let seed = 7;
  const x = Float32Array.from({ length: 21_600 }, () => ((seed = (seed * 1_103_515_245 + 12_345) >>> 0) / 2 ** 31) - 1);
  const n = r.coveringLength(21_600);
  const whole = new Float32Array(n);
  r.process(x, 21_600, whole, n);
  const pieces = new Float32Array(n);
  for (const [a, b] of [[0, 5], [5, 4000], [4000, 4001], [4001, n]] as const) r.processRange(x, 21_600, pieces, a, b);
  t.same(pieces, whole, 'bit for bit');

  // The same audio seen from a later start (a multiple of 3 samples at 24 kHz = 2 at 16 kHz) and
  // cut shorter: exactly the interior samples agree with the whole call, shifted.
  for (const [shift24, len] of [[12_000, 9_600], [3, 21_597], [300, 5_000]] as const) {
    const y = x.subarray(shift24, shift24 + len);
    const m = r.coveringLength(len);
    const part = new Float32Array(m);
    r.process(y, len, part, m);
    const [lo, hi] = r.interiorOutputs(len);
    const shift16 = (shift24 * 2) / 3;
    let same = 0;
    for (let j = lo; j < hi; j++) if (part[j] === whole[j + shift16]) same++;
    t.equal(same, hi - lo, `shift ${shift24}: all ${hi - lo} interior samples are identical`);
    t.not(part[lo - 1], whole[lo - 1 + shift16], 'the sample before the interior reads zeros before the start');
    // (where both end at the same sample, both read the same zeros past it)
    if (hi < m && shift24 + len < x.length) t.not(part[hi], whole[hi + shift16], 'the sample after it reads zeros past the end');
  }
});
