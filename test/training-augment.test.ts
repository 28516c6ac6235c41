import t from 'tap';
import path from 'node:path';

// The training data's channel simulation (training/lib/audio.mjs): what the lip-sync model learns
// real audio looks like. Plain JS outside the build, imported from the repository root.
type Rng = { next(): number };
const audio = (await import(path.resolve('training/lib/audio.mjs'))) as {
  addRoomTone(x: Float32Array, rng: Rng, levelDb: number): string;
  addReverb(x: Float32Array, rng: Rng): string;
  telephoneBand(x: Float32Array, rng: Rng): string;
  augment(x: Float32Array, rng: Rng, sampleRate?: number, condition?: string): string;
  rms(x: Float32Array): number;
  biquad(x: Float32Array, sampleRate: number, type: 'lowpass' | 'highpass', freq: number): Float32Array;
};
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): Rng };
const SR = 16_000;
const db = (v: number) => 20 * Math.log10(v);

/** 1 s silence, 1 s of a 220 Hz tone with harmonics at −6 dBFS peak, 1 s silence. */
function clip(): Float32Array {
  const x = new Float32Array(3 * SR);
  for (let i = SR; i < 2 * SR; i++) x[i] = 0.25 * (Math.sin((2 * Math.PI * 220 * i) / SR) + Math.sin((2 * Math.PI * 660 * i) / SR));
  return x;
}

t.test('room tone fills the pauses at the level asked for, whatever its shape', async (t) => {
  for (let seed = 1; seed <= 12; seed++) {
    const x = clip();
    const level = -30 - seed * 2.5;
    const notes = audio.addRoomTone(x, makeRng(seed), level);
    const pause = x.subarray(0, SR);
    let mean = 0;
    for (const v of pause) mean += v / pause.length;
    const ac = pause.map((v) => v - mean);
    t.ok(Math.abs(db(audio.rms(ac)) - level) < 3, `seed ${seed} (${notes}): pause at ${db(audio.rms(ac)).toFixed(1)} dBFS, asked ${level}`);
  }
});

t.test('reverberation rings after the sound stops, stays finite and decays', async (t) => {
  for (let seed = 1; seed <= 6; seed++) {
    const x = clip();
    const notes = audio.addReverb(x, makeRng(seed));
    t.ok(x.every(Number.isFinite), `seed ${seed} (${notes}): finite`);
    const justAfter = audio.rms(x.subarray(2 * SR, 2 * SR + 800));
    const later = audio.rms(x.subarray(3 * SR - 1600));
    t.ok(justAfter > 1e-4, `tail right after the sound: ${db(justAfter).toFixed(1)} dBFS`);
    t.ok(later < justAfter / 10, `and it decays: ${db(later).toFixed(1)} dBFS at the end`);
  }
});

t.test('telephone band removes the low end and keeps the voice band', async (t) => {
  const x = new Float32Array(SR);
  for (let i = 0; i < x.length; i++) x[i] = 0.2 * Math.sin((2 * Math.PI * 100 * i) / SR) + 0.2 * Math.sin((2 * Math.PI * 1000 * i) / SR);
  audio.telephoneBand(x, makeRng(3));
  const low = audio.biquad(Float32Array.from(x), SR, 'lowpass', 150);
  const mid = audio.biquad(audio.biquad(Float32Array.from(x), SR, 'highpass', 700), SR, 'lowpass', 1400);
  t.ok(audio.rms(low) < audio.rms(mid) / 4, `100 Hz ${db(audio.rms(low)).toFixed(1)} dB vs 1 kHz ${db(audio.rms(mid)).toFixed(1)} dB`);
});

t.test('eval conditions: room tone sits 30–50 dB under the peak; the training mix is deterministic per seed', async (t) => {
  for (let seed = 1; seed <= 6; seed++) {
    const x = clip();
    audio.augment(x, makeRng(seed), SR, 'room');
    let peak = 0;
    for (const v of x) peak = Math.max(peak, Math.abs(v));
    const tail = audio.rms(x.subarray(3 * SR - 4000)); // after any reverberation has died away
    const below = db(peak) - db(tail);
    t.ok(below > 24 && below < 56, `seed ${seed}: room tone ${below.toFixed(1)} dB under the peak`);
  }
  const a = clip(), b = clip();
  t.equal(audio.augment(a, makeRng(9)), audio.augment(b, makeRng(9)));
  t.same(Array.from(a.subarray(0, 2000)), Array.from(b.subarray(0, 2000)));
});
