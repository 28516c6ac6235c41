import t from 'tap';
import WebSocket from 'ws';
import type { us_listen_socket } from 'uWebSockets.js';
import { uWS } from './uws.js';
import { SendStatus, maxBackpressureFor } from './socket-limits.js';

/**
 * Issue 13 item 10: with uWS's maxBackpressure derived from MAX_BUFFERED_BYTES, a client that
 * stops reading always reaches our slow-client limit (session closed with a reason) before uWS
 * drops a single message. Real uWS socket, real client that stops reading.
 */
async function firstEvent(maxBufferedBytes: number, maxBackpressure: number): Promise<'slow-client policy' | 'dropped'> {
  const chunk = Buffer.alloc(64 * 1024, 7);
  let resolveResult!: (r: 'slow-client policy' | 'dropped') => void;
  const result = new Promise<'slow-client policy' | 'dropped'>((r) => (resolveResult = r));
  const app = uWS.App().ws('/', {
    maxBackpressure,
    open: (ws) => {
      // The client paused its socket before the upgrade finished: everything piles up here.
      for (;;) {
        if (ws.getBufferedAmount() > maxBufferedBytes) return resolveResult('slow-client policy');
        if (ws.send(chunk, true) === SendStatus.DROPPED) return resolveResult('dropped');
      }
    },
  });
  const listenSocket = await new Promise<us_listen_socket>((resolve) => app.listen('127.0.0.1', 0, resolve));
  const port = uWS.us_socket_local_port(listenSocket);
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  client.on('upgrade', (res) => res.socket.pause());
  client.on('error', () => undefined);
  const r = await result;
  client.terminate();
  uWS.us_listen_socket_close(listenSocket);
  return r;
}

t.test('the slow-client policy acts before uWS drops anything', async (t) => {
  for (const limit of [64 << 10, 1 << 20, 8 << 20]) {
    t.equal(await firstEvent(limit, maxBackpressureFor(limit)), 'slow-client policy', `MAX_BUFFERED_BYTES=${limit}`);
  }
  // The old setting: a fixed 16 MiB under a larger MAX_BUFFERED_BYTES dropped frames silently.
  t.equal(await firstEvent(32 << 20, 16 << 20), 'dropped', 'fixed 16 MiB under a 32 MiB limit drops first');
});
