import waveResampler from 'wave-resampler';
import { PolyphaseResampler } from '../../src/audio/resampler.js';
import { MODEL_SAMPLE_RATE, OUTPUT_SAMPLE_RATE } from '../../src/audio/constants.js';
import { spread, type RunSpread } from '../quantiles.js';

/**
 * 24 → 16 kHz as the inference worker needs it: our PolyphaseResampler vs wave-resampler
 * (its default cubic + IIR low-pass, its windowed sinc, and plain linear).
 *   cost: ms to resample one 0.7 s model input (a 0.2 s window plus 0.5 s context), and the RTF;
 *   pass band: gain at 1 kHz and 6 kHz (a fitted sine, so alignment does not matter), and the
 *     SNR of a 300/1000/3000/6000 Hz mix against the exact 16 kHz signal (alignment matters);
 *   alias rejection: what is left of 9 kHz and 11 kHz tones, which 16 kHz cannot represent and
 *     which fold into the speech band (to 7 and 5 kHz) unless filtered out.
 */
export interface ResamplerResult {
  name: string;
  msPerModelInput: RunSpread;
  rtf: number;
  gain1kHzDb: number;
  gain6kHzDb: number;
  passbandSnrDb: number;
  aliasWorstDb: number;
}

type Resample = (x: Float32Array) => Float32Array;

// wave-resampler ships a CommonJS bundle: Node's ESM loader exposes it as the default export only.
const { resample } = waveResampler;
const polyphase = new PolyphaseResampler(OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE);
const CANDIDATES: Array<{ name: string; run: Resample }> = [
  {
    name: 'PolyphaseResampler (ours, 48 taps/phase)',
    run: (x) => {
      const out = new Float32Array(polyphase.outputLength(x.length));
      polyphase.process(x, x.length, out);
      return out;
    },
  },
  // wave-resampler filters its input in place when it downsamples: give it a copy.
  { name: 'wave-resampler cubic + IIR LPF (default)', run: (x) => Float32Array.from(resample(Float64Array.from(x), OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE)) },
  { name: 'wave-resampler sinc + IIR LPF', run: (x) => Float32Array.from(resample(Float64Array.from(x), OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE, { method: 'sinc' })) },
  { name: 'wave-resampler linear, no LPF', run: (x) => Float32Array.from(resample(Float64Array.from(x), OUTPUT_SAMPLE_RATE, MODEL_SAMPLE_RATE, { method: 'linear' })) },
];

function tones(rate: number, n: number, freqs: number[], amp: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) for (const f of freqs) x[i] += amp * Math.sin((2 * Math.PI * f * i) / rate);
  return x;
}

/** Amplitude of a sine of frequency f in y (least squares on sin and cos), skipping the edges. */
function fittedAmplitude(y: Float32Array, f: number, rate: number, edge: number): number {
  let ss = 0, cc = 0, sc = 0, ys = 0, yc = 0;
  for (let i = edge; i < y.length - edge; i++) {
    const s = Math.sin((2 * Math.PI * f * i) / rate);
    const c = Math.cos((2 * Math.PI * f * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; ys += y[i]! * s; yc += y[i]! * c;
  }
  const det = ss * cc - sc * sc;
  const a = (ys * cc - yc * sc) / det;
  const b = (yc * ss - ys * sc) / det;
  return Math.hypot(a, b);
}

function rms(y: Float32Array, edge: number): number {
  let s = 0;
  for (let i = edge; i < y.length - edge; i++) s += y[i]! ** 2;
  return Math.sqrt(s / (y.length - 2 * edge));
}

const db = (ratio: number) => 20 * Math.log10(ratio);

export function ablateResampler(runs: number, runMs: number): ResamplerResult[] {
  const inputS = 0.7;
  const n24 = Math.round(OUTPUT_SAMPLE_RATE * inputS);
  const speechLike = tones(OUTPUT_SAMPLE_RATE, n24, [150, 450, 900, 2500], 0.2);
  const second = OUTPUT_SAMPLE_RATE; // 1 s signals for the quality measures
  const edge = 800; // 50 ms at 16 kHz, away from the start/end transients
  return CANDIDATES.map(({ name, run }) => {
    const ms: number[] = [];
    for (let r = 0; r < runs; r++) {
      for (let i = 0; i < 20; i++) run(speechLike); // warm-up, discarded
      let reps = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < runMs || reps < 10) {
        run(speechLike);
        reps++;
      }
      ms.push((performance.now() - t0) / reps);
    }
    const gain = (f: number) => db(fittedAmplitude(run(tones(OUTPUT_SAMPLE_RATE, second, [f], 0.5)), f, MODEL_SAMPLE_RATE, edge) / 0.5);
    const mix = [300, 1000, 3000, 6000];
    const out = run(tones(OUTPUT_SAMPLE_RATE, second, mix, 0.2));
    const ideal = tones(MODEL_SAMPLE_RATE, out.length, mix, 0.2);
    const err = out.map((v, i) => v - ideal[i]!);
    const alias = Math.max(...[9000, 11_000].map((f) => rms(run(tones(OUTPUT_SAMPLE_RATE, second, [f], 0.5)), edge) / (0.5 * Math.SQRT1_2)));
    const cost = spread(ms);
    return {
      name, msPerModelInput: cost, rtf: cost.median / (inputS * 1000), gain1kHzDb: gain(1000), gain6kHzDb: gain(6000),
      passbandSnrDb: db(rms(ideal, edge) / rms(err, edge)), aliasWorstDb: db(alias),
    };
  });
}
