import { isDeepStrictEqual } from 'node:util';
import fastJson from 'fast-json-stringify';
import { serverMessageSchemas } from '../../src/protocol/widget-schemas.js';
import { SyncFrameEncoder } from '../../src/inference/frame-encoder.js';
import { SAMPLES_PER_FRAME } from '../../src/audio/constants.js';
import { spread, type RunSpread } from '../quantiles.js';
import { frameObjects, pcmFor, timeUs, weightsFor, type SyncFrameObject } from './frame-fixtures.js';

/**
 * Two micro ablations on the sync_frame path, µs per frame (median of runs):
 *   serializer — JSON.stringify vs the schema-compiled fast-json-stringify, same objects, and the
 *     outputs checked to parse to the same value;
 *   base64 placement — what the main thread would do per frame if frames were not pre-encoded in
 *     the inference workers: base64 of the frame's 1600 bytes alone, and the whole frame build
 *     (weights, base64, JSON, UTF-8 bytes: SyncFrameEncoder per frame). In our design the
 *     main thread does none of it; its real CPU per frame sent is measured in section 5.
 */
export interface SerializationAblation {
  frameBytes: number;
  jsonStringifyUs: RunSpread;
  fastJsonStringifyUs: RunSpread;
  /** JSON.stringify / fast-json-stringify. */
  ratio: number;
  outputsEquivalent: boolean;
}

export interface Base64Ablation {
  base64OnlyUs: RunSpread;
  fullFrameBuildUs: RunSpread;
  /** Main-thread µs per frame in our design for that work: it only sends finished bytes. */
  preEncodedUs: 0;
}

export function ablateSerialization(runs: number, iterations: number): SerializationAblation {
  const frames = frameObjects(64);
  const fast = fastJson(serverMessageSchemas.sync_frame as object) as (f: SyncFrameObject) => string;
  const outputsEquivalent = frames.every((f) => isDeepStrictEqual(JSON.parse(fast(f)), JSON.parse(JSON.stringify(f))));
  const plain: number[] = [];
  const compiled: number[] = [];
  for (let r = 0; r < runs; r++) {
    // Alternate the order each run so neither always runs on a warmer heap.
    const order = r % 2 === 0 ? [0, 1] : [1, 0];
    for (const o of order) {
      if (o === 0) plain.push(timeUs(iterations, (i) => JSON.stringify(frames[i & 63]).length));
      else compiled.push(timeUs(iterations, (i) => fast(frames[i & 63]!).length));
    }
  }
  const jsonStringifyUs = spread(plain);
  const fastJsonStringifyUs = spread(compiled);
  return {
    frameBytes: Buffer.byteLength(fast(frames[0]!)), jsonStringifyUs, fastJsonStringifyUs,
    ratio: jsonStringifyUs.median / fastJsonStringifyUs.median, outputsEquivalent,
  };
}

export function ablateBase64(runs: number, iterations: number): Base64Ablation {
  const windowFrames = 15; // a 0.5 s window
  const pcm = pcmFor(64);
  const pcmBytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const weights = weightsFor(windowFrames);
  const windowPcm = pcm.subarray(0, windowFrames * SAMPLES_PER_FRAME);
  const encoder = new SyncFrameEncoder();
  const id = { sessionId: '7c9e6679-7425-40de-944b-e07fc1f90ae7', turnId: 'turn_1700000000000_0000abcd' };
  const b64: number[] = [];
  const full: number[] = [];
  for (let r = 0; r < runs; r++) {
    b64.push(timeUs(iterations, (i) => pcmBytes.subarray((i & 63) * 1600, ((i & 63) + 1) * 1600).toString('base64').length));
    full.push(timeUs(Math.max(1, Math.round(iterations / windowFrames)), (i) => encoder.encode(id, i * windowFrames, weights, windowPcm, windowFrames).bytes.length) / windowFrames);
  }
  return { base64OnlyUs: spread(b64), fullFrameBuildUs: spread(full), preEncodedUs: 0 };
}
