#!/usr/bin/env node
/**
 * Contract check of an exported model through onnxruntime-node with the worker's session
 * options: one input [1, N] → one output [1, T, 52], T = floor(N · 30 / 16000); values in [0, 1];
 * with a batch axis ([B, N]), each row of a batched call equal to its own run;
 * bit-identical on repeated runs; silence → closed mouth; a vowel-rich clip → the jaw moves.
 *
 *   node verify-model.mjs [model.onnx]
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createSession, runModel } from './eval.mjs';
import { batchRowMismatch } from './lib/batch-check.mjs';
import { ARKIT_INDEX, FRAME_RATE, MODEL_SAMPLE_RATE } from '../src/contracts/contracts.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const modelPath = path.resolve(process.argv[2] ?? path.join(HERE, '..', 'pretrained_models', 'lipsync-small.onnx'));
const session = await createSession(modelPath);
const problems = [];
const check = (ok, what) => {
  if (!ok) problems.push(what);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
};

check(session.inputNames.length === 1 && session.outputNames.length === 1, `one input (${session.inputNames}) and one output (${session.outputNames})`);
for (const n of [3200, 8000, 16000, 16001, 48000, 533, 534]) {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = 0.3 * Math.sin(i * 0.03) * Math.sin(i * 0.002);
  const a = await runModel(session, x);
  const b = await runModel(session, x);
  const T = Math.floor((n * FRAME_RATE) / MODEL_SAMPLE_RATE);
  const dims = a.dims.map(Number);
  let inRange = true;
  let same = true;
  for (let i = 0; i < a.weights52.length; i++) {
    const v = a.weights52[i];
    if (!(v >= 0 && v <= 1)) inRange = false;
    if (v !== b.weights52[i]) same = false;
  }
  check(dims.length === 3 && dims[0] === 1 && dims[1] === T && dims[2] === 52, `N=${n}: dims [${dims}] (expected [1,${T},52])`);
  check(inRange && same, `N=${n}: values in [0,1] and deterministic`);
}
const silence = await runModel(session, new Float32Array(32000));
const jawSilence = Math.max(...Array.from({ length: silence.frames }, (_, t) => silence.weights52[t * 52 + ARKIT_INDEX.jawOpen]));
check(jawSilence < 0.05, `2 s of silence: max jawOpen ${jawSilence.toFixed(4)} < 0.05`);

// Vowel-rich speech from the TTS engine that ships with the server (flite).
const { synthFlite } = await import('./lib/tts.mjs');
const { resample } = await import('./lib/audio.mjs');
const speech = await synthFlite({ voice: 'slt', text: 'Hello, how are you? I am a talking avatar and I open my mouth wide.', tmpDir: path.join(HERE, '.cache', 'tmp', 'verify') });
const y = await runModel(session, resample(speech.samples, speech.sampleRate, MODEL_SAMPLE_RATE));
const jaw = Array.from({ length: y.frames }, (_, t) => y.weights52[t * 52 + ARKIT_INDEX.jawOpen]);
check(Math.max(...jaw) > 0.3, `speech: max jawOpen ${Math.max(...jaw).toFixed(3)} > 0.3`);
// A batch axis ([B, N], as our exporter writes it): each row of a batched call is that row alone.
const meta = session.inputMetadata?.[0];
if (meta?.isTensor && typeof meta.shape[0] === 'string') {
  const rows = [0, 1, 2].map((r) => Float32Array.from({ length: 8000 }, (_, i) => 0.3 * Math.sin(i * (0.02 + 0.01 * r)) * Math.sin(i * 0.002)));
  const { mismatch, dims } = await batchRowMismatch(session, rows);
  check(mismatch < 0, `batch axis: each row of a B = 3 call equals its own run (dims [${dims}])`);
}
if (problems.length) {
  console.error(`\n${problems.length} check(s) failed`);
  process.exit(1);
}
console.log('\nmodel contract verified');
