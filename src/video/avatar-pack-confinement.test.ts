import t from 'tap';
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listAvatarPacks, readPackManifest } from './avatar-pack.js';

/** Pack images are confined to the pack folder by real path (issue 13, item 10). */
t.test('a pack cannot point its images outside its folder', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'packs-confine-'));
  const outside = join(root, 'secret.png');
  writeFileSync(outside, 'not really a png, but outside the pack');
  const make = (name: string, manifest: Record<string, unknown>, setup?: (dir: string) => void): string => {
    const dir = join(root, 'packs', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'base.png'), 'inside');
    setup?.(dir);
    writeFileSync(join(dir, 'avatar.json'), JSON.stringify(manifest));
    return dir;
  };
  const good = make('good', { base: 'base.png', mouths: { open: 'sub/open.png' } }, (d) => {
    mkdirSync(join(d, 'sub'));
    writeFileSync(join(d, 'sub', 'open.png'), 'inside');
  });
  const absolute = make('absolute', { base: outside });
  const dotdot = make('dotdot', { base: '../../secret.png' });
  const link = make('link', { base: 'base.png', eyes: { closed: 'eyes.png' } }, (d) => symlinkSync(outside, join(d, 'eyes.png')));
  const dirLink = make('dirlink', { base: 'up/secret.png' }, (d) => symlinkSync(root, join(d, 'up')));
  const inner = make('inner', { base: 'alias.png' }, (d) => symlinkSync(join(d, 'base.png'), join(d, 'alias.png')));

  t.equal(readPackManifest(good).mouths.open, realpathSync(join(good, 'sub', 'open.png')), 'sub-folders inside the pack are fine');
  t.equal(readPackManifest(inner).base, realpathSync(join(inner, 'base.png')), 'a symlink that stays inside the pack is fine');
  for (const [name, dir] of [['absolute path', absolute], ['.. path', dotdot], ['symlink to a file outside', link], ['symlinked folder outside', dirLink]] as const) {
    t.throws(() => readPackManifest(dir), /not a file inside the pack/, name);
  }
  const errors: string[] = [];
  const packs = listAvatarPacks(join(root, 'packs'), (d) => errors.push(d));
  t.same(packs.map((p) => p.name).sort(), ['good', 'inner']);
  t.equal(errors.length, 4, 'each escaping pack is reported and skipped');
});
