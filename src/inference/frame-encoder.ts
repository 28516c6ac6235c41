import fastJson from 'fast-json-stringify';
import { ARKIT_COUNT, ARKIT_NAMES } from '../protocol/arkit.js';
import { serverMessageSchemas } from '../protocol/widget-schemas.js';
import { BYTES_PER_FRAME, SAMPLES_PER_FRAME } from '../audio/constants.js';

/**
 * Builds finished `sync_frame` bytes off the main thread: weights object, base64 audio and the
 * JSON text, serialised by a schema-compiled fast-json-stringify function. The timestamp is a
 * 13-digit placeholder the pacing worker overwrites with `Date.now()` at send time, so the
 * main thread never touches the frame's content.
 */
export const TIMESTAMP_PLACEHOLDER = 1_000_000_000_000;
const TIMESTAMP_KEY = Buffer.from('"timestamp":');

export interface EncodedFrames {
  /** All frames' UTF-8 JSON back to back. */
  bytes: Uint8Array;
  /** Byte length of each frame. */
  lengths: number[];
  /** Offset of each frame's 13 timestamp digits, relative to the frame's own start. */
  timestampOffsets: number[];
}

export interface FrameIdentity {
  sessionId: string;
  turnId: string;
}

/** A sync_frame as an object (before serialisation). */
export interface SyncFrame {
  type: 'sync_frame';
  weights: Record<string, number>;
  audio: string;
  sessionId: string;
  turnId: string;
  timestamp: number;
  frameIndex: number;
}

export class SyncFrameEncoder {
  private readonly serialize = fastJson(serverMessageSchemas.sync_frame as object) as (f: SyncFrame) => string;
  private readonly padded = Buffer.alloc(BYTES_PER_FRAME);

  /**
   * `weights`: frameCount × 52 values in canonical order; `pcm`: the frames' 24 kHz samples
   * (the last frame may be short and is zero-padded to 1600 bytes).
   */
  encode(id: FrameIdentity, firstFrameIndex: number, weights: Float32Array, pcm: Int16Array, frameCount: number): EncodedFrames {
    const parts: Buffer[] = [];
    const lengths: number[] = [];
    const timestampOffsets: number[] = [];
    const frame: SyncFrame = {
      type: 'sync_frame', weights: {}, audio: '', sessionId: id.sessionId, turnId: id.turnId,
      timestamp: TIMESTAMP_PLACEHOLDER, frameIndex: 0,
    };
    const pcmBytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    for (let f = 0; f < frameCount; f++) {
      const w: Record<string, number> = {};
      for (let c = 0; c < ARKIT_COUNT; c++) {
        const v = weights[f * ARKIT_COUNT + c]!;
        // Clamp to the protocol's 0..1 and round to 4 decimals: a third of the bytes, no visible loss.
        w[ARKIT_NAMES[c]!] = v > 0 ? (v < 1 ? Math.round(v * 10000) / 10000 : 1) : 0;
      }
      const start = f * BYTES_PER_FRAME;
      const end = Math.min(start + BYTES_PER_FRAME, pcmBytes.length);
      let audio: Buffer;
      if (end - start === BYTES_PER_FRAME) {
        audio = pcmBytes.subarray(start, end);
      } else {
        this.padded.fill(0);
        if (end > start) pcmBytes.copy(this.padded, 0, start, end);
        audio = this.padded;
      }
      frame.weights = w;
      frame.audio = audio.toString('base64');
      frame.frameIndex = firstFrameIndex + f;
      const json = Buffer.from(this.serialize(frame), 'utf8');
      const at = json.indexOf(TIMESTAMP_KEY);
      timestampOffsets.push(at + TIMESTAMP_KEY.length);
      lengths.push(json.length);
      parts.push(json);
    }
    // One exact-size buffer, so it moves between threads whole and alone.
    const bytes = new Uint8Array(lengths.reduce((a, b) => a + b, 0));
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    return { bytes, lengths, timestampOffsets };
  }
}

/** Write `ms` as 13 ASCII digits at `offset` (pacing worker, at send time). */
export function patchTimestamp(frame: Uint8Array, offset: number, ms: number): void {
  let v = Math.floor(ms);
  for (let i = 12; i >= 0; i--) {
    frame[offset + i] = 48 + (v % 10);
    v = Math.floor(v / 10);
  }
}

export { SAMPLES_PER_FRAME };
