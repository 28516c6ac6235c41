#!/usr/bin/env node
/**
 * Trainer: our own small conv net; forward, loss and hand-derived backward pass run as ONNX graphs
 * on onnxruntime-node's multi-threaded CPU kernels (lib/ort-net.mjs, checked against the plain-JS
 * reference lib/net.mjs by check-grad.mjs); augmentation, AdamW and the cosine schedule in JS.
 * Deterministic for a seed and thread count on a given CPU. Exports the ONNX model with our own
 * graph builder.
 *
 *   node train.mjs [--seed 1] [--epochs 20] [--hidden 256] [--stack 2:2,2:2,4:0,8:0] [--closure-weight 5]
 *                  [--bilabial-boost 5] [--pause-boost 6] [--viseme-aux 0.05] [--viseme-tau 0.1] [--viseme-labels phone]
 *                  [--velocity 5] [--velocity-lag 3] [--average last|ema:DECAY[@FROM]|tail[@FROM][,...]]
 *                  [--no-real] [--real-share 0.4] [--smooth 1,2,3,2,0] [--advance 0.75] [--warp 0.8:0.84:1.22] [--threads 2] [--data data] [--out ../pretrained_models/lipsync-small.onnx]
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeRng } from './lib/rng.mjs';
import { DEFAULT_STACK, initParams, makeArchitecture } from './lib/net.mjs';
import { OrtNet, exportable, toOnnxLayout } from './lib/ort-net.mjs';
import { augmentChunk } from './lib/augment.mjs';
import { concatFloat32 } from './lib/audio.mjs';
import { MAX_OUTPUT_ADVANCE, OUTPUT_ADVANCE, OUTPUT_SMOOTHING, buildLipsyncModel } from './lib/onnx-graph.mjs';
import { CH, CHANNEL_COUNT, CHANNEL_TO_ARKIT, MOUTH_CHANNELS, VISEMES, VISEME_VECTORS, nearestViseme } from './lib/visemes.mjs';
import { pearson } from './lib/stats.mjs';
import { ParamAverage, averageFileTag, parseAverage } from './lib/averaging.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Loss weight per mouth channel; the lip seal of p/b/m gets `closureWeight`. */
const channelWeights = (closureWeight) => Float32Array.from(MOUTH_CHANNELS, (n) => ({
  jawOpen: 3, mouthClose: closureWeight, mouthPress: closureWeight, mouthFunnel: 1.5, mouthPucker: 1.5, mouthSmile: 1.5, mouthStretch: 1.5, mouthRollLower: 1.5,
}[n] ?? 1));

function loadSplit(dir, split) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, `${split}.json`), 'utf8'));
  const read = (file) => {
    const buf = fs.readFileSync(path.join(dir, file));
    return buf.byteOffset % 4 ? new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)) : new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
  };
  const visFile = path.join(dir, `${split}.vis.u8`); // each frame's phone viseme (gen-data.mjs)
  const vis = fs.existsSync(visFile) ? new Uint8Array(fs.readFileSync(visFile)) : null;
  if (vis && vis.length !== meta.totalFrames) throw new Error(`${visFile}: ${vis.length} labels for ${meta.totalFrames} frames (regenerate the data)`);
  return { meta, feat: read(`${split}.feat.f32`), tgt: read(`${split}.tgt.f32`), vis };
}

/**
 * The synthetic `train` split plus, when gen-data wrote it and `use` is not false, the real
 * recordings of `train-real` after it (one feature/target array; clip frame offsets shifted).
 */
export function loadTrain(dir, use) {
  const train = loadSplit(dir, 'train');
  if (!use || !fs.existsSync(path.join(dir, 'train-real.json'))) return { ...train, real: null, realFrom: train.meta.clips.length };
  const real = loadSplit(dir, 'train-real');
  const shift = train.meta.totalFrames;
  const clips = [...train.meta.clips, ...real.meta.clips.map((c) => ({ ...c, frameOffset: c.frameOffset + shift }))];
  return {
    meta: { ...train.meta, clips, totalFrames: shift + real.meta.totalFrames, seconds: train.meta.seconds + real.meta.seconds },
    feat: concatFloat32([train.feat, real.feat]), tgt: concatFloat32([train.tgt, real.tgt]),
    vis: train.vis && real.vis ? Buffer.concat([train.vis, real.vis]) : null,
    real: { clips: real.meta.clips.length, minutes: real.meta.seconds / 60, copies: real.meta.copies, voices: new Set(real.meta.clips.map((c) => c.voice)).size },
    realFrom: train.meta.clips.length,
  };
}

function featureNorm(feat, frames, mels) {
  const mean = new Float64Array(mels);
  const sq = new Float64Array(mels);
  for (let j = 0; j < frames; j++) for (let m = 0; m < mels; m++) {
    const v = feat[j * mels + m];
    mean[m] += v;
    sq[m] += v * v;
  }
  const invStd = new Float32Array(mels);
  const mean32 = new Float32Array(mels);
  for (let m = 0; m < mels; m++) {
    mean32[m] = mean[m] / frames;
    invStd[m] = 1 / Math.sqrt(Math.max(sq[m] / frames - mean32[m] ** 2, 1e-6));
  }
  return { mean: mean32, invStd };
}

function applyNorm(feat, frames, mels, norm) {
  for (let j = 0; j < frames; j++) for (let m = 0; m < mels; m++) feat[j * mels + m] = (feat[j * mels + m] - norm.mean[m]) * norm.invStd[m];
}

/**
 * Random chunks covering each clip about once per epoch. Clips from `realFrom` on are real
 * recordings: when their chunks would be more than `realShare` of the epoch, a random subset of
 * them is drawn (a different one each epoch), so more real recordings add variety without
 * outweighing the synthetic voices.
 */
export function epochChunks(clips, chunkFrames, rng, { realFrom = clips.length, realShare = 1 } = {}) {
  const synth = [], real = [];
  clips.forEach((c, k) => {
    const out = k < realFrom ? synth : real;
    if (c.frames <= chunkFrames) {
      out.push([c.frameOffset, c.frames, 0]);
      return;
    }
    const n = Math.ceil(c.frames / chunkFrames);
    for (let i = 0; i < n; i++) out.push([c.frameOffset + rng.int(0, c.frames - chunkFrames + 1), chunkFrames, 0]);
  });
  const shuffle = (a) => {
    for (let i = a.length - 1; i > 0; i--) {
      const j = rng.int(0, i + 1);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  };
  const keepReal = realShare < 1 ? Math.min(real.length, Math.round((realShare / (1 - realShare)) * synth.length)) : real.length;
  const chunks = keepReal < real.length ? shuffle([...synth, ...shuffle(real).slice(0, keepReal)]) : shuffle([...synth, ...real]);
  for (const c of chunks) c[2] = rng.int(0, 2 ** 31); // per-chunk augmentation seed
  return chunks;
}

/** Validation at 100 fps: weighted MSE and jawOpen Pearson r over whole clips. */
async function validate(net, params, evalSplit, norm, group) {
  const { feat, tgt } = evalSplit;
  const M = net.arch.mels;
  const C = net.arch.channels;
  let se = 0, n = 0;
  const p = [], q = [];
  for (const c of evalSplit.meta.clips.filter((c) => c.group === group)) {
    const L = c.frames;
    const x = new Float32Array(M * L);
    for (let t = 0; t < L; t++) for (let m = 0; m < M; m++) x[m * L + t] = (feat[(c.frameOffset + t) * M + m] - norm.mean[m]) * norm.invStd[m];
    const y = await net.forward(params, x, 1, L);
    for (let t = 0; t < L; t++) {
      for (let ch = 0; ch < C; ch++) se += (y[ch * L + t] - tgt[(c.frameOffset + t) * C + ch]) ** 2;
      p.push(y[t]);
      q.push(tgt[(c.frameOffset + t) * C]);
      n++;
    }
  }
  return { mse: se / (n * C), jawR: pearson(p, q) };
}

/**
 * One batch as dense tensors: chunks shorter than the longest are zero-padded (the normalised
 * mean) and their padding gets loss weight 0. x [B, M, L], target and weight [B, C, L]; with the
 * viseme objective (`visemeAux` > 0) also its labels, one-hot [B, VISEMES, L], and its per-frame
 * weight [B, 1, L] (visemeAux / frames in the batch; 0 on padding). A frame's label is the viseme
 * nearest to its target ('nearest', the default: the shape the target blend is closest to) or its
 * phone's own viseme (`labels` 'phone': train.vis, what eval.mjs scores predictions against).
 * With the velocity objective (`velocity` = { weight, lag } with weight > 0) also `velocity.weight`
 * [B, C, L]: weight × the channel's weight for each pair of frames (t, t + lag) inside the chunk,
 * 0 where t + lag is padding or past the batch (see lib/ort-net.mjs velocityObjective).
 */
export function makeBatch(train, aug, batchChunks, channelWeights, frameWeights, visemeAux = 0, labels = 'nearest', velocity = null) {
  const { mels: M } = train.meta;
  const C = channelWeights.length;
  const B = batchChunks.length;
  const L = Math.max(...batchChunks.map(([, len]) => len));
  const x = new Float32Array(B * M * L);
  const target = new Float32Array(B * C * L);
  const weight = new Float32Array(B * C * L);
  batchChunks.forEach(([start, len, seed], b) => {
    augmentChunk(aug, start, len, seed, x, b * M * L, L);
    for (let c = 0; c < C; c++) {
      const o = (b * C + c) * L;
      weight.fill(channelWeights[c], o, o + len);
      for (let t = 0; t < len; t++) target[o + t] = train.tgt[(start + t) * C + c];
    }
    if (frameWeights) applyFrameWeights(train.tgt, start, len, C, weight, b * C * L, L, frameWeights);
  });
  const vel = velocity && velocity.weight > 0 ? { weight: velocityWeights(batchChunks, channelWeights, L, velocity) } : null;
  if (!(visemeAux > 0)) return { x, target, weight, B, L, viseme: null, velocity: vel };
  const V = VISEMES.length;
  if (labels === 'phone' && !train.vis) throw new Error('phone viseme labels need data/*.vis.u8: regenerate the data with gen-data.mjs');
  const labelOf = labels === 'phone' ? (f) => train.vis[f] : (f) => nearestViseme(train.tgt, f * C);
  const frames = batchChunks.reduce((s, [, len]) => s + len, 0);
  const label = new Float32Array(B * V * L);
  const vWeight = new Float32Array(B * L);
  batchChunks.forEach(([start, len], b) => {
    vWeight.fill(visemeAux / frames, b * L, b * L + len);
    for (let t = 0; t < len; t++) label[(b * V + labelOf(start + t)) * L + t] = 1;
  });
  return { x, target, weight, B, L, viseme: { label, weight: vWeight }, velocity: vel };
}

function velocityWeights(batchChunks, channelWeights, L, { weight, lag }) {
  const C = channelWeights.length;
  const w = new Float32Array(batchChunks.length * C * L);
  batchChunks.forEach(([, len], b) => {
    for (let c = 0; c < C; c++) if (len > lag) w.fill(weight * channelWeights[c], (b * C + c) * L, (b * C + c) * L + len - lag);
  });
  return w;
}

const SEAL_CHANNELS = [CH.mouthClose, CH.mouthPress, CH.mouthRollLower, CH.mouthRollUpper];

/**
 * The closure and pause objectives, as per-frame loss weights on top of the per-channel ones:
 *  - inside a p/b/m (the target's lip press ≥ 0.25: the seal at full strength) the lip-seal
 *    channels and jawOpen weigh `bilabial` times more: a closure that is on time but half-hearted
 *    costs as much as a missed one;
 *  - in a pause (every target channel ≤ 0.01: neutral face, whatever the room tone) jawOpen
 *    weighs `pause` times more, so noise in pauses does not open the jaw.
 */
function applyFrameWeights(tgt, start, len, C, weight, base, L, { bilabial, pause }) {
  for (let t = 0; t < len; t++) {
    const row = (start + t) * C;
    if (tgt[row + CH.mouthPress] >= 0.25) {
      for (const c of SEAL_CHANNELS) weight[base + c * L + t] *= bilabial;
      weight[base + CH.jawOpen * L + t] *= bilabial;
      continue;
    }
    let max = 0;
    for (let c = 0; c < C; c++) max = Math.max(max, tgt[row + c]);
    if (max <= 0.01) weight[base + CH.jawOpen * L + t] *= pause;
  }
}

async function main() {
  const { values } = parseArgs({
    allowNegative: true,
    options: {
      seed: { type: 'string', default: '1' },
      epochs: { type: 'string', default: '20' },
      hidden: { type: 'string', default: '256' },
      stack: { type: 'string', default: DEFAULT_STACK },
      batch: { type: 'string', default: '16' },
      chunk: { type: 'string', default: '300' },
      lr: { type: 'string', default: '0.003' },
      'closure-weight': { type: 'string', default: '5' },
      'bilabial-boost': { type: 'string', default: '5' }, // per-frame weight ×, inside p/b/m (lip seal + jaw)
      'pause-boost': { type: 'string', default: '6' }, // per-frame weight ×, jawOpen in pauses
      'viseme-aux': { type: 'string', default: '0.05' }, // weight of the viseme objective (0 = off)
      'viseme-tau': { type: 'string', default: '0.1' }, // its temperature, in squared distance between shapes
      'viseme-labels': { type: 'string', default: 'phone' }, // its labels: each frame's 'phone' viseme (gen-data's *.vis.u8), or the viseme 'nearest' to the target
      velocity: { type: 'string', default: '5' }, // weight of the velocity objective: squared error of each channel's change over --velocity-lag frames (0 = off)
      'velocity-lag': { type: 'string', default: '3' },
      // the weights exported: 'last' (the last step's) or an average over the later steps (lib/averaging.mjs);
      // with a list, the first goes to --out and each other beside it as <out>.<spec>.onnx
      average: { type: 'string', default: 'last' },
      smooth: { type: 'string', default: OUTPUT_SMOOTHING.join(',') }, // fixed kernel over the exported model's 100 fps outputs ('1' = none)
      advance: { type: 'string', default: String(OUTPUT_ADVANCE) }, // the exported model reads its 100 fps outputs this many 10 ms frames after each 30 fps frame centre
      warp: { type: 'string', default: '0.8:0.84:1.22' }, // probability:lowest:highest mel-axis warp factor ('0' = off)
      real: { type: 'boolean', default: true }, // --no-real: leave out data/train-real (real recorded speech)
      'real-share': { type: 'string', default: '0.4' }, // at most this share of each epoch's chunks from real recordings
      threads: { type: 'string', default: '2' },
      data: { type: 'string', default: path.join(HERE, 'data') },
      out: { type: 'string', default: path.join(HERE, '..', 'pretrained_models', 'lipsync-small.onnx') },
    },
  });
  const seed = Number(values.seed);
  const epochs = Number(values.epochs);
  const batch = Number(values.batch);
  const chunkFrames = Number(values.chunk);
  const threads = Number(values.threads);
  const dataDir = path.resolve(values.data);
  const CHANNEL_WEIGHTS = channelWeights(Number(values['closure-weight']));
  const frameWeights = { bilabial: Number(values['bilabial-boost']), pause: Number(values['pause-boost']) };
  const visemeAux = Number(values['viseme-aux']);
  const visemeTau = Number(values['viseme-tau']);
  const visemeLabels = values['viseme-labels'];
  if (!['phone', 'nearest'].includes(visemeLabels)) throw new Error(`--viseme-labels: phone or nearest, not ${visemeLabels}`);
  const velocity = { weight: Number(values.velocity), lag: Number(values['velocity-lag']) };
  if (!(velocity.weight >= 0) || !(Number.isInteger(velocity.lag) && velocity.lag >= 1 && velocity.lag < Number(values.chunk))) {
    throw new Error(`--velocity: a weight ≥ 0 (got ${values.velocity}) and --velocity-lag a whole number of frames ≥ 1 and below --chunk (got ${values['velocity-lag']})`);
  }
  const averageSpecs = values.average.split(',').map(parseAverage);
  const advance = Number(values.advance);
  if (!(advance >= 0 && advance <= MAX_OUTPUT_ADVANCE)) throw new Error(`--advance: 0 … ${MAX_OUTPUT_ADVANCE} frames of 10 ms (the lookahead budget), got ${values.advance}`);
  const smooth = values.smooth.split(',').map(Number);
  if (smooth.length % 2 !== 1 || smooth.some((v) => !(v >= 0)) || !(smooth.reduce((a, b) => a + b, 0) > 0)) throw new Error(`--smooth: an odd number of non-negative taps, got ${values.smooth}`);
  const aux = visemeAux > 0 ? { vectors: Float32Array.from(VISEME_VECTORS.flatMap((v) => [...v])), count: VISEMES.length, tau: visemeTau } : null;
  const [warpP, warpLo, warpHi] = values.warp.split(':').map(Number);
  const warp = warpP > 0 ? { p: warpP, lo: warpLo, hi: warpHi } : null;
  const t0 = performance.now();

  const train = loadTrain(dataDir, values.real);
  const evalSplit = loadSplit(dataDir, 'eval');
  const M = train.meta.mels;
  const norm = featureNorm(train.feat, train.meta.totalFrames, M);
  applyNorm(train.feat, train.meta.totalFrames, M, norm);
  const aug = { feat: train.feat, M, mean: norm.mean, invStd: norm.invStd, warp };

  const archConfig = { mels: M, hidden: Number(values.hidden), channels: CHANNEL_COUNT, stack: values.stack };
  const arch = makeArchitecture(archConfig);
  const rng = makeRng(seed);
  const params = toOnnxLayout(arch, initParams(arch, rng));
  const net = await OrtNet.create(arch, { threads, aux, velocity: velocity.weight > 0 ? { lag: velocity.lag } : null });

  console.log(train.real
    ? `real recorded speech: ${train.real.clips} clips (${train.real.copies} per recording), ${train.real.minutes.toFixed(1)} min, ${train.real.voices} speakers`
    : 'real recorded speech: none (no data/train-real, or --no-real): synthetic speech only');
  console.log(`train: ${train.meta.clips.length} clips, ${(train.meta.seconds / 60).toFixed(1)} min; params ${arch.paramCount} ` +
    `(${((arch.paramCount * 4) / 1024).toFixed(0)} KiB); lookahead frames ${arch.futureFrames}, context ${arch.pastFrames}`);

  // AdamW
  const m1 = new Float32Array(arch.paramCount);
  const m2 = new Float32Array(arch.paramCount);
  const g = new Float32Array(arch.paramCount);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-4, clipNorm = 1.0;
  const wSum = CHANNEL_WEIGHTS.reduce((a, b) => a + b, 0);
  const sampling = { realFrom: train.realFrom, realShare: Number(values['real-share']) };
  const stepsPerEpoch = Math.ceil(epochChunks(train.meta.clips, chunkFrames, makeRng(0), sampling).length / batch);
  const totalSteps = epochs * stepsPerEpoch;
  const warmup = Math.min(200, Math.floor(totalSteps / 10));
  const lrMax = Number(values.lr);
  let step = 0;
  const averages = averageSpecs.map((spec) => new ParamAverage(spec, totalSteps, arch.paramCount));
  const history = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const te = performance.now();
    const chunks = epochChunks(train.meta.clips, chunkFrames, rng, sampling);
    let lossSum = 0, frameSum = 0, visemeSum = 0, velocitySum = 0;
    for (let b0 = 0; b0 < chunks.length; b0 += batch) {
      const batchChunks = chunks.slice(b0, b0 + batch);
      const frames = batchChunks.reduce((s, [, L]) => s + L, 0);
      const b = makeBatch(train, aug, batchChunks, CHANNEL_WEIGHTS, frameWeights, visemeAux, visemeLabels, velocity);
      lossSum += await net.gradient(params, b.x, b.target, b.weight, b.B, b.L, 1 / (frames * wSum), g, b.viseme, b.velocity);
      visemeSum += net.lastVisemeLoss * frames;
      velocitySum += net.lastVelocityLoss;
      frameSum += frames;
      let gn = 0;
      for (let i = 0; i < g.length; i++) gn += g[i] * g[i];
      gn = Math.sqrt(gn);
      const clip = gn > clipNorm ? clipNorm / gn : 1;
      step++;
      const lr = step <= warmup ? (lrMax * step) / warmup : lrMax * (0.03 + 0.97 * 0.5 * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, totalSteps - warmup))));
      const bc1 = 1 - beta1 ** step, bc2 = 1 - beta2 ** step;
      for (let i = 0; i < params.length; i++) {
        const gi = g[i] * clip;
        m1[i] = beta1 * m1[i] + (1 - beta1) * gi;
        m2[i] = beta2 * m2[i] + (1 - beta2) * gi * gi;
        params[i] -= lr * ((m1[i] / bc1) / (Math.sqrt(m2[i] / bc2) + eps) + weightDecay * params[i]);
      }
      for (const a of averages) a.update(params, step);
    }
    const val = await validate(net, params, evalSplit, norm, 'heldout-voice');
    const trainLoss = lossSum / (frameSum * wSum);
    const visemeLoss = visemeAux > 0 ? visemeSum / frameSum : null; // visemeAux × mean CE per frame
    const velocityLoss = velocity.weight > 0 ? velocitySum / (frameSum * wSum) : null; // as in the main loss's scale
    history.push({ epoch: epoch + 1, trainLoss, visemeLoss, velocityLoss, valMse: val.mse, valJawR: val.jawR });
    console.log(`epoch ${epoch + 1}/${epochs}  train ${trainLoss.toFixed(5)}${visemeLoss === null ? '' : ` viseme ${visemeLoss.toFixed(5)}`}` +
      `${velocityLoss === null ? '' : ` velocity ${velocityLoss.toFixed(5)}`}  held-out-voice mse ${val.mse.toFixed(5)} jawOpen r ${val.jawR.toFixed(3)}  ` +
      `${((performance.now() - te) / 1000).toFixed(1)} s`);
  }

  const outPath = path.resolve(values.out);
  fs.mkdirSync(path.dirname(outPath), { recursive: true });
  let bytes = null;
  for (const [i, a] of averages.entries()) {
    const weights = a.weights();
    const exported = { ...exportable(arch, weights, norm, CHANNEL_TO_ARKIT, 52), smooth: smooth.length > 1 ? smooth : undefined, advance };
    const how = a.spec.kind === 'last' ? '' : `, weights ${a.spec.name} (${a.count} steps averaged)`;
    const doc = `Lip-sync: 16 kHz audio [1,N] -> 52 ARKit weights [1,T,52] at 30 FPS. Trained by training/ of avatar-stream-server (seed ${seed}${how}).`;
    const model = buildLipsyncModel(exported, doc);
    const file = i === 0 ? outPath : outPath.replace(/(\.onnx)?$/, `.${averageFileTag(a.spec)}.onnx`);
    fs.writeFileSync(file, model);
    if (i > 0) console.log(`wrote ${file} (${a.spec.name})`);
    bytes ??= model;
  }
  const report = {
    seed, epochs, hidden: archConfig.hidden, stack: archConfig.stack, closureWeight: Number(values['closure-weight']), frameWeights, visemeAux, visemeTau, visemeLabels, velocity, average: averageSpecs.map((s) => s.name), smooth, advance, realShare: sampling.realShare, warp, batch, chunkFrames, lr: lrMax, threads, paramCount: arch.paramCount,
    futureFrames: arch.futureFrames, pastFrames: arch.pastFrames, trainClips: train.meta.clips.length, trainMinutes: train.meta.seconds / 60, real: train.real,
    seconds: (performance.now() - t0) / 1000, modelBytes: bytes.length, history,
  };
  fs.mkdirSync(path.join(HERE, '.cache'), { recursive: true });
  fs.writeFileSync(path.join(HERE, '.cache', 'train-report.json'), JSON.stringify(report, null, 2));
  console.log(`wrote ${values.out} (${(bytes.length / 1024).toFixed(0)} KiB) in ${report.seconds.toFixed(0)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
