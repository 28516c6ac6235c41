/**
 * The 52 ARKit names, read from the server's single source of truth (src/protocol/arkit.ts)
 * so the training package never keeps a second copy of the canonical order.
 */
import fs from 'node:fs';

const source = fs.readFileSync(new URL('../../src/protocol/arkit.ts', import.meta.url), 'utf8');
const body = source.slice(source.indexOf('ARKIT_NAMES = ['), source.indexOf('] as const'));
export const ARKIT_NAMES = [...body.matchAll(/'([A-Za-z]+)'/g)].map((m) => m[1]);
if (ARKIT_NAMES.length !== 52) throw new Error(`expected 52 ARKit names in src/protocol/arkit.ts, found ${ARKIT_NAMES.length}`);
export const ARKIT_INDEX = Object.fromEntries(ARKIT_NAMES.map((name, i) => [name, i]));
