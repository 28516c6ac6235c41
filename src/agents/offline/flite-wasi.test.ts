import t from 'tap';
import { readdirSync, readlinkSync } from 'node:fs';
import { compileFlite, runFlite } from './flite-wasi.js';

// Real flite (WASI) on this thread: what a TTS worker runs for every sentence.
const flite = await compileFlite();

/** Open descriptors of this process, as the kernel lists them. */
function openFds(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      return ''; // closed between the listing and the look-up (readdir's own handle)
    }
  });
}

t.test('many syntheses leave no descriptor open (issue 13 item 2: one leaked temp dir per sentence)', async (t) => {
  await runFlite(flite, 'Warm up.', 'slt');
  const before = openFds();
  const runs = 20;
  for (let i = 0; i < runs; i++) await runFlite(flite, `Sentence number ${i}.`, 'slt');
  const after = openFds();
  const fliteDirs = after.filter((p) => /flite-/.test(p));
  t.same(fliteDirs, [], 'no handle to a flite temp folder');
  t.ok(after.length - before.length <= 2, `open fds ${before.length} → ${after.length} after ${runs} syntheses`);
});

t.test('phone timings come back with the audio', async (t) => {
  const speech = await runFlite(flite, 'Hello, world!', 'slt');
  const durationMs = (speech.samples.length / speech.sampleRate) * 1000;
  t.ok(speech.phones.length >= 8, `${speech.phones.length} phones`);
  t.equal(speech.phones[0]!.phone, 'pau', 'flite starts with a pause');
  for (let i = 1; i < speech.phones.length; i++) t.ok(speech.phones[i]!.endMs >= speech.phones[i - 1]!.endMs, 'phone ends never decrease');
  const lastEndMs = speech.phones.at(-1)!.endMs;
  t.ok(Math.abs(lastEndMs - durationMs) < 20, `last phone ends at ${Math.round(lastEndMs)} ms, audio is ${Math.round(durationMs)} ms`);
});
