import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { FakeRemoteAgent } from './helpers/fake-remote-agent.js';
import { JsonWsClient } from './helpers/json-ws-client.js';
import { WidgetClient } from './helpers/widget-client.js';

/**
 * Issue 15: one admission path for the three dialects. One session count against MAX_SESSIONS
 * (a widget and a frame-stream session fill MAX_SESSIONS=2; any third is refused in its
 * dialect's words), and per-session message limits from config: RATE_LIMIT_MESSAGES_* for the
 * widget and frame-stream, MUSETALK_RATE_LIMIT_MESSAGES_* for MuseTalk (a 40 ms chunk per message).
 */
t.setTimeout(600_000);
/** Waits are for positive signals; the long timeouts only bound a failure on a loaded machine. */
const SLOW_MS = 60_000;
const agent = await FakeRemoteAgent.start();
const server = await startServer({
  AGENT_TYPE: 'remote', AGENT_URL: agent.url, MAX_SESSIONS: '2', VIDEO_MAX_SESSIONS: '50',
  RATE_LIMIT_MESSAGES_BURST: '5', RATE_LIMIT_MESSAGES_PER_S: '0.01',
  MUSETALK_RATE_LIMIT_MESSAGES_BURST: '7', MUSETALK_RATE_LIMIT_MESSAGES_PER_S: '0.01',
}, 180_000);
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

async function widget(): Promise<WidgetClient> {
  const c = await WidgetClient.connect(server.url('/ws'));
  await c.waitType('config', SLOW_MS);
  return c;
}

async function frameStream(): Promise<JsonWsClient> {
  const c = await JsonWsClient.connect(server.url('/'));
  await c.waitType('connection_established', SLOW_MS);
  return c;
}

async function museTalk(user: string): Promise<JsonWsClient> {
  const c = await JsonWsClient.connect(server.url(`/musetalk/v1/ws/${user}`));
  // MuseTalk says nothing until spoken to: a PONG is activity, answered by nothing.
  c.send({ type: 'PONG', session_id: 'none', data: {} });
  return c;
}

t.test('MAX_SESSIONS counts every dialect: widget + frame-stream fill 2, a third of any dialect is refused', async (t) => {
  const w = await widget();
  const f = await frameStream();

  const m = await museTalk('third');
  t.equal(await m.closed, 1013, 'MuseTalk: close 1013');
  const mtError = m.received.find((r) => r.msg.type === 'ERROR')?.msg;
  t.equal((mtError?.data as { code?: string } | undefined)?.code, 'RATE_LIMIT_EXCEEDED', 'MuseTalk: ERROR RATE_LIMIT_EXCEEDED');
  t.match(mtError?.session_id, /^[0-9a-f-]{36}$/, 'in a valid envelope');

  const f2 = await JsonWsClient.connect(server.url('/'));
  t.equal(await f2.closed, 1013, 'frame-stream: close 1013');
  t.equal(f2.received.find((r) => r.msg.type === 'error')?.msg.code, 'SERVER_BUSY', 'frame-stream: error SERVER_BUSY');
  t.notOk(f2.received.some((r) => r.msg.type === 'connection_established'), 'no session was opened');

  const w2 = await WidgetClient.connect(server.url('/ws'));
  await w2.close(); // resolves once the server has closed it
  t.equal(w2.closed?.code, 1013, 'widget: close 1013');
  t.equal(w2.received.find((r) => r.msg.type === 'error')?.msg.code, 'SERVER_BUSY', 'widget: error SERVER_BUSY');

  t.ok(server.logs.some((l) => l.msg === 'session refused: MAX_SESSIONS reached'), 'logged');
  await f.close();
  // The frame-stream slot is free once its close was handled: a MuseTalk session now gets in.
  const m2 = await museTalk('after');
  m2.send({ type: 'INIT', session_id: 'x', data: { user_id: 'after' } });
  const i = await m2.waitType('INIT_SUCCESS', SLOW_MS);
  t.ok(i >= 0, 'MuseTalk admitted in the freed slot');
  await m2.close();
  await w.close();
});

t.test('RATE_LIMIT_MESSAGES_* limits every dialect: a frame-stream flood is told and closed', async (t) => {
  const f = await frameStream();
  for (let k = 0; k < 20; k++) f.send({ type: 'nope' });
  t.equal(await f.closed, 1008, 'closed 1008');
  t.equal(f.closeReason, 'rate limit exceeded');
  const errors = f.received.filter((r) => r.msg.type === 'error').map((r) => r.msg.code);
  t.same(errors.slice(0, 5), Array(5).fill('UNKNOWN_TYPE'), 'the first 5 (the burst) are handled');
  t.equal(errors[5], 'RATE_LIMITED', 'the 6th is refused: error RATE_LIMITED');
  t.equal(errors.length, 6, 'nothing after it');
});

t.test('a MuseTalk flood gets RATE_LIMIT_EXCEEDED for each message over the limit; the session stays', async (t) => {
  const m = await JsonWsClient.connect(server.url('/musetalk/v1/ws/flood'));
  for (let k = 0; k < 10; k++) m.send({ type: 'DANCE', session_id: 'x', data: {} });
  await m.waitFor(() => m.received.filter((r) => r.msg.type === 'ERROR').length >= 10, SLOW_MS);
  const codes = m.received.filter((r) => r.msg.type === 'ERROR').map((r) => (r.msg.data as { code: string }).code);
  t.same(codes, [...Array(7).fill('INVALID_MESSAGE'), ...Array(3).fill('RATE_LIMIT_EXCEEDED')], 'MuseTalk burst of 7 (its own setting) handled, the rest refused');
  t.equal(m.closeCode, null, 'still open');
  await m.close();
});
