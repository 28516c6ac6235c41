#!/usr/bin/env node
/**
 * `npm run train:model`: regenerate data → train → export → verify → evaluate (and refresh the
 * metrics in pretrained_models/LIPSYNC_MODEL_CARD.md). Deterministic for --seed.
 *
 *   node training/train-all.mjs [--seed 1] [--quick] [--skip-data]
 *   (--quick: a small smoke run into .cache/; --skip-data: reuse training/data from an earlier run)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { seed: { type: 'string', default: '1' }, quick: { type: 'boolean', default: false }, 'skip-data': { type: 'boolean', default: false } },
});
const quick = values.quick;
const dataDir = quick ? path.join(HERE, '.cache', 'quick-data') : path.join(HERE, 'data');
const model = quick ? path.join(HERE, '.cache', 'quick.onnx') : path.join(HERE, '..', 'pretrained_models', 'lipsync-small.onnx');

/** CPU seconds used by waited-for children so far (Linux /proc; 0 elsewhere). */
function childCpuSeconds() {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100; // cutime + cstime, in clock ticks
  } catch {
    return 0;
  }
}

const cpuByStage = {};
const failed = [];
function stage(name, script, args, { fatal = true } = {}) {
  const t0 = performance.now();
  const cpu0 = childCpuSeconds();
  console.log(`\n== ${name}`);
  const r = spawnSync(process.execPath, ['--no-warnings', path.join(HERE, script), ...args], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`${name} failed (exit ${r.status})`);
    if (fatal) process.exit(r.status ?? 1);
    failed.push(name);
  }
  const s = (performance.now() - t0) / 1000;
  cpuByStage[name] = childCpuSeconds() - cpu0;
  console.log(`== ${name}: ${s.toFixed(0)} s wall, ${cpuByStage[name].toFixed(0)} s CPU`);
  return s;
}

const t0 = performance.now();
if (!values['skip-data']) stage('data', 'gen-data.mjs', ['--seed', values.seed, '--out', dataDir, ...(quick ? ['--train-clips', '40', '--eval-clips', '2', '--real-copies', '0'] : [])]);
stage('train + export', 'train.mjs', ['--seed', values.seed, '--data', dataDir, '--out', model, ...(quick ? ['--epochs', '2'] : [])]);
stage('verify', 'verify-model.mjs', [model], { fatal: false }); // report, then still evaluate
// The full eval also scores real recorded speech (lib/real-speech.mjs) where its training-time
// tools are installed; without them it says what to install and reports the synthetic sets only.
stage('eval', 'eval.mjs', ['--model', model, '--data', dataDir, ...(quick ? [] : ['--card', '--real'])]);
const cpu = Object.values(cpuByStage).reduce((a, b) => a + b, 0);
// The data and train stages keep both cores busy; CPU / 2 is what an otherwise idle 2-core machine needs.
console.log(`\ntotal ${((performance.now() - t0) / 60000).toFixed(1)} min wall, ${(cpu / 60).toFixed(1)} min CPU ` +
  `(≈ ${(cpu / 120).toFixed(1)} min on an idle 2-core machine)`);
if (failed.length) {
  console.error(`failed: ${failed.join(', ')}`);
  process.exit(1);
}
