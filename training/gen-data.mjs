#!/usr/bin/env node
/**
 * Data generation: TTS clips → 16 kHz audio → log-mel features (through the exported feature
 * graph) + 100 fps targets. Deterministic for a seed whatever the worker count: clip i always
 * comes from subSeed(seed, split, i).
 *
 *   node gen-data.mjs [--seed 1] [--train-clips 2000] [--eval-clips 16] [--workers 2] [--out data]
 *                     [--real-copies 2] [--real-only]
 *
 * Writes <out>/train.{json,feat.f32,tgt.f32,vis.u8} (vis: each 100 fps frame's phone viseme, an index
 * into VISEMES, for train.mjs --viseme-labels phone) and <out>/eval.json + <out>/eval.audio.f32 (eval keeps
 * raw audio and phones: eval.mjs runs the exported model and the baseline on it), and
 * <out>/train-real.{json,feat.f32,tgt.f32,vis.u8}: the real recorded speech of lib/real-speech.mjs's
 * `train` split (speakers never used for evaluation), each clip `--real-copies` times: once as
 * recorded, the other times through the training mix. Without the real-speech tools or the
 * `drascula` and `flight-of-the-amazon-queen` packages that file set is not written (and an old one is removed), so train.mjs trains
 * on synthetic speech only and says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeRng, subSeed } from './lib/rng.mjs';
import { makeSentence } from './lib/sentences.mjs';
import { HELDOUT_VOICES, TRAIN_VOICES, augmentForTraining, makeClip, pickTrainVoice } from './lib/clips.mjs';
import { FESTIVAL_VOICES, festivalVoicesInstalled } from './lib/festival.mjs';
import { loadRealSpeech } from './lib/real-speech.mjs';
import { FeatureExtractor, FEATURES } from './lib/features.mjs';
import { buildFeatureModel } from './lib/onnx-graph.mjs';
import { buildTargets, expandPhones, CHANNEL_COUNT } from './lib/visemes.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STREAM = { train: 1, eval: 2, evalText: 3, real: 4 };

export function evalSpecs(evalClips) {
  // Held-out voices × held-out sentences (clean and augmented), and seen voices × held-out sentences.
  const specs = [];
  for (const v of HELDOUT_VOICES) for (let i = 0; i < evalClips; i++) specs.push({ group: 'heldout-voice', voice: v, augment: false });
  // The same held-out voices through channels real audio comes through: the training mix
  // ("noisy"), room tone + reverberation ("room"), telephone band ("band").
  for (const v of HELDOUT_VOICES) for (let i = 0; i < Math.ceil(evalClips / 2); i++) specs.push({ group: 'heldout-voice-noisy', voice: v, augment: true });
  for (const v of HELDOUT_VOICES) for (let i = 0; i < Math.ceil(evalClips / 2); i++) specs.push({ group: 'heldout-voice-room', voice: v, augment: 'room' });
  for (const v of HELDOUT_VOICES) for (let i = 0; i < Math.ceil(evalClips / 2); i++) specs.push({ group: 'heldout-voice-band', voice: v, augment: 'band' });
  // Seen voices × held-out sentences, the offline agent's default voice (flite slt) among them.
  const seen = [TRAIN_VOICES[0], TRAIN_VOICES[1], TRAIN_VOICES[2], TRAIN_VOICES.find((v) => v.voice === 'en-us+f2'), TRAIN_VOICES.find((v) => v.voice === 'slt')];
  for (const v of seen) for (let i = 0; i < Math.ceil(evalClips / 2); i++) specs.push({ group: 'seen-voice', voice: v, augment: false });
  return specs;
}

/** Held-out sentence source: its own seed stream, and never a sentence the training set used. */
export function heldOutSentence(seed, index, trainTexts) {
  const rng = makeRng(subSeed(seed, STREAM.evalText, index));
  return () => {
    for (;;) {
      const s = makeSentence(rng);
      if (!trainTexts.has(s)) return s;
    }
  };
}

async function runShard({ split, seed, indices, specs, trainTextsFile, tmpDir, outFile }) {
  const fx = await FeatureExtractor.create(buildFeatureModel());
  const trainTexts = new Set(trainTextsFile ? JSON.parse(fs.readFileSync(trainTextsFile, 'utf8')) : []);
  const records = [];
  for (const i of indices) {
    const clipSeed = subSeed(seed, STREAM[split], i);
    let clip;
    if (split === 'train') {
      const voice = pickTrainVoice(makeRng(clipSeed ^ 0x5eed));
      clip = await makeClip({ seed: clipSeed, voice, doAugment: true, tmpDir });
    } else {
      const spec = specs[i];
      const sentence = heldOutSentence(seed, i, trainTexts);
      clip = await makeClip({ seed: clipSeed, voice: spec.voice, sentence: () => sentence(), doAugment: spec.augment, tmpDir });
      clip.group = spec.group;
    }
    const { frames, data } = await fx.compute(clip.samples);
    const { targets, visemes } = buildTargets(expandPhones(clip.phones), frames, FEATURES.FRAME_RATE);
    records.push({
      index: i, voice: clip.voice, texts: clip.texts, notes: clip.notes, group: clip.group, frames,
      seconds: clip.samples.length / FEATURES.SAMPLE_RATE,
      feat: Buffer.from(data.buffer), tgt: Buffer.from(targets.buffer), vis: Buffer.from(visemes.buffer),
      audio: split === 'eval' ? Buffer.from(clip.samples.buffer) : undefined,
      phones: split === 'eval' ? clip.phones.map(({ name, parts, start, end }) => ({ name, parts, start, end })) : undefined,
    });
  }
  // Simple framed file: JSON header line per record, then its buffers.
  const fd = fs.openSync(outFile, 'w');
  for (const r of records) {
    const { feat, tgt, vis, audio, ...meta } = r;
    const header = Buffer.from(JSON.stringify({ ...meta, featBytes: feat.length, tgtBytes: tgt.length, visBytes: vis.length, audioBytes: audio?.length ?? 0 }) + '\n');
    fs.writeSync(fd, header);
    fs.writeSync(fd, feat);
    fs.writeSync(fd, tgt);
    fs.writeSync(fd, vis);
    if (audio) fs.writeSync(fd, audio);
  }
  fs.closeSync(fd);
}

function readShard(file) {
  const buf = fs.readFileSync(file);
  const out = [];
  let pos = 0;
  while (pos < buf.length) {
    const nl = buf.indexOf(10, pos);
    const meta = JSON.parse(buf.toString('utf8', pos, nl));
    pos = nl + 1;
    meta.feat = buf.subarray(pos, (pos += meta.featBytes));
    meta.tgt = buf.subarray(pos, (pos += meta.tgtBytes));
    meta.vis = buf.subarray(pos, (pos += meta.visBytes));
    meta.audio = buf.subarray(pos, (pos += meta.audioBytes));
    out.push(meta);
  }
  return out;
}

async function generateSplit({ split, count, seed, workers, outDir, specs, trainTextsFile }) {
  const tmpDir = path.join(HERE, '.cache', 'tmp');
  const jobs = [];
  for (let w = 0; w < workers; w++) {
    const indices = [];
    for (let i = w; i < count; i += workers) indices.push(i);
    const outFile = path.join(outDir, `${split}.shard${w}`);
    const job = { split, seed, indices, specs, trainTextsFile, tmpDir: path.join(tmpDir, `w${w}`), outFile };
    jobs.push(new Promise((resolve, reject) => {
      const child = fork(fileURLToPath(import.meta.url), ['--shard'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, '--no-warnings'] });
      child.send(job);
      child.on('exit', (code, signal) => (code === 0 ? resolve(outFile) : reject(new Error(`${split} shard ${w} exited ${code ?? signal}`))));
    }));
  }
  const files = await Promise.all(jobs);
  const records = files.flatMap(readShard).sort((a, b) => a.index - b.index);
  const feat = fs.openSync(path.join(outDir, `${split}.feat.f32`), 'w');
  const tgt = fs.openSync(path.join(outDir, `${split}.tgt.f32`), 'w');
  const vis = fs.openSync(path.join(outDir, `${split}.vis.u8`), 'w');
  const audio = split === 'eval' ? fs.openSync(path.join(outDir, `${split}.audio.f32`), 'w') : null;
  let frameOffset = 0;
  let sampleOffset = 0;
  const clips = [];
  for (const r of records) {
    fs.writeSync(feat, r.feat);
    fs.writeSync(tgt, r.tgt);
    fs.writeSync(vis, r.vis);
    if (audio) fs.writeSync(audio, r.audio);
    const { feat: _f, tgt: _t, vis: _v, audio: _a, featBytes: _fb, tgtBytes: _tb, visBytes: _vb, audioBytes, ...meta } = r;
    clips.push({ ...meta, frameOffset, sampleOffset, samples: audioBytes / 4 });
    frameOffset += r.frames;
    sampleOffset += audioBytes / 4;
  }
  for (const fd of [feat, tgt, vis, audio]) if (fd !== null) fs.closeSync(fd);
  for (const f of files) fs.rmSync(f);
  const seconds = clips.reduce((s, c) => s + c.seconds, 0);
  fs.writeFileSync(path.join(outDir, `${split}.json`), JSON.stringify({
    split, seed, mels: FEATURES.MELS, channels: CHANNEL_COUNT, frameRate: FEATURES.FRAME_RATE, totalFrames: frameOffset, seconds, clips,
  }));
  return { clips: clips.length, seconds, texts: clips.flatMap((c) => c.texts) };
}

/** The `train-real` split: real recordings with forced-alignment phones, as training records. */
async function generateRealTrain({ seed, copies, outDir }) {
  const names = ['json', 'feat.f32', 'tgt.f32', 'vis.u8'].map((e) => path.join(outDir, `train-real.${e}`));
  for (const f of names) fs.rmSync(f, { force: true });
  const real = copies > 0 ? loadRealSpeech({ split: 'train', log: (m) => console.log(`[real-speech] ${m}`) }) : [];
  if (!real.length) return null;
  const fx = await FeatureExtractor.create(buildFeatureModel());
  const feat = fs.openSync(names[1], 'w');
  const tgt = fs.openSync(names[2], 'w');
  const vis = fs.openSync(names[3], 'w');
  const clips = [];
  let frameOffset = 0;
  for (let k = 0; k < real.length; k++) {
    for (let j = 0; j < copies; j++) {
      const index = k * copies + j;
      const phones = real[k].phones.map((p) => ({ ...p }));
      let samples = real[k].samples.slice();
      let notes = 'as-recorded';
      if (j > 0) ({ samples, notes } = augmentForTraining(samples, phones, makeRng(subSeed(seed, STREAM.real, index))));
      const { frames, data } = await fx.compute(samples);
      const { targets, visemes } = buildTargets(expandPhones(phones), frames, FEATURES.FRAME_RATE);
      fs.writeSync(feat, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      fs.writeSync(tgt, Buffer.from(targets.buffer, targets.byteOffset, targets.byteLength));
      fs.writeSync(vis, visemes);
      clips.push({ index, voice: real[k].voice, notes, frames, seconds: samples.length / FEATURES.SAMPLE_RATE, frameOffset, ids: real[k].ids });
      frameOffset += frames;
    }
  }
  fs.closeSync(feat);
  fs.closeSync(tgt);
  fs.closeSync(vis);
  const seconds = clips.reduce((s, c) => s + c.seconds, 0);
  fs.writeFileSync(names[0], JSON.stringify({
    split: 'train-real', seed, copies, mels: FEATURES.MELS, channels: CHANNEL_COUNT, frameRate: FEATURES.FRAME_RATE, totalFrames: frameOffset, seconds, clips,
  }));
  return { clips: clips.length, recordings: real.length, seconds, voices: new Set(real.map((c) => c.voice)).size };
}

async function main() {
  const { values } = parseArgs({
    options: {
      seed: { type: 'string', default: '1' },
      'train-clips': { type: 'string', default: '2000' },
      // Clean clips per held-out voice (half as many per channel condition and per seen voice). 48:
      // with two held-out voices (flite slt became a training voice) 16 left groups of ~50 p/b/m,
      // where three closures decided a goal; 48 gives ~200 per group (38.8 min in all).
      'eval-clips': { type: 'string', default: '48' },
      workers: { type: 'string', default: '2' },
      out: { type: 'string', default: path.join(HERE, 'data') },
      'eval-only': { type: 'boolean', default: false },
      'real-copies': { type: 'string', default: '2' },
      'real-only': { type: 'boolean', default: false },
    },
  });
  const seed = Number(values.seed);
  const workers = Number(values.workers);
  const outDir = path.resolve(values.out);
  fs.mkdirSync(outDir, { recursive: true });
  const t0 = performance.now();
  const textsFile = path.join(outDir, 'train-texts.json');
  if (!values['eval-only']) {
    const real = await generateRealTrain({ seed, copies: Number(values['real-copies']), outDir });
    console.log(real
      ? `train-real: ${real.recordings} real recordings × ${values['real-copies']} = ${real.clips} clips, ${(real.seconds / 60).toFixed(1)} min, ${real.voices} speakers, ${((performance.now() - t0) / 1000).toFixed(0)} s`
      : 'train-real: none (real-speech tools or the drascula and flight-of-the-amazon-queen packages not installed, or --real-copies 0): synthetic speech only');
  }
  if (values['real-only']) return;
  if (!values['eval-only']) {
    const festival = festivalVoicesInstalled();
    console.log(festival.length === FESTIVAL_VOICES.length
      ? `train: festival's ${festival.length} female voices installed`
      : `train: festival voices installed: ${festival.length} of ${FESTIVAL_VOICES.length} (apt-get install festival ${FESTIVAL_VOICES.filter((v) => !festival.includes(v)).map((v) => v.pkg).join(' ')} for the rest; the mix changes without them)`);
    const train = await generateSplit({ split: 'train', count: Number(values['train-clips']), seed, workers, outDir });
    fs.writeFileSync(textsFile, JSON.stringify([...new Set(train.texts)]));
    console.log(`train: ${train.clips} clips, ${(train.seconds / 60).toFixed(1)} min of audio, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const specs = evalSpecs(Number(values['eval-clips']));
  const ev = await generateSplit({ split: 'eval', count: specs.length, seed, workers, outDir, specs, trainTextsFile: textsFile });
  console.log(`eval: ${ev.clips} clips, ${(ev.seconds / 60).toFixed(1)} min of audio, total ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

if (process.argv.includes('--shard')) {
  process.once('message', async (job) => {
    try {
      await runShard(job);
      process.exit(0);
    } catch (err) {
      console.error(err);
      process.exit(1);
    }
  });
} else if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
