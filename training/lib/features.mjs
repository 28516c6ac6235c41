/**
 * Log-mel front end. The same numbers build the ONNX graph (onnx-graph.mjs) and, through that
 * graph run by onnxruntime-node, the training features, so train and serve can never drift.
 */
import ort from 'onnxruntime-node';
import { MODEL_SAMPLE_RATE } from '../../src/contracts/contracts.mjs';

export const FEATURES = {
  SAMPLE_RATE: MODEL_SAMPLE_RATE,
  WINDOW: 400, // 25 ms Hann window
  HOP: 160, // 10 ms → 100 feature frames per second
  PAD_LEFT: 120, // frame j covers samples [160j − 120, 160j + 280): centred on the middle of hop j
  PAD_RIGHT: 280,
  MELS: 40,
  FMIN: 60,
  FMAX: 7800,
  LOG_FLOOR: 1e-5,
  FRAME_RATE: 100,
};

const hzToMel = (f) => 2595 * Math.log10(1 + f / 700);
const melToHz = (m) => 700 * (10 ** (m / 2595) - 1);

/** Triangular HTK-mel filterbank, [MELS × BINS] row-major, BINS = WINDOW / 2 + 1. */
export function melFilterbank() {
  const { WINDOW, SAMPLE_RATE, MELS, FMIN, FMAX } = FEATURES;
  const bins = WINDOW / 2 + 1;
  const fb = new Float32Array(MELS * bins);
  const edges = [];
  for (let i = 0; i < MELS + 2; i++) edges.push(melToHz(hzToMel(FMIN) + ((hzToMel(FMAX) - hzToMel(FMIN)) * i) / (MELS + 1)));
  for (let m = 0; m < MELS; m++) {
    const [lo, mid, hi] = [edges[m], edges[m + 1], edges[m + 2]];
    for (let k = 0; k < bins; k++) {
      const f = (k * SAMPLE_RATE) / WINDOW;
      const w = f <= lo || f >= hi ? 0 : f <= mid ? (f - lo) / (mid - lo) : (hi - f) / (hi - mid);
      fb[m * bins + k] = w;
    }
  }
  return fb;
}

/** Windowed DFT as Conv weights: rows 0..BINS-1 = cos, BINS..2·BINS-1 = −sin; [rows × WINDOW]. */
export function dftKernel() {
  const { WINDOW } = FEATURES;
  const bins = WINDOW / 2 + 1;
  const rows = 2 * bins;
  const weights = new Float32Array(rows * WINDOW);
  for (let n = 0; n < WINDOW; n++) {
    const hann = 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WINDOW);
    for (let k = 0; k < bins; k++) {
      const phase = (2 * Math.PI * k * n) / WINDOW;
      weights[k * WINDOW + n] = hann * Math.cos(phase);
      weights[(bins + k) * WINDOW + n] = -hann * Math.sin(phase);
    }
  }
  return { weights, rows };
}

/**
 * Frequency warp of the mel axis (vocal-tract-length perturbation in the feature domain): band m
 * of the output reads the spectrum at f_m / alpha, so alpha > 1 raises formants and harmonics
 * together, as a shorter vocal tract does. Returns for each band the source band (fractional,
 * clamped to the bank) as { i0: Int32Array, frac: Float32Array } for linear interpolation.
 */
export function melWarp(alpha) {
  const { MELS, FMIN, FMAX } = FEATURES;
  const lo = hzToMel(FMIN);
  const step = (hzToMel(FMAX) - lo) / (MELS + 1);
  const i0 = new Int32Array(MELS);
  const frac = new Float32Array(MELS);
  for (let m = 0; m < MELS; m++) {
    const centre = melToHz(lo + step * (m + 1));
    const src = Math.min(MELS - 1, Math.max(0, (hzToMel(centre / alpha) - lo) / step - 1));
    i0[m] = Math.min(MELS - 2, Math.floor(src));
    frac[m] = src - i0[m];
  }
  return { i0, frac };
}

/** Number of feature frames for N samples. */
export const featureFrames = (n) => Math.floor(n / FEATURES.HOP) + 1;

/** Runs the feature-only ONNX graph; returns frame-major Float32Array [F × MELS]. */
export class FeatureExtractor {
  static async create(modelBytes) {
    const fx = new FeatureExtractor();
    fx.session = await ort.InferenceSession.create(modelBytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return fx;
  }
  async compute(samples) {
    const out = await this.session.run({ audio: new ort.Tensor('float32', samples, [1, samples.length]) });
    const y = out.logmel;
    const [, mels, frames] = y.dims;
    const chanMajor = y.data;
    const frameMajor = new Float32Array(frames * mels);
    for (let m = 0; m < mels; m++) for (let j = 0; j < frames; j++) frameMajor[j * mels + m] = chanMajor[m * frames + j];
    return { frames, data: frameMajor };
  }
}
