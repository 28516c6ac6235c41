/** Audio helpers for data generation: WAV parsing, resampling, augmentation. */
import { MODEL_SAMPLE_RATE } from '../../src/contracts/contracts.mjs';

/** Parse a PCM16 mono WAV file → { sampleRate, samples: Float32Array }. */
export function parseWav(buf) {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let pos = 12;
  let sampleRate = MODEL_SAMPLE_RATE;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    const size = view.getUint32(pos + 4, true);
    if (id === 'fmt ') sampleRate = view.getUint32(pos + 12, true);
    if (id === 'data') {
      const n = Math.floor(Math.min(size, buf.length - pos - 8) / 2);
      const samples = new Float32Array(n);
      for (let i = 0; i < n; i++) samples[i] = view.getInt16(pos + 8 + 2 * i, true) / 32768;
      return { sampleRate, samples };
    }
    pos += 8 + size + (size & 1);
  }
  throw new Error('no data chunk in WAV');
}

/** Band-limited (Hann-windowed sinc) resampling by an arbitrary ratio. */
export function resample(x, fromRate, toRate) {
  if (fromRate === toRate) return Float32Array.from(x);
  const ratio = toRate / fromRate;
  const n = Math.floor(x.length * ratio);
  const y = new Float32Array(n);
  const fc = Math.min(1, ratio) * 0.94; // fraction of the input Nyquist kept
  const half = Math.ceil(12 / fc);
  for (let i = 0; i < n; i++) {
    const center = i / ratio;
    const k0 = Math.ceil(center - half);
    const k1 = Math.floor(center + half);
    let acc = 0;
    for (let k = Math.max(0, k0); k <= Math.min(x.length - 1, k1); k++) {
      const t = k - center;
      const arg = Math.PI * fc * t;
      const sinc = t === 0 ? 1 : Math.sin(arg) / arg;
      const win = 0.5 + 0.5 * Math.cos((Math.PI * t) / half);
      acc += x[k] * fc * sinc * win;
    }
    y[i] = acc;
  }
  return y;
}

/** RBJ biquad, in place. type 'lowpass' | 'highpass'. */
export function biquad(x, sampleRate, type, freq, q = 0.707) {
  const w0 = (2 * Math.PI * freq) / sampleRate;
  const alpha = Math.sin(w0) / (2 * q);
  const cos = Math.cos(w0);
  let b0, b1, b2;
  if (type === 'lowpass') (b0 = (1 - cos) / 2), (b1 = 1 - cos), (b2 = (1 - cos) / 2);
  else (b0 = (1 + cos) / 2), (b1 = -(1 + cos)), (b2 = (1 + cos) / 2);
  const a0 = 1 + alpha;
  const a1 = -2 * cos;
  const a2 = 1 - alpha;
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    const yi = (b0 * xi + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1; x1 = xi; y2 = y1; y1 = yi;
    x[i] = yi;
  }
  return x;
}

export function rms(x) {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, x.length));
}

/**
 * Random augmentation of a 16 kHz clip, in place: band-limiting, coloured noise at a random
 * SNR, and gain. Returns a short description for the manifest.
 */
export function augment(x, rng, sampleRate = MODEL_SAMPLE_RATE) {
  const notes = [];
  const r = rng.next();
  if (r < 0.15) {
    biquad(x, sampleRate, 'highpass', 300);
    biquad(x, sampleRate, 'lowpass', 3400);
    notes.push('phone-band');
  } else if (r < 0.45) {
    const lp = rng.uniform(3500, 7200);
    biquad(x, sampleRate, 'lowpass', lp);
    notes.push(`lp${Math.round(lp)}`);
  }
  if (rng.chance(0.3)) {
    const hp = rng.uniform(80, 250);
    biquad(x, sampleRate, 'highpass', hp);
  }
  const speechRms = rms(x) || 1e-4;
  if (rng.chance(0.7)) {
    const snrDb = rng.uniform(12, 45);
    const noiseRms = speechRms / 10 ** (snrDb / 20);
    const colour = rng.pick(['white', 'pink', 'brown']);
    let b0 = 0, b1 = 0, b2 = 0, prev = 0;
    const noise = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const w = rng.normal();
      if (colour === 'white') noise[i] = w;
      else if (colour === 'pink') {
        b0 = 0.99765 * b0 + w * 0.099046; b1 = 0.963 * b1 + w * 0.2965164; b2 = 0.57 * b2 + w * 1.0526913;
        noise[i] = (b0 + b1 + b2 + w * 0.1848) * 0.25;
      } else noise[i] = prev = 0.98 * prev + w * 0.2;
    }
    const k = noiseRms / (rms(noise) || 1);
    for (let i = 0; i < x.length; i++) x[i] += noise[i] * k;
    notes.push(`${colour}${Math.round(snrDb)}dB`);
  }
  const peakTarget = 10 ** (rng.uniform(-30, -1) / 20);
  let peak = 1e-6;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  const g = peakTarget / peak;
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i] * g));
  notes.push(`peak${Math.round(20 * Math.log10(peakTarget))}dB`);
  return notes.join(',');
}
