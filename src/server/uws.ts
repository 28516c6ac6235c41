import { createRequire } from 'node:module';
import type * as UwsTypes from 'uWebSockets.js';

/**
 * Loads uWebSockets.js and tells whether the native binary is in use. The npm republish we
 * depend on silently falls back to a slow pure-JS implementation on an unsupported Node; we
 * want to know (logged at start, and the tests fail on it).
 */
const require = createRequire(import.meta.url);
export const uWS = require('uWebSockets.js') as typeof UwsTypes;

function loadedNative(): boolean {
  const id = `uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    const nativeModule = require(`uWebSockets.js/binaries/${id}`) as unknown;
    return nativeModule === uWS;
  } catch {
    return false;
  }
}

export const uwsIsNative = loadedNative();
