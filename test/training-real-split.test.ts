import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// train.mjs trains on the synthetic `train` split plus, when gen-data.mjs wrote it, the real
// recordings of `train-real` (training/lib/real-speech.mjs's `train` speakers). Plain JS outside
// the build, imported from the repository root.
type Split = { meta: { clips: { frameOffset: number; frames: number; voice: string }[]; totalFrames: number; seconds: number }; feat: Float32Array; tgt: Float32Array; real: null | { clips: number; minutes: number; copies: number; voices: number } };
const { loadTrain } = (await import(path.resolve('training/train.mjs'))) as { loadTrain(dir: string, use: boolean): Split };

const M = 3;
const C = 2;
function writeSplit(dir: string, split: string, clips: { frames: number; voice: string; value: number }[], extra: object = {}) {
  let offset = 0;
  const feat: number[] = [];
  const tgt: number[] = [];
  const meta = clips.map((c) => {
    for (let j = 0; j < c.frames; j++) feat.push(...Array(M).fill(c.value)), tgt.push(...Array(C).fill(c.value / 10));
    const m = { frames: c.frames, voice: c.voice, frameOffset: offset, seconds: c.frames / 100 };
    offset += c.frames;
    return m;
  });
  fs.writeFileSync(path.join(dir, `${split}.json`), JSON.stringify({ split, mels: M, channels: C, totalFrames: offset, seconds: offset / 100, clips: meta, ...extra }));
  fs.writeFileSync(path.join(dir, `${split}.feat.f32`), Buffer.from(Float32Array.from(feat).buffer));
  fs.writeFileSync(path.join(dir, `${split}.tgt.f32`), Buffer.from(Float32Array.from(tgt).buffer));
}

t.test('train-real is appended after the synthetic clips, offsets shifted; --no-real or no file leaves it out', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'train-split-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeSplit(dir, 'train', [{ frames: 4, voice: 'flite:kal16', value: 1 }, { frames: 2, voice: 'flite:awb', value: 2 }]);

  const synthOnly = loadTrain(dir, true);
  t.equal(synthOnly.real, null, 'no train-real files: synthetic speech only');
  t.equal(synthOnly.meta.totalFrames, 6);

  writeSplit(dir, 'train-real', [{ frames: 3, voice: 'drascula:igor', value: 7 }, { frames: 5, voice: 'drascula:hacker', value: 9 }], { copies: 2 });
  const both = loadTrain(dir, true);
  t.same(both.real, { clips: 2, minutes: 8 / 100 / 60, copies: 2, voices: 2 });
  t.equal(both.meta.totalFrames, 14);
  t.equal(both.meta.seconds, 0.14);
  t.same(both.meta.clips.map((c) => [c.voice, c.frameOffset, c.frames]), [
    ['flite:kal16', 0, 4], ['flite:awb', 4, 2], ['drascula:igor', 6, 3], ['drascula:hacker', 9, 5],
  ]);
  t.equal(both.feat.length, 14 * M);
  t.equal(both.tgt.length, 14 * C);
  // Each clip's frames are where its offset says: a real clip's features and targets are its own.
  for (const c of both.meta.clips) {
    const want = { 'flite:kal16': 1, 'flite:awb': 2, 'drascula:igor': 7, 'drascula:hacker': 9 }[c.voice]!;
    t.ok(both.feat.subarray(c.frameOffset * M, (c.frameOffset + c.frames) * M).every((v) => v === want), `${c.voice} features`);
    t.ok(both.tgt.subarray(c.frameOffset * C, (c.frameOffset + c.frames) * C).every((v) => Math.abs(v - want / 10) < 1e-6), `${c.voice} targets`);
  }

  const off = loadTrain(dir, false);
  t.equal(off.real, null, '--no-real');
  t.equal(off.meta.clips.length, 2);
});
