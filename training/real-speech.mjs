#!/usr/bin/env node
/**
 * Build (or load) the real-speech "natural proxy" set and print a summary per split.
 * Sources, licences, alignment method and split: see lib/real-speech.mjs.
 *
 *   nice node training/real-speech.mjs            build training/.cache/real-speech/ if missing, then summarise
 *   nice node training/real-speech.mjs --rebuild  decode + align again
 *   nice node training/real-speech.mjs --show 5   also print the first N aligned utterances of each source
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { BUILD_VERSION, REAL_SPEECH_DIR, SOURCES, buildRealSpeech, checkRequirements, loadRealSpeech } from './lib/real-speech.mjs';
import { MODEL_SAMPLE_RATE as SR } from '../src/contracts/contracts.mjs';

const { values } = parseArgs({ options: { rebuild: { type: 'boolean' }, show: { type: 'string', default: '0' }, dir: { type: 'string', default: REAL_SPEECH_DIR } } });
const dir = values.dir;
const log = (m) => console.log(`[real-speech] ${m}`);

const req = checkRequirements();
if (req.tools.length || Object.keys(req.sources).length) {
  if (req.tools.length) console.log(`missing tools: ${req.tools.join(' ')}`);
  for (const [src, pkgs] of Object.entries(req.sources)) console.log(`source ${src} unavailable: missing ${pkgs.join(' ')}`);
  console.log(`to install (as root): ${req.installCommand}`);
  if (req.tools.length || Object.keys(req.sources).length === Object.keys(SOURCES).length) process.exit(2);
}

const indexFile = `${dir}/index.json`;
const current = fs.existsSync(indexFile) && JSON.parse(fs.readFileSync(indexFile, 'utf8')).version === BUILD_VERSION;
if (values.rebuild || !current) {
  const t0 = Date.now();
  buildRealSpeech({ dir, log });
  log(`built in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const index = JSON.parse(fs.readFileSync(indexFile, 'utf8'));

console.log('\nsources:');
for (const [name, s] of Object.entries(index.sources)) {
  const u = index.utterances.filter((x) => x.source === name);
  const kept = u.filter((x) => !x.reason);
  const reasons = {};
  for (const x of u) if (x.reason) reasons[x.reason.replace(/[\d.-]+/g, '#').replace(/OOV: .*/, 'OOV')] = (reasons[x.reason.replace(/[\d.-]+/g, '#').replace(/OOV: .*/, 'OOV')] ?? 0) + 1;
  console.log(`  ${name.padEnd(11)} ${Object.entries(s.versions).map(([p, v]) => `${p} ${v ?? '(not installed)'}`).join(', ')}; ${s.licence}; split ${s.split}`);
  console.log(`  ${''.padEnd(11)} ${u.length} files, ${kept.length} kept; dropped: ${JSON.stringify(reasons)}`);
}
if (index.control) {
  console.log(`\ncontrol (wrong transcripts that still pass the checks): ${index.control.passed}/${index.control.total} ${JSON.stringify(index.control.bySource)}`);
}

const show = Number(values.show);
if (show > 0) {
  for (const name of Object.keys(index.sources)) {
    console.log(`\n${name}: first ${show} kept alignments`);
    for (const u of index.utterances.filter((x) => x.source === name && !x.reason).slice(0, show)) {
      console.log(`  "${u.text}"  gap ${u.quality.gap} dB+${u.quality.speechOverPauseDb}`);
      console.log(`    ${u.phones.map(([n, s, e]) => `${n} ${s.toFixed(2)}-${e.toFixed(2)}`).join(' | ')}`);
    }
  }
}

console.log('\nsplit  clips  minutes  speakers  p/b/m  phones  pause-s  voices');
for (const split of ['eval', 'train', 'all']) {
  const clips = loadRealSpeech({ split, dir, build: false });
  const seconds = clips.reduce((s, c) => s + c.samples.length / SR, 0);
  const voices = [...new Set(clips.map((c) => c.voice))];
  let pbm = 0, phones = 0, pause = 0;
  for (const c of clips) for (const p of c.phones) {
    if (p.name === 'pau') pause += p.end - p.start;
    else phones++;
    if (p.name === 'p' || p.name === 'b' || p.name === 'm') pbm++;
  }
  console.log(`${split.padEnd(6)} ${String(clips.length).padStart(5)} ${(seconds / 60).toFixed(2).padStart(8)} ${String(voices.length).padStart(9)} ${String(pbm).padStart(6)} ${String(phones).padStart(7)} ${pause.toFixed(1).padStart(8)}  ${voices.join(', ')}`);
}
