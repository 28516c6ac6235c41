import { museTalkMessage } from '../protocol/musetalk-server.js';
import { VIDEO_FRAME_MS } from './video-clock.js';

/**
 * A MuseTalk `VIDEO_FRAME` (PROTOCOL.md §3) as JSON text: `frame_data` the base64 of one H.264
 * Annex-B access unit, `frame_timestamp` = frame number × 40 ms. Serialized like every server
 * message, by the serializer compiled from its schema (musetalk-server.ts).
 */
export function videoFrameMessage(sessionId: string, accessUnitBase64: string, frame: number): string {
  return museTalkMessage('VIDEO_FRAME', sessionId, { frame_data: accessUnitBase64, frame_timestamp: frame * VIDEO_FRAME_MS });
}
