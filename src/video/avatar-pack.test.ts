import t from 'tap';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCanvas } from '@napi-rs/canvas';
import { listAvatarPacks } from './avatar-pack.js';
import { AvatarRenderer } from './avatar-renderer.js';
import { ARKIT_COUNT, ARKIT_INDEX } from '../protocol/arkit.js';

function png(color: string, box: [number, number, number, number] | null): Buffer {
  const c = createCanvas(400, 400);
  const ctx = c.getContext('2d');
  ctx.fillStyle = color;
  if (box) ctx.fillRect(...box);
  else ctx.fillRect(0, 0, 400, 400);
  return c.encodeSync('png');
}

t.test('packs are listed, bad ones skipped, and their viseme layers follow the weights', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'packs-'));
  const acme = join(dir, 'acme');
  mkdirSync(acme);
  writeFileSync(join(acme, 'base.png'), png('#3366aa', null));
  writeFileSync(join(acme, 'rest.png'), png('#ffffff', [170, 280, 60, 10]));
  writeFileSync(join(acme, 'open.png'), png('#000000', [160, 260, 80, 60]));
  writeFileSync(join(acme, 'avatar.json'), JSON.stringify({ base: 'base.png', mouths: { rest: 'rest.png', open: 'open.png' } }));
  const broken = join(dir, 'broken');
  mkdirSync(broken);
  writeFileSync(join(broken, 'avatar.json'), JSON.stringify({ base: 'missing.png' }));
  const errors: string[] = [];
  const packs = listAvatarPacks(dir, (d) => errors.push(d));
  t.same(packs.map((p) => p.name), ['acme']);
  t.same(errors, [broken]);
  t.same(packs[0]!.states, ['idle', 'speaking', 'action']);

  const r = new AvatarRenderer(400, 400);
  await r.usePack(packs[0]!);
  const open = new Float32Array(ARKIT_COUNT);
  open[ARKIT_INDEX.jawOpen] = 0.9;
  const darkAt = (w: Float32Array) => {
    r.draw({ weights: w, t: 0.2 });
    const d = r.rgba();
    let n = 0;
    for (let y = 250; y < 330; y++) for (let x = 150; x < 250; x++) if (d[(y * 400 + x) * 4]! < 30) n++;
    return n;
  };
  t.ok(darkAt(open) > 2000, 'the "open" layer is drawn for an open jaw');
  t.ok(darkAt(new Float32Array(ARKIT_COUNT)) < 100, 'the "rest" layer for silence');
});
