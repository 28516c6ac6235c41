import { VIDEO_FRAME_MS } from './video-clock.js';

/**
 * A MuseTalk `VIDEO_FRAME` (PROTOCOL.md §3) as JSON text: `frame_data` the base64 of one H.264
 * Annex-B access unit, `frame_timestamp` = frame number × 40 ms. Built by concatenation: it runs
 * 25 times a second per session, and neither the session id (a UUID) nor base64 needs escaping.
 */
export function videoFrameMessage(sessionId: string, accessUnitBase64: string, frame: number): string {
  return `{"type":"VIDEO_FRAME","session_id":"${sessionId}","data":{"frame_data":"${accessUnitBase64}","frame_timestamp":${frame * VIDEO_FRAME_MS}}}`;
}
