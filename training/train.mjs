#!/usr/bin/env node
/**
 * Trainer: our own small conv net in plain JS (Float32Array math, hand-written backward pass),
 * data-parallel over worker threads with a fixed reduction order, AdamW, cosine schedule.
 * Deterministic for a seed and worker count. Exports the ONNX model with our own graph builder.
 *
 *   node train.mjs [--seed 1] [--epochs 8] [--hidden 128] [--closure-weight 5] [--warp 0.8:0.84:1.22] [--workers 2] [--data data] [--out ../pretrained_models/lipsync-small.onnx]
 */
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeRng } from './lib/rng.mjs';
import { Workspace, exportable, forward, initParams, makeArchitecture } from './lib/net.mjs';
import { buildLipsyncModel } from './lib/onnx-graph.mjs';
import { CHANNEL_COUNT, CHANNEL_TO_ARKIT, MOUTH_CHANNELS } from './lib/visemes.mjs';
import { pearson } from './lib/stats.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** Loss weight per mouth channel; the lip seal of p/b/m gets `closureWeight`. */
const channelWeights = (closureWeight) => Float32Array.from(MOUTH_CHANNELS, (n) => ({
  jawOpen: 3, mouthClose: closureWeight, mouthPress: closureWeight, mouthFunnel: 1.5, mouthPucker: 1.5, mouthSmile: 1.5, mouthStretch: 1.5, mouthRollLower: 1.5,
}[n] ?? 1));

function loadSplit(dir, split) {
  const meta = JSON.parse(fs.readFileSync(path.join(dir, `${split}.json`), 'utf8'));
  const readShared = (file) => {
    const buf = fs.readFileSync(path.join(dir, file));
    const sab = new SharedArrayBuffer(buf.length);
    new Uint8Array(sab).set(buf);
    return sab;
  };
  return { meta, featSab: readShared(`${split}.feat.f32`), tgtSab: readShared(`${split}.tgt.f32`) };
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

/** Random chunks covering each clip about once per epoch. */
function epochChunks(clips, chunkFrames, rng) {
  const chunks = [];
  for (const c of clips) {
    if (c.frames <= chunkFrames) {
      chunks.push([c.frameOffset, c.frames, 0]);
      continue;
    }
    const n = Math.ceil(c.frames / chunkFrames);
    for (let i = 0; i < n; i++) chunks.push([c.frameOffset + rng.int(0, c.frames - chunkFrames + 1), chunkFrames, 0]);
  }
  for (let i = chunks.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [chunks[i], chunks[j]] = [chunks[j], chunks[i]];
  }
  for (const c of chunks) c[2] = rng.int(0, 2 ** 31); // per-chunk augmentation seed
  return chunks;
}

/** Validation at 100 fps: weighted MSE and jawOpen Pearson r over whole clips. */
function validate(arch, params, evalSplit, norm, group) {
  const feat = new Float32Array(evalSplit.featSab);
  const tgt = new Float32Array(evalSplit.tgtSab);
  const M = arch.mels;
  const C = arch.channels;
  const ws = new Workspace(arch);
  let se = 0, n = 0;
  const p = [], q = [];
  for (const c of evalSplit.meta.clips.filter((c) => c.group === group)) {
    const L = c.frames;
    ws.ensure(L);
    const x = ws.acts[0];
    for (let t = 0; t < L; t++) for (let m = 0; m < M; m++) x[m * L + t] = (feat[(c.frameOffset + t) * M + m] - norm.mean[m]) * norm.invStd[m];
    const y = forward(params, ws, L);
    for (let t = 0; t < L; t++) {
      for (let ch = 0; ch < C; ch++) se += (y[ch * L + t] - tgt[(c.frameOffset + t) * C + ch]) ** 2;
      p.push(y[t]);
      q.push(tgt[(c.frameOffset + t) * C]);
      n++;
    }
  }
  return { mse: se / (n * C), jawR: pearson(p, q) };
}

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      epochs: { type: 'string', default: '8' },
      hidden: { type: 'string', default: '128' },
      batch: { type: 'string', default: '16' },
      chunk: { type: 'string', default: '300' },
      lr: { type: 'string', default: '0.003' },
      'closure-weight': { type: 'string', default: '5' },
      warp: { type: 'string', default: '0.8:0.84:1.22' }, // probability:lowest:highest mel-axis warp factor ('0' = off)
      workers: { type: 'string', default: '2' },
      data: { type: 'string', default: path.join(HERE, 'data') },
      out: { type: 'string', default: path.join(HERE, '..', 'pretrained_models', 'lipsync-small.onnx') },
    },
  });
  const seed = Number(values.seed);
  const epochs = Number(values.epochs);
  const batch = Number(values.batch);
  const chunkFrames = Number(values.chunk);
  const workerCount = Number(values.workers);
  const dataDir = path.resolve(values.data);
  const CHANNEL_WEIGHTS = channelWeights(Number(values['closure-weight']));
  const [warpP, warpLo, warpHi] = values.warp.split(':').map(Number);
  const warp = warpP > 0 ? { p: warpP, lo: warpLo, hi: warpHi } : null;
  const t0 = performance.now();

  const train = loadSplit(dataDir, 'train');
  const evalSplit = loadSplit(dataDir, 'eval');
  const M = train.meta.mels;
  const feat = new Float32Array(train.featSab);
  const norm = featureNorm(feat, train.meta.totalFrames, M);
  applyNorm(feat, train.meta.totalFrames, M, norm);

  const archConfig = { mels: M, hidden: Number(values.hidden), channels: CHANNEL_COUNT };
  const arch = makeArchitecture(archConfig);
  const rng = makeRng(seed);
  const paramSab = new SharedArrayBuffer(arch.paramCount * 4);
  const params = new Float32Array(paramSab);
  params.set(initParams(arch, rng));
  const grads = Array.from({ length: workerCount }, () => new SharedArrayBuffer(arch.paramCount * 4));
  const workers = grads.map((gradSab) => new Worker(new URL('./lib/train-worker.mjs', import.meta.url), {
    workerData: { featSab: train.featSab, tgtSab: train.tgtSab, paramSab, gradSab, archConfig, channelWeights: CHANNEL_WEIGHTS, mean: norm.mean, invStd: norm.invStd, warp },
  }));
  const runOn = (w, msg) => new Promise((resolve) => {
    workers[w].once('message', resolve);
    workers[w].postMessage(msg);
  });

  console.log(`train: ${train.meta.clips.length} clips, ${(train.meta.seconds / 60).toFixed(1)} min; params ${arch.paramCount} ` +
    `(${((arch.paramCount * 4) / 1024).toFixed(0)} KiB); lookahead frames ${arch.futureFrames}, context ${arch.pastFrames}`);

  // AdamW
  const m1 = new Float32Array(arch.paramCount);
  const m2 = new Float32Array(arch.paramCount);
  const g = new Float32Array(arch.paramCount);
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 1e-4, clipNorm = 1.0;
  const wSum = CHANNEL_WEIGHTS.reduce((a, b) => a + b, 0);
  const stepsPerEpoch = Math.ceil(epochChunks(train.meta.clips, chunkFrames, makeRng(0)).length / batch);
  const totalSteps = epochs * stepsPerEpoch;
  const warmup = Math.min(200, Math.floor(totalSteps / 10));
  const lrMax = Number(values.lr);
  let step = 0;
  const history = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    const te = performance.now();
    const chunks = epochChunks(train.meta.clips, chunkFrames, rng);
    let lossSum = 0, frameSum = 0;
    for (let b0 = 0; b0 < chunks.length; b0 += batch) {
      const batchChunks = chunks.slice(b0, b0 + batch);
      const frames = batchChunks.reduce((s, [, L]) => s + L, 0);
      const scale = 1 / (frames * wSum);
      const shares = workers.map((_, w) => batchChunks.filter((_, i) => i % workerCount === w));
      const results = await Promise.all(shares.map((chunksW, w) => runOn(w, { chunks: chunksW, scale })));
      g.fill(0);
      for (let w = 0; w < workerCount; w++) {
        const gw = new Float32Array(grads[w]);
        for (let i = 0; i < g.length; i++) g[i] += gw[i];
        lossSum += results[w].loss;
      }
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
    }
    const val = validate(arch, params, evalSplit, norm, 'heldout-voice');
    const trainLoss = lossSum / (frameSum * wSum);
    history.push({ epoch: epoch + 1, trainLoss, valMse: val.mse, valJawR: val.jawR });
    console.log(`epoch ${epoch + 1}/${epochs}  train ${trainLoss.toFixed(5)}  held-out-voice mse ${val.mse.toFixed(5)} jawOpen r ${val.jawR.toFixed(3)}  ` +
      `${((performance.now() - te) / 1000).toFixed(1)} s`);
  }
  for (const w of workers) await w.terminate();

  const net = exportable(arch, params, norm, CHANNEL_TO_ARKIT, 52);
  const doc = `Lip-sync: 16 kHz audio [1,N] -> 52 ARKit weights [1,T,52] at 30 FPS. Trained by training/ of avatar-stream-server (seed ${seed}).`;
  const bytes = buildLipsyncModel(net, doc);
  fs.mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
  fs.writeFileSync(path.resolve(values.out), bytes);
  const report = {
    seed, epochs, hidden: archConfig.hidden, closureWeight: Number(values['closure-weight']), warp, batch, chunkFrames, lr: lrMax, workers: workerCount, paramCount: arch.paramCount,
    futureFrames: arch.futureFrames, pastFrames: arch.pastFrames, trainClips: train.meta.clips.length, trainMinutes: train.meta.seconds / 60,
    seconds: (performance.now() - t0) / 1000, modelBytes: bytes.length, history,
  };
  fs.mkdirSync(path.join(HERE, '.cache'), { recursive: true });
  fs.writeFileSync(path.join(HERE, '.cache', 'train-report.json'), JSON.stringify(report, null, 2));
  console.log(`wrote ${values.out} (${(bytes.length / 1024).toFixed(0)} KiB) in ${report.seconds.toFixed(0)} s`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
