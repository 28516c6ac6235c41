import t from 'tap';
import fastJson from 'fast-json-stringify';
import { SyncFrameEncoder, TIMESTAMP_PLACEHOLDER, patchTimestamp, type SyncFrame } from './frame-encoder.js';
import { serverMessageSchemas } from '../protocol/widget-schemas.js';
import { ARKIT_COUNT, ARKIT_NAMES } from '../protocol/arkit.js';

/** The reference: the schema-compiled serializer over a frame object, weights clamped and rounded. */
const reference = fastJson(serverMessageSchemas.sync_frame as object) as (f: SyncFrame) => string;

function expected(id: { sessionId: string; turnId: string }, first: number, weights: Float32Array, pcm: Int16Array, frameCount: number): string[] {
  const bytes = Buffer.alloc(frameCount * 1600);
  Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).copy(bytes);
  return Array.from({ length: frameCount }, (_, f) => {
    const w: Record<string, number> = {};
    ARKIT_NAMES.forEach((n, c) => {
      const v = weights[f * ARKIT_COUNT + c]!;
      w[n] = v > 0 ? (v < 1 ? Math.round(v * 10000) / 10000 : 1) : 0;
    });
    return reference({ type: 'sync_frame', weights: w, audio: bytes.toString('base64', f * 1600, (f + 1) * 1600), sessionId: id.sessionId, turnId: id.turnId, timestamp: TIMESTAMP_PLACEHOLDER, frameIndex: first + f });
  });
}

t.test('the template writes byte for byte what the schema-compiled serializer writes', async (t) => {
  const encoder = new SyncFrameEncoder();
  let seed = 7;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  // Edge values: below 0, 0, the smallest step, just under a rounding step, just under 1, 1, above 1, NaN.
  const edges = [-0.5, 0, 0.0001, 0.00005, 0.00004999, 0.12345, 0.99994, 0.99996, 1, 1.7, Number.NaN, 1e-9];
  const cases = [
    { id: { sessionId: 'sess-1', turnId: 'turn-1' }, first: 0, frames: 15, pcmSamples: 15 * 800 },
    { id: { sessionId: 'a"b\\c\u0001', turnId: 'żółw 🐢' }, first: 123, frames: 7, pcmSamples: 6 * 800 + 333 }, // escapes, non-ASCII, a short last frame
    { id: { sessionId: 's', turnId: 't' }, first: 9, frames: 1, pcmSamples: 10 }, // one short frame
  ];
  for (const c of cases) {
    const weights = new Float32Array(c.frames * ARKIT_COUNT).map((_, i) => (i < edges.length ? edges[i]! : rand() * 1.2 - 0.1));
    const pcm = new Int16Array(c.pcmSamples).map(() => Math.round(rand() * 65535 - 32768));
    const got = encoder.encode(c.id, c.first, weights, pcm, c.frames);
    const want = expected(c.id, c.first, weights, pcm, c.frames);
    const all = Buffer.from(got.bytes);
    let at = 0;
    const frames = got.lengths.map((len) => all.subarray(at, (at += len)));
    t.equal(at, all.length, 'lengths cover the buffer exactly');
    t.same(frames.map((b) => b.toString('utf8')), want, `${c.frames} frames of ${JSON.stringify(c.id)}: identical text`);
    t.same(got.lengths, want.map((s) => Buffer.byteLength(s)), 'byte lengths');
    // The timestamp offsets point at the 13 placeholder digits: patching gives the reference with that timestamp.
    frames.forEach((b, f) => {
      const copy = Uint8Array.from(b);
      patchTimestamp(copy, got.timestampOffsets[f]!, 1_733_000_000_123);
      const parsed = JSON.parse(Buffer.from(copy).toString('utf8')) as { timestamp: number; frameIndex: number };
      if (parsed.timestamp !== 1_733_000_000_123 || parsed.frameIndex !== c.first + f) t.fail(`frame ${f}: timestamp patched in place`);
    });
  }
});
