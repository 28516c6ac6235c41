import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { RecordingWs } from './helpers/raw-socket.js';
import { FakeRemoteAgent } from './helpers/fake-remote-agent.js';

/**
 * Issue 13 item 6: what a raw client actually receives for an oversized message and for invalid
 * UTF-8, on all three dialects.
 */
const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, MAX_MESSAGE_BYTES: '65536' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

const TEXT = 0x1;
/** Connect and wait for the dialect's greeting (MuseTalk has none: it gets none). */
async function open(path: string): Promise<RecordingWs> {
  const c = new RecordingWs(server.url(path));
  await c.opened;
  if (!path.includes('/musetalk/')) await c.firstMessageOrClose();
  return c;
}

t.test('frame-stream: a message over 50 MB gets an error message and close 1009', async (t) => {
  const c = await open('/');
  c.ws.send(JSON.stringify({ type: 'text_input', text: 'x'.repeat(50 * 1024 * 1024 + 10) }));
  const { messages, code, reason } = await c.closed;
  const err = messages.find((m) => m.type === 'error' && String(m.message).includes('exceeds'));
  t.match(err, { type: 'error', code: 'MESSAGE_TOO_LARGE', message: /exceeds the 50 MB limit/ }, 'coded error message');
  t.equal(code, 1009, 'close 1009 Message Too Big');
  t.equal(reason, 'message too big');
});

t.test('MuseTalk: a message over 1 MiB gets ERROR INVALID_MESSAGE and close 1009', async (t) => {
  const c = await open('/musetalk/v1/ws/user1');
  c.ws.send(JSON.stringify({ type: 'GENERATE', session_id: 'x', data: { pad: 'x'.repeat(2 << 20) } }));
  const { messages, code, reason } = await c.closed;
  t.match(messages.find((m) => m.type === 'ERROR'), { type: 'ERROR', data: { code: 'INVALID_MESSAGE', message: /exceeds/ } });
  t.equal(code, 1009);
  t.equal(reason, 'message too big');
});

t.test('widget: an oversized message gets MESSAGE_TOO_LARGE and the session stays open (PROTOCOL §1.2)', async (t) => {
  const c = await open('/ws');
  c.ws.send(JSON.stringify({ type: 'text', data: 'x'.repeat(2 << 20) }));
  await c.firstMessageOrClose();
  c.ws.send(JSON.stringify({ type: 'ping' }));
  const seen = new Promise<void>((resolve) => c.ws.on('message', (d) => JSON.parse(d.toString()).type === 'pong' && resolve()));
  await seen;
  t.match(c.messages.find((m) => m.type === 'error'), { code: 'MESSAGE_TOO_LARGE' });
  c.ws.close();
  t.equal((await c.closed).code, 1005, 'closed by the client, not the server');
});

/*
 * Invalid UTF-8 in a text frame, and a frame header announcing more than uWS's payload ceiling,
 * are refused inside uWS's C++ frame parser, which closes the TCP connection without a close frame
 * before any JavaScript runs: the client sees 1006 and no message can be sent. What the server
 * can and does do: log the cause (so it is not mistaken for a network drop) and keep serving.
 */
for (const [dialect, path] of [['widget', '/ws'], ['frame-stream', '/'], ['MuseTalk', '/musetalk/v1/ws/user1']] as const) {
  t.test(`${dialect}: invalid UTF-8 and a frame over the ceiling are logged with their cause; the server keeps serving`, async (t) => {
    const before = server.logs.length;
    const a = await open(path);
    a.sendRawFrame(TEXT, Buffer.from('{"type":"text","data":"\xff\xfe"}', 'latin1'));
    t.equal((await a.closed).code, 1006, 'uWS drops the connection (no close frame possible)');
    const b = await open(path);
    b.sendRawFrame(TEXT, Buffer.alloc(0), 1 << 30);
    t.equal((await b.closed).code, 1006);
    const causes = () => server.logs.slice(before).map((l) => l.cause).filter(Boolean);
    await waitUntil(() => causes().length >= 2);
    t.same(causes(), ['invalid UTF-8 in a text frame', 'frame above the payload ceiling'], 'each cause logged');
    const c = await open(path);
    if (path.includes('/musetalk/')) c.ws.send(JSON.stringify({ type: 'HELLO', data: {} }));
    t.ok(await c.firstMessageOrClose(), 'a new connection is served');
    c.ws.close();
    await c.closed;
  });
}

async function waitUntil(probe: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!probe()) {
    if (performance.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
