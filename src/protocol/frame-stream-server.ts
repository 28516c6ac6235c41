import { frameStreamServerSchemas } from './frame-stream-schemas.js';
import { compileSerializers } from './message-serializer.js';
import type { MessageOf } from './schema-types.js';

/**
 * The frame-stream dialect's server messages (PROTOCOL.md §2) as JSON text, by serializers
 * compiled once from frame-stream-schemas.ts. No validators here: the video worker imports this
 * module for its `frame` messages.
 */
export const frameStreamSerializers = compileSerializers(frameStreamServerSchemas);

/** A frame-stream server message, typed by its schema. */
export type FrameStreamServerMessage = MessageOf<typeof frameStreamServerSchemas>;

export function serializeFrameStreamMessage(msg: FrameStreamServerMessage): string {
  return frameStreamSerializers[msg.type](msg);
}

/**
 * A `frame` message: `frameIndex` 0-based, `audioBase64` the 200 ms chunk on every 5th frame
 * (else null), `dueMs` the wall time it is due (its `timestamp`).
 */
export function frameMessageJson(
  sequenceId: string, frameIndex: number, totalFrames: number, jpegBase64: string, audioBase64: string | null, dueMs: number,
): string {
  return serializeFrameStreamMessage({
    type: 'frame',
    sequence_id: sequenceId,
    frame_index: frameIndex,
    frame_data: jpegBase64,
    audio_data: audioBase64,
    timestamp: new Date(dueMs).toISOString(),
    progress: { current_frame: frameIndex + 1, total_frames: totalFrames },
  });
}
