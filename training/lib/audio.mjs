/** Audio helpers for data generation: WAV parsing, resampling, augmentation. */
import { MODEL_SAMPLE_RATE } from '../../src/contracts/contracts.mjs';

/** Parse a PCM16 mono WAV file → { sampleRate, samples: Float32Array }. */
/** Float32Arrays joined end to end into one new array. */
export function concatFloat32(pieces) {
  const out = new Float32Array(pieces.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of pieces) out.set(p, o), (o += p.length);
  return out;
}

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

/** Largest absolute sample (at least 1e-6, so it can divide). */
export function peakOf(x) {
  let peak = 1e-6;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  return peak;
}

/** Coloured noise (white / pink / brown), unit-free; the caller scales it. */
function colouredNoise(n, colour, rng) {
  let b0 = 0, b1 = 0, b2 = 0, prev = 0;
  const noise = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const w = rng.normal();
    if (colour === 'white') noise[i] = w;
    else if (colour === 'pink') {
      b0 = 0.99765 * b0 + w * 0.099046; b1 = 0.963 * b1 + w * 0.2965164; b2 = 0.57 * b2 + w * 1.0526913;
      noise[i] = (b0 + b1 + b2 + w * 0.1848) * 0.25;
    } else noise[i] = prev = 0.98 * prev + w * 0.2;
  }
  return noise;
}

/** Add `noise` to `x` scaled to an RMS of `targetRms`. */
function mixAtRms(x, noise, targetRms) {
  const k = targetRms / (rms(noise) || 1);
  for (let i = 0; i < x.length; i++) x[i] += noise[i] * k;
}

/**
 * Room tone: what a real microphone records between words — ventilation rumble and the
 * microphone's own hiss with a random spectral shape, sometimes mains hum (50/60 Hz and its
 * harmonics), slowly breathing in level. Added over the whole clip at an RMS `levelDb` relative to
 * full scale. The targets stay neutral in pauses: the model must learn that this is not speech.
 */
export function addRoomTone(x, rng, levelDb, sampleRate = MODEL_SAMPLE_RATE) {
  const n = x.length;
  const tone = colouredNoise(n, rng.pick(['pink', 'brown', 'brown', 'white']), rng);
  biquad(tone, sampleRate, 'lowpass', Math.exp(rng.uniform(Math.log(150), Math.log(6000))));
  if (rng.chance(0.5)) biquad(tone, sampleRate, 'highpass', rng.uniform(20, 120));
  const notes = [`room${Math.round(levelDb)}dB`];
  if (rng.chance(0.3)) {
    const f0 = rng.pick([50, 60]);
    const toneRms = rms(tone) || 1;
    const humRms = toneRms * 10 ** (rng.uniform(-12, 3) / 20);
    const amps = Array.from({ length: rng.int(1, 7) }, (_, h) => rng.uniform(0.2, 1) / (h + 1));
    const phases = amps.map(() => rng.uniform(0, 2 * Math.PI));
    const norm = humRms / Math.sqrt(amps.reduce((s, a) => s + (a * a) / 2, 0));
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let h = 0; h < amps.length; h++) v += amps[h] * Math.sin((2 * Math.PI * f0 * (h + 1) * i) / sampleRate + phases[h]);
      tone[i] += v * norm;
    }
    notes.push(`hum${f0}`);
  }
  if (rng.chance(0.5)) {
    // Slow level changes of a few dB (air handling, distance): sum of two slow sines.
    const depth = rng.uniform(0.1, 0.4);
    const fa = rng.uniform(0.1, 1), fb = rng.uniform(0.3, 2), pa = rng.uniform(0, 6.3), pb = rng.uniform(0, 6.3);
    for (let i = 0; i < n; i++) {
      const t = i / sampleRate;
      tone[i] *= 1 + depth * 0.5 * (Math.sin(2 * Math.PI * fa * t + pa) + Math.sin(2 * Math.PI * fb * t + pb));
    }
  }
  mixAtRms(x, tone, 10 ** (levelDb / 20));
  return notes.join(',');
}

/**
 * Small-room reverberation: four parallel damped feedback combs (decay set by a random RT60)
 * into two allpasses, mixed under the dry signal. The lips close while the room still rings, so
 * the model must not read the tail as speech.
 */
export function addReverb(x, rng, sampleRate = MODEL_SAMPLE_RATE) {
  const rt60 = rng.uniform(0.15, 0.9);
  const size = rng.uniform(0.6, 1.3);
  const damp = rng.uniform(0.1, 0.5);
  const wet = new Float32Array(x.length);
  for (const ms of [29.7, 37.1, 41.1, 43.7]) {
    const d = Math.max(1, Math.round((ms * size * sampleRate) / 1000));
    const g = 10 ** ((-3 * d) / sampleRate / rt60);
    const buf = new Float32Array(d);
    let lp = 0;
    for (let i = 0, j = 0; i < x.length; i++, j = (j + 1) % d) {
      const y = buf[j];
      lp = y * (1 - damp) + lp * damp;
      buf[j] = x[i] + g * lp;
      wet[i] += y;
    }
  }
  for (const [ms, g] of [[5, 0.7], [1.7, 0.7]]) {
    const d = Math.max(1, Math.round((ms * sampleRate) / 1000));
    const buf = new Float32Array(d);
    for (let i = 0, j = 0; i < wet.length; i++, j = (j + 1) % d) {
      const b = buf[j];
      const v = wet[i] + g * b;
      buf[j] = v;
      wet[i] = b - g * v;
    }
  }
  const ratioDb = rng.uniform(-18, -4); // wet RMS relative to dry
  const k = (rms(x) * 10 ** (ratioDb / 20)) / (rms(wet) || 1);
  for (let i = 0; i < x.length; i++) x[i] += wet[i] * k;
  return `rev${rt60.toFixed(2)}s${Math.round(ratioDb)}dB`;
}

/** Telephone / codec band: 300–3400 Hz and, half the time, 8-bit µ-law companding. */
export function telephoneBand(x, rng, sampleRate = MODEL_SAMPLE_RATE) {
  biquad(x, sampleRate, 'highpass', 300);
  biquad(x, sampleRate, 'lowpass', 3400);
  if (!rng.chance(0.5)) return 'phone-band';
  const mu = 255;
  const peak = peakOf(x);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] / peak;
    const c = Math.sign(v) * Math.log1p(mu * Math.abs(v)) / Math.log1p(mu);
    const q = Math.round(c * 127) / 127;
    x[i] = peak * Math.sign(q) * ((1 + mu) ** Math.abs(q) - 1) / mu;
  }
  return 'phone-band,mulaw';
}

/** Scale in place so the peak is `peak` (linear, clipped to ±1). */
export function setPeak(x, peak) {
  const g = peak / peakOf(x);
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i] * g));
}

/**
 * Random augmentation of a 16 kHz clip, in place. Returns a short description for the manifest.
 *  - condition 'train' (default): the training mix — reverberation, telephone band / low-pass /
 *    high-pass, stationary coloured noise at a random SNR, gain over a 30 dB range, and room tone
 *    25–62 dB under the speech peak (real recordings and agents' audio carry it in every pause);
 *  - 'room': room tone 30–50 dB under the peak, reverberation on half the clips (an eval condition);
 *  - 'band': telephone band (and µ-law half the time) with faint room tone (an eval condition).
 */
export function augment(x, rng, sampleRate = MODEL_SAMPLE_RATE, condition = 'train') {
  const notes = [];
  if (condition === 'room') {
    if (rng.chance(0.5)) notes.push(addReverb(x, rng, sampleRate));
    const peakDb = rng.uniform(-12, -1);
    setPeak(x, 10 ** (peakDb / 20));
    notes.push(addRoomTone(x, rng, peakDb - rng.uniform(30, 50), sampleRate));
    return notes.join(',');
  }
  if (condition === 'band') {
    notes.push(telephoneBand(x, rng, sampleRate));
    const peakDb = rng.uniform(-12, -1);
    setPeak(x, 10 ** (peakDb / 20));
    notes.push(addRoomTone(x, rng, peakDb - rng.uniform(45, 60), sampleRate));
    return notes.join(',');
  }
  if (rng.chance(0.35)) notes.push(addReverb(x, rng, sampleRate));
  const r = rng.next();
  if (r < 0.15) notes.push(telephoneBand(x, rng, sampleRate));
  else if (r < 0.45) {
    const lp = rng.uniform(3500, 7200);
    biquad(x, sampleRate, 'lowpass', lp);
    notes.push(`lp${Math.round(lp)}`);
  }
  if (rng.chance(0.3)) {
    const hp = rng.uniform(80, 250);
    biquad(x, sampleRate, 'highpass', hp);
  }
  if (rng.chance(0.4)) {
    const snrDb = rng.uniform(12, 45);
    const colour = rng.pick(['white', 'pink', 'brown']);
    mixAtRms(x, colouredNoise(x.length, colour, rng), (rms(x) || 1e-4) / 10 ** (snrDb / 20));
    notes.push(`${colour}${Math.round(snrDb)}dB`);
  }
  const peakDb = rng.uniform(-30, -1);
  setPeak(x, 10 ** (peakDb / 20));
  if (rng.chance(0.75)) notes.push(addRoomTone(x, rng, peakDb - rng.uniform(25, 62), sampleRate));
  for (let i = 0; i < x.length; i++) x[i] = Math.max(-1, Math.min(1, x[i]));
  notes.push(`peak${Math.round(peakDb)}dB`);
  return notes.join(',');
}
