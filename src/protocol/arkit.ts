import names from '../contracts/arkit-blendshapes.json' with { type: 'json' };

/**
 * The 52 ARKit blendshape names in the canonical order that lip-sync models output them
 * (PROTOCOL.md §1.3). The list itself lives in src/contracts/arkit-blendshapes.json, which the
 * model scripts (scripts/) and the training pipeline (training/) read too.
 */
export const ARKIT_NAMES: readonly string[] = Object.freeze([...names]);

export type ArkitName = string;

export const ARKIT_COUNT = ARKIT_NAMES.length; // 52
if (ARKIT_COUNT !== 52 || new Set(ARKIT_NAMES).size !== 52) throw new Error('src/contracts/arkit-blendshapes.json must hold 52 distinct names');

/** Index of each name in the canonical order. */
export const ARKIT_INDEX: Readonly<Record<ArkitName, number>> = Object.freeze(
  Object.fromEntries(ARKIT_NAMES.map((name, i) => [name, i])),
);
