import t from 'tap';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// train.mjs trains on the synthetic `train` split plus, when gen-data.mjs wrote it, the real
// recordings of `train-real` (training/lib/real-speech.mjs's `train` speakers). Plain JS outside
// the build, imported from the repository root.
type Clip = { frameOffset: number; frames: number; voice: string };
type Split = { meta: { clips: Clip[]; totalFrames: number; seconds: number }; feat: Float32Array; tgt: Float32Array; realFrom: number; real: null | { clips: number; minutes: number; copies: number; voices: number } };
type Chunk = [number, number, number];
const { loadTrain, epochChunks } = (await import(path.resolve('training/train.mjs'))) as {
  loadTrain(dir: string, use: boolean): Split;
  epochChunks(clips: Clip[], chunkFrames: number, rng: unknown, sampling?: { realFrom?: number; realShare?: number }): Chunk[];
};
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): unknown };

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
  t.equal(both.realFrom, 2, 'real clips start after the synthetic ones');
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
  t.equal(off.realFrom, 2);
  t.equal(off.meta.clips.length, 2);
});

t.test('epochChunks: real recordings are capped at --real-share of an epoch, a different subset each epoch', async (t) => {
  // 60 synthetic clips then 140 real ones, one 100-frame chunk each (clip k starts at k * 100).
  const clips: Clip[] = Array.from({ length: 200 }, (_, k) => ({ frameOffset: k * 100, frames: 100, voice: k < 60 ? 'synth' : 'real' }));
  const isReal = (c: Chunk) => c[0] >= 6000;

  const all = epochChunks(clips, 300, makeRng(1));
  t.equal(all.length, 200, 'no cap: every clip once');
  t.same(epochChunks(clips, 300, makeRng(1), { realFrom: 60, realShare: 1 }), all, 'realShare 1 = no cap, same draws');
  t.same(epochChunks(clips, 300, makeRng(1), { realFrom: 60, realShare: 0.75 }), all, 'a cap above the real share changes nothing (same random draws)');

  const rng = makeRng(1);
  const e1 = epochChunks(clips, 300, rng, { realFrom: 60, realShare: 0.4 });
  const e2 = epochChunks(clips, 300, rng, { realFrom: 60, realShare: 0.4 });
  for (const e of [e1, e2]) {
    t.equal(e.filter((c) => !isReal(c)).length, 60, 'every synthetic chunk kept');
    t.equal(e.filter(isReal).length, 40, '40 real chunks: 40 % of the epoch');
    t.equal(new Set(e.map((c) => c[0])).size, 100, 'no chunk twice');
  }
  const real1 = new Set(e1.filter(isReal).map((c) => c[0]));
  const real2 = e2.filter(isReal).map((c) => c[0]);
  t.ok(real2.some((o) => !real1.has(o)), 'the next epoch draws other real recordings');
  // Real chunks are spread over the epoch, not left at its end.
  t.ok(e1.slice(0, 50).some(isReal) && e1.slice(50).some(isReal), 'real chunks shuffled among the synthetic ones');
  t.same(epochChunks(clips, 300, makeRng(1), { realFrom: 60, realShare: 0.4 }), e1, 'deterministic for a seed');

  // Long clips give several random chunks; the cap counts chunks, not clips.
  const long: Clip[] = [{ frameOffset: 0, frames: 900, voice: 'synth' }, { frameOffset: 900, frames: 2700, voice: 'real' }];
  const l = epochChunks(long, 300, makeRng(2), { realFrom: 1, realShare: 0.5 });
  t.equal(l.filter((c) => c[0] < 900).length, 3);
  t.equal(l.filter((c) => c[0] >= 900).length, 3, 'real chunks capped at the synthetic count (share 0.5)');
  t.ok(l.every(([o, n]) => n === 300 && (o < 900 ? o + n <= 900 : o + n <= 3600)), 'chunks stay inside their clip');
});
