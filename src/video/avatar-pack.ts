import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import type { MouthShape } from './face-drawing.js';

/**
 * An avatar pack: a folder a customer drops in to brand the video avatar.
 *
 *   <packs dir>/<name>/avatar.json
 *   {
 *     "name": "acme",                       // optional, defaults to the folder name
 *     "base": "base.png",                   // the portrait, drawn to cover the frame
 *     "mouths": {                            // full-frame transparent layers, one per viseme
 *       "rest": "mouth_rest.png", "closed": "mouth_closed.png", "open": "mouth_open.png",
 *       "wide": "mouth_wide.png", "round": "mouth_round.png"
 *     },
 *     "eyes": { "closed": "eyes_closed.png", "half": "eyes_half.png" },   // optional layers
 *     "states": ["idle", "speaking", "action"]                            // optional
 *   }
 *
 * Only `base` is required; a missing viseme falls back to `rest`, then to nothing. Layers are
 * drawn over the base with the same placement, so designers export them from one document.
 */
export const VISEMES = ['rest', 'closed', 'open', 'wide', 'round'] as const;
export type Viseme = (typeof VISEMES)[number];
export const VIDEO_STATES = ['idle', 'speaking', 'action'] as const;
export type VideoState = (typeof VIDEO_STATES)[number];
export const BUILT_IN_VIDEO = 'default';

export interface AvatarPackManifest {
  name: string;
  dir: string;
  base: string;
  mouths: Partial<Record<Viseme, string>>;
  eyes: { closed?: string; half?: string };
  states: VideoState[];
}

/** Read and check one pack's manifest; throws with a message naming the file on a bad pack. */
export function readPackManifest(dir: string): AvatarPackManifest {
  const file = join(dir, 'avatar.json');
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const name = typeof raw.name === 'string' && raw.name ? raw.name : dir.split(/[\\/]/).filter(Boolean).pop()!;
  if (!/^[\w-]{1,64}$/.test(name)) throw new Error(`${file}: name must match [A-Za-z0-9_-]{1,64}`);
  if (typeof raw.base !== 'string') throw new Error(`${file}: "base" (the portrait image) is required`);
  // Confined by real path: an absolute name, `..` or a symlink must not reach outside the pack.
  const packRoot = realpathSync(dir);
  const inDir = (f: unknown, what: string): string => {
    if (typeof f !== 'string' || f === '' || f.includes('\0')) throw new Error(`${file}: ${what} must be a file name inside the pack`);
    const path = resolve(packRoot, f);
    if (!existsSync(path)) throw new Error(`${file}: ${what} "${f}" not found`);
    const real = realpathSync(path);
    if (!real.startsWith(packRoot + sep) || !statSync(real).isFile()) throw new Error(`${file}: ${what} "${f}" is not a file inside the pack`);
    return real;
  };
  const mouths: AvatarPackManifest['mouths'] = {};
  const rawMouths = (raw.mouths ?? {}) as Record<string, unknown>;
  for (const v of VISEMES) if (rawMouths[v] !== undefined) mouths[v] = inDir(rawMouths[v], `mouths.${v}`);
  const rawEyes = (raw.eyes ?? {}) as Record<string, unknown>;
  const eyes: AvatarPackManifest['eyes'] = {};
  if (rawEyes.closed !== undefined) eyes.closed = inDir(rawEyes.closed, 'eyes.closed');
  if (rawEyes.half !== undefined) eyes.half = inDir(rawEyes.half, 'eyes.half');
  const states = Array.isArray(raw.states) ? raw.states.filter((s): s is VideoState => (VIDEO_STATES as readonly unknown[]).includes(s)) : [...VIDEO_STATES];
  return { name, dir, base: inDir(raw.base, 'base'), mouths, eyes, states: states.length ? states : [...VIDEO_STATES] };
}

/**
 * Every valid pack under `packsDir` (sub-folders holding an avatar.json). Bad packs are reported
 * through `onError` and skipped, so one broken folder does not take the others down.
 */
export function listAvatarPacks(packsDir: string | null, onError: (dir: string, err: Error) => void = () => {}): AvatarPackManifest[] {
  if (!packsDir || !existsSync(packsDir)) return [];
  const packs: AvatarPackManifest[] = [];
  for (const entry of readdirSync(packsDir).sort()) {
    const dir = join(packsDir, entry);
    if (!statSync(dir).isDirectory() || !existsSync(join(dir, 'avatar.json'))) continue;
    try {
      const pack = readPackManifest(dir);
      if (pack.name === BUILT_IN_VIDEO || packs.some((p) => p.name === pack.name)) throw new Error(`duplicate avatar name "${pack.name}"`);
      packs.push(pack);
    } catch (err) {
      onError(dir, err as Error);
    }
  }
  return packs;
}

/** The viseme layer that best matches the mouth the weights ask for. */
export function visemeFor(m: MouthShape): Viseme {
  if (m.open < 2) return m.lipScale < 0.7 ? 'closed' : 'rest';
  if (m.round > 0.45) return 'round';
  if (m.open > 16) return 'open';
  if (m.halfWidth > 46) return 'wide';
  return m.open > 8 ? 'open' : 'rest';
}
