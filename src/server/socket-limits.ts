/**
 * Limits uWS enforces on its own, and how ours sit inside them so that the client always gets a
 * coded answer and a close code from us instead of uWS's silent TCP close (seen as 1006).
 */

/** uWS `send()` results (uWebSockets.js docs: 1 success, 0 buffered, 2 dropped). */
export const SendStatus = { BACKPRESSURE: 0, SUCCESS: 1, DROPPED: 2 } as const;

/**
 * uWS's `maxBackpressure` for sockets whose slow-client limit is `maxBufferedBytes`. uWS drops
 * a send when the socket already holds more than this; our own policy closes the session at
 * `maxBufferedBytes`, so twice that leaves room for the messages in between and nothing is dropped.
 */
export function maxBackpressureFor(maxBufferedBytes: number): number {
  return maxBufferedBytes * 2;
}

/**
 * uWS's `maxPayloadLength` for a dialect whose own message limit is `limitBytes`. uWS closes the
 * TCP connection on a larger frame without a close frame, so it gets a ceiling well above our
 * limit and we answer the messages in between (coded error, close 1009). Beyond the ceiling uWS
 * still drops the connection: the ceiling is what one connection may make us buffer.
 */
export function payloadCeilingFor(limitBytes: number): number {
  return Math.max(64 << 20, limitBytes * 2);
}

/**
 * uWS closes a connection itself (no close frame, the peer sees 1006) for invalid UTF-8 in a text
 * frame and for a frame above maxPayloadLength; its close handler then gets 1006 and one of these
 * texts. Validation happens in uWS's C++ frame parser before any JavaScript runs, so no error can
 * be sent: we log the cause so an operator can tell it from a network drop.
 */
export function uwsForcedCloseCause(code: number, message: ArrayBuffer): 'invalid UTF-8 in a text frame' | 'frame above the payload ceiling' | null {
  if (code !== 1006) return null;
  const text = Buffer.from(message).toString('utf8');
  if (text === 'Received invalid UTF-8') return 'invalid UTF-8 in a text frame';
  if (text.startsWith('Received too big message')) return 'frame above the payload ceiling';
  return null;
}
