import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { FliteTts, type SpeechAudio } from './flite-tts.js';

// Real flite in a real worker thread: no mocks.
const tts = new FliteTts();
t.teardown(() => tts.close());

function rms(pcm: Buffer): number {
  let sum = 0;
  const n = pcm.length / 2;
  for (let i = 0; i < n; i++) sum += pcm.readInt16LE(i * 2) ** 2;
  return Math.sqrt(sum / n);
}

/** The assertions the helper uses; every test object has them. */
type Asserts = Pick<typeof t, 'ok' | 'equal'>;

function checkSpeech(t: Asserts, speech: SpeechAudio, minMs: number, maxMs: number): void {
  t.equal(speech.sampleRate, 24000);
  t.equal(speech.pcm.length % 2, 0, 'whole PCM16 samples');
  t.equal(speech.durationMs, (speech.pcm.length / 2 / 24000) * 1000, 'duration matches the bytes');
  t.ok(speech.durationMs >= minMs && speech.durationMs <= maxMs, `plausible duration: ${Math.round(speech.durationMs)} ms`);
  t.ok(rms(speech.pcm) > 500, `not silent: RMS ${Math.round(rms(speech.pcm))}`);
}

t.test('warm-up, then a short sentence', async (t) => {
  const startMs = performance.now();
  await tts.warm();
  t.comment(`warm-up (thread start + wasm compile + first synthesis): ${Math.round(performance.now() - startMs)} ms`);
  const requestMs = performance.now();
  const speech = await tts.synthesize('The weather is nice today.');
  const latencyMs = performance.now() - requestMs;
  checkSpeech(t, speech, 500, 5000);
  t.comment(`short sentence: ${Math.round(speech.durationMs)} ms of speech in ${Math.round(latencyMs)} ms (worker ${Math.round(speech.synthMs)} ms)`);
});

t.test('longer text gives longer speech; real-time factor', async (t) => {
  const short = await tts.synthesize('Yes.');
  const long = await tts.synthesize('The quick brown fox jumps over the lazy dog, and then it runs far away into the forest to look for something to eat.');
  checkSpeech(t, long, 4000, 12000);
  t.ok(long.durationMs > 3 * short.durationMs, `${Math.round(long.durationMs)} ms vs ${Math.round(short.durationMs)} ms`);
  t.ok(long.synthMs < long.durationMs, 'faster than real time');
  t.comment(`real-time factor: ${(long.synthMs / long.durationMs).toFixed(3)} for this sentence, ${tts.realTimeFactor.toFixed(3)} so far`);
});

t.test('synthesis runs off the main thread', async (t) => {
  let turns = 0;
  let done = false;
  const pending = tts.synthesize('This sentence is synthesized while the main thread keeps turning its event loop.').finally(() => {
    done = true;
  });
  while (!done) {
    await yieldToEventLoop();
    turns++;
  }
  await pending;
  t.ok(turns > 20, `main event loop turned ${turns} times during one synthesis`);
});

t.test('concurrent requests each get their own audio', async (t) => {
  const texts = ['One two three.', 'A completely different and rather longer sentence.', 'Goodbye.'];
  const alone: Buffer[] = [];
  for (const text of texts) alone.push((await tts.synthesize(text)).pcm);
  const together = await Promise.all(texts.map((text) => tts.synthesize(text)));
  together.forEach((speech, i) => t.ok(speech.pcm.equals(alone[i]!), `request ${i} got its own audio`));
});

t.test('many runs of alternating short and long texts (Node 20 WASI fast-call crash)', async (t) => {
  // Without the JS detour in flite-wasi.ts this segfaulted the process within ~5 runs. It does
  // not happen under tap's loader hooks, so it runs in a plain `node`, as the server does.
  const script = `
    import { FliteTts } from ${JSON.stringify(new URL('./flite-tts.js', import.meta.url).href)};
    const tts = new FliteTts();
    const texts = ['Yes.', 'We are open Monday to Friday from 9 am to 6 pm, and on Saturdays from 10 am to 2 pm.'];
    const first = [];
    for (let i = 0; i < 20; i++) {
      const pcm = (await tts.synthesize(texts[i % 2])).pcm;
      if (i < 2) first.push(pcm);
      else if (!pcm.equals(first[i % 2])) throw new Error('run ' + i + ' gave different audio');
    }
    await tts.close();
    console.log('20 runs ok');
  `;
  const dir = await mkdtemp(join(tmpdir(), 'flite-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'runs.mjs'), script);
  // A bare environment: none of tap's preloads travel to the child.
  const env = { PATH: process.env.PATH ?? '', TMPDIR: tmpdir() };
  const child = spawnSync(process.execPath, [join(dir, 'runs.mjs')], { env, encoding: 'utf8', timeout: 60_000 });
  t.equal(child.signal, null, `no crash (${child.signal ?? 'no signal'})`);
  t.equal(child.status, 0, child.stderr.slice(-500));
  t.match(child.stdout, /20 runs ok/);
});

t.test('text that is hard to read still synthesizes', async (t) => {
  const speech = await tts.synthesize('Café 😀 — “quotes” $4.50, e.g. -t --help');
  checkSpeech(t, speech, 500, 10000);
});

t.test('an 8 kHz voice comes out at 24 kHz too', async (t) => {
  const kal = new FliteTts({ voice: 'kal' });
  t.teardown(() => kal.close());
  const speech = await kal.synthesize('The weather is nice today.');
  checkSpeech(t, speech, 500, 5000);
});

t.test('resampled to 24 kHz without changing the speech duration', async (t) => {
  // flite run directly (here, on the test's main thread) gives the native-rate reference.
  const { compileFlite, runFlite } = await import('./flite-wasi.js');
  const flite = await compileFlite();
  const text = 'Seven slow seconds.';
  const native = await runFlite(flite, text, 'slt');
  t.equal(native.sampleRate, 16000, 'slt speaks at 16 kHz');
  const speech = await tts.synthesize(text);
  const nativeMs = (native.samples.length / native.sampleRate) * 1000;
  t.ok(Math.abs(speech.durationMs - nativeMs) < 1, `${speech.durationMs.toFixed(2)} ms at 24 kHz vs ${nativeMs.toFixed(2)} ms native`);
  t.equal((await runFlite(flite, text, 'kal')).sampleRate, 8000, 'kal speaks at 8 kHz');
});

t.test('unknown voice, closed pool', async (t) => {
  t.throws(() => new FliteTts({ voice: 'robot' }), /unknown flite voice "robot" \(TTS_VOICE\); choose one of slt, kal16, awb, rms, kal/);
  const closed = new FliteTts();
  await closed.close();
  await closed.close();
  await t.rejects(closed.synthesize('hello'), /closed/);
  await t.rejects(closed.warm(), /the offline TTS failed to start/);
});
