import t from 'tap';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { FakeZeroClaw, type Step } from './helpers/fake-zeroclaw.js';
import { fuzzMessages } from './helpers/message-fuzz.js';
import { speechAt16k, streamMic, utterance } from './helpers/mic-speech.js';
import { freePort } from './helpers/fake-net.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { parseGatewayFrame } from '../src/agents/zeroclaw/protocol.js';
import { abortUrl, chatSocketUrl, readZeroClawSettings } from '../src/agents/zeroclaw/settings.js';

// AGENT_TYPE=sample_zeroclaw end to end: the real server, a fake ZeroClaw gateway (/ws/chat in
// both reply generations, the abort endpoint) and a fake speech server on 127.0.0.1.

const TOKEN = 'zc-pairing-token-8d2c4e6f1a';
const RATE_LIMITS = { RATE_LIMIT_MESSAGES_PER_S: '500', RATE_LIMIT_MESSAGES_BURST: '1000' };
const speech = await speechAt16k('Hello there. What is the weather like?');

const chunks = (...pieces: string[]): Step[] => [...pieces.map((content) => ({ frame: { type: 'chunk', content }, delayMs: 30 })), { frame: { type: 'done', full_response: pieces.join('') } }];

function assistantDone(text: string) {
  return (m: Record<string, unknown>): boolean => m.type === 'transcript_done' && m.role === 'assistant' && m.text === text;
}

t.test('one socket per session, both generations, tools, approvals, barge-in and cancel', async (t) => {
  const voice = await FakeOpenAiCompatible.start();
  t.teardown(() => voice.close());
  const zc = await FakeZeroClaw.start(TOKEN);
  t.teardown(() => zc.close());
  zc.behaviour = { generation: 'new', requireAgent: true };
  const server = await startServer({
    AGENT_TYPE: 'sample_zeroclaw',
    ZEROCLAW_BASE_URL: zc.url,
    ZEROCLAW_WS_TOKEN: TOKEN,
    ZEROCLAW_AGENT: 'kiosk',
    ZEROCLAW_STT_BASE_URL: voice.url,
    ZEROCLAW_TTS_BASE_URL: voice.url,
    ...RATE_LIMITS,
  });
  t.teardown(() => server.stop());
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');
  await zc.waitFor(() => zc.sockets.length === 1);
  const sock = zc.last;
  t.equal(sock.url.searchParams.get('token'), TOKEN, '?token=');
  t.equal(sock.url.searchParams.get('agent'), 'kiosk', '?agent= (ZEROCLAW_AGENT)');

  await t.test('typed turn, streaming generation: chunks spoken and shown', async (t) => {
    zc.reply = () => chunks('The weather', ' is sunny.', ' It is', ' warm.');
    const from = client.received.length;
    client.send({ type: 'text', data: 'How is the weather?' });
    const end = await client.waitFor(assistantDone('The weather is sunny. It is warm.'), 20_000, from);
    t.match(sock.received.find((m) => m.type === 'message'), { type: 'message', content: 'How is the weather?' }, 'only the utterance is sent');
    const frames = client.received.slice(from, end).filter((r) => r.msg.type === 'sync_frame');
    t.ok(frames.length > 20, `${frames.length} frames`);
    t.ok(voice.speechRequests.length >= 2, 'spoken by the speech server');
    t.equal(zc.sockets.length, 1, 'the same socket');
  });

  await t.test('old generation: one done.full_response', async (t) => {
    zc.reply = (content) => [{ frame: { type: 'done', full_response: `You asked: ${content}` }, delayMs: 20 }];
    const from = client.received.length;
    client.send({ type: 'text', data: 'Anything new?' });
    const end = await client.waitFor(assistantDone('You asked: Anything new?'), 20_000, from);
    t.ok(client.received.slice(from, end).some((r) => r.msg.type === 'sync_frame'), 'spoken');
  });

  await t.test('tool_call says "One sec." first; approval_request denied by default', async (t) => {
    zc.reply = () => [
      { frame: { type: 'thinking', content: 'hmm' } },
      { frame: { type: 'tool_call', id: 't1', name: 'shell', args: { cmd: 'ls' } } },
      { approval: 'req-1', tool: 'shell' },
      { frame: { type: 'tool_result', id: 't1', output: 'denied' } },
      ...chunks('I could not run that.'),
    ];
    const from = client.received.length;
    client.send({ type: 'text', data: 'List the files.' });
    await client.waitFor(assistantDone('One sec. I could not run that.'), 20_000, from);
    t.match(sock.received.find((m) => m.type === 'approval_response'), { type: 'approval_response', request_id: 'req-1', decision: 'deny' });
  });

  await t.test('mic turn: VAD → transcription → message', async (t) => {
    voice.transcribe = () => ({ text: 'What is the weather like?' });
    zc.reply = () => chunks('Cloudy today.');
    const from = client.received.length;
    await streamMic(client, utterance(speech, 500, 1200, 3));
    const user = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user', 15_000, from);
    t.equal(client.received[user]!.msg.text, 'What is the weather like?');
    await client.waitFor(assistantDone('Cloudy today.'), 20_000, user);
    t.match(sock.received.filter((m) => m.type === 'message').at(-1), { content: 'What is the weather like?' });
  });

  await t.test('barge-in: cancel message + abort endpoint, aborted ends the turn, same socket', async (t) => {
    zc.reply = () => Array.from({ length: 40 }, (_, i) => ({ frame: { type: 'chunk', content: ` Part ${i + 1} of the forecast.` }, delayMs: 120 }));
    voice.transcribe = () => ({ text: 'Stop.' });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Full forecast please.' });
    const first = await client.waitType('sync_frame', 15_000, from);
    const turnId = client.received[first]!.msg.turnId;
    zc.reply = () => chunks('Stopped.');
    void streamMic(client, utterance(speech, 200, 1200, 4));
    const i = await client.waitType('interrupt', 15_000, first);
    t.equal(client.received[i]!.msg.turnId, turnId);
    await zc.waitFor(() => sock.received.some((m) => m.type === 'cancel') && zc.aborts.length === 1, 10_000);
    t.match(zc.aborts[0], { sessionId: sock.sessionId, authorization: `Bearer ${TOKEN}` }, 'POST /api/sessions/{id}/abort with the Bearer token');
    await client.waitFor(assistantDone('Stopped.'), 20_000, i);
    t.equal(zc.sockets.length, 1, 'the turn ended by aborted: no reconnect');
  });

  await t.test('a cancelled turn that never ends: reconnect, its late done is never the next answer', async (t) => {
    zc.behaviour = { generation: 'deaf', requireAgent: true };
    zc.reply = (content) =>
      content === 'Long one.'
        ? [...Array.from({ length: 10 }, (_, i) => ({ frame: { type: 'chunk', content: ` Piece ${i + 1} of it.` }, delayMs: 100 })), { frame: { type: 'done', full_response: 'LATE ANSWER' }, delayMs: 2500 }]
        : chunks('The right answer.');
    const from = client.received.length;
    client.send({ type: 'text', data: 'Long one.' });
    await client.waitType('sync_frame', 15_000, from);
    const before = zc.sockets.length;
    client.send({ type: 'text', data: 'Short one.' });
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text !== '' && !String(m.text).startsWith('Piece'), 20_000, from);
    t.equal(client.received[end]!.msg.text, 'The right answer.');
    t.equal(zc.sockets.length, before + 1, 'a new socket for the next turn');
    t.match(zc.last.received.find((m) => m.type === 'message'), { content: 'Short one.' }, 'asked on the new socket');
    zc.behaviour = { generation: 'new', requireAgent: true };
  });

  await t.test('fuzzed gateway frames mid-turn: the turn ends or errors with a code, the session lives', async (t) => {
    const samples = [
      { type: 'chunk', content: 'Hi.' },
      { type: 'done', full_response: 'Hi.' },
      { type: 'tool_call', id: 't', name: 'x', args: {} },
      { type: 'approval_request', request_id: 'r', tool: 'x', arguments_summary: 's', timeout_secs: 120 },
      { type: 'error', message: 'boom' },
      { type: 'session_start', session_id: 's', resumed: false, message_count: 0 },
    ];
    const fuzz = [...fuzzMessages(samples, { seed: 23, count: 52, maxStringBytes: 64 * 1024 })];
    for (let i = 0; i < fuzz.length; i += 13) {
      const batch = fuzz.slice(i, i + 13).map((f) => ({ frame: typeof f.data === 'string' ? f.data : f.data.toString('latin1') }));
      zc.reply = () => [...batch, ...chunks('Fine.')];
      const from = client.received.length;
      client.send({ type: 'text', data: `Fuzz ${i}` });
      await client.waitFor((m) => m.type === 'error' || (m.type === 'transcript_done' && m.role === 'assistant'), 20_000, from);
    }
    zc.reply = () => chunks('Still here.');
    const from = client.received.length;
    client.send({ type: 'text', data: 'Are you there?' });
    await client.waitFor(assistantDone('Still here.'), 20_000, from);
    t.notOk(client.closed, 'the session is open');
  });

  await t.test('gateway drops mid-turn: a coded error, then reconnected', async (t) => {
    zc.reply = () => Array.from({ length: 20 }, (_, i) => ({ frame: { type: 'chunk', content: ` Bit ${i + 1}.` }, delayMs: 100 }));
    const from = client.received.length;
    const before = zc.sockets.length;
    client.send({ type: 'text', data: 'Talk.' });
    await zc.waitFor(() => zc.last.received.some((m) => m.type === 'message' && m.content === 'Talk.'));
    await client.waitType('sync_frame', 15_000, from);
    zc.dropAll();
    const e = await client.waitFor((m) => m.type === 'error', 15_000, from);
    t.match(client.received[e]!.msg, { code: 'GATEWAY_UNAVAILABLE' });
    await zc.waitFor(() => zc.sockets.length > before, 15_000);
    zc.reply = () => chunks('Reconnected.');
    client.send({ type: 'text', data: 'Hello?' });
    await client.waitFor(assistantDone('Reconnected.'), 20_000, e);
  });

  t.notMatch(server.output(), TOKEN, 'the token is never logged');
});

t.test('gateway down at start: the session is told and closed; up again: a new session works', async (t) => {
  const port = await freePort();
  const server = await startServer({ AGENT_TYPE: 'sample_zeroclaw', ZEROCLAW_BASE_URL: `http://127.0.0.1:${port}`, ZEROCLAW_WS_TOKEN: TOKEN, ZEROCLAW_CONNECT_TIMEOUT: '2', ...RATE_LIMITS });
  t.teardown(() => server.stop());
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  const e = await client.waitType('error', 15_000);
  t.match(client.received[e]!.msg, { code: 'AGENT_UNAVAILABLE' });

  const wrong = await FakeZeroClaw.start('not-the-token', port);
  const c2 = await WidgetClient.connect(server.url());
  t.teardown(() => c2.close());
  await c2.waitType('error', 15_000);
  t.equal(wrong.refused, 1, 'a bad token is refused (401)');
  // The client's error can overtake the server's log line on a busy host: wait for the line itself.
  const in401Log = (): boolean => server.logs.some((l) => typeof l.err === 'object' && /401/.test(JSON.stringify(l.err))) || /401/.test(server.output());
  await wrong.waitFor(in401Log, 15_000).catch(() => {});
  t.ok(in401Log(), 'the 401 is in the log');
  await wrong.close();

  const zc = await FakeZeroClaw.start(TOKEN, port);
  t.teardown(() => zc.close());
  zc.reply = () => chunks('Up now.');
  const c3 = await WidgetClient.connect(server.url());
  t.teardown(() => c3.close());
  await c3.waitType('config');
  await zc.waitFor(() => zc.sockets.length === 1);
  c3.send({ type: 'text', data: 'Hi?' });
  await c3.waitFor(assistantDone('Up now.'), 20_000);
  t.notMatch(server.output(), TOKEN, 'the token is never logged');
});

t.test('frames are typed at the boundary', async (t) => {
  t.same(parseGatewayFrame('{"type":"chunk","content":5}'), { type: 'invalid', reason: 'chunk without a string "content"' });
  t.same(parseGatewayFrame('{"type":"done","full_response":{"toString":1}}'), { type: 'done', fullResponse: null });
  t.same(parseGatewayFrame('{"type":"approval_request","request_id":["x"]}').type, 'invalid');
  t.same(parseGatewayFrame('[1]').type, 'invalid');
  t.same(parseGatewayFrame('{"type":"__proto__"}'), { type: 'ignored', kind: '__proto__' });
  t.same(parseGatewayFrame('{"type":"session_start","session_id":"a/../b c"}'), { type: 'session_start', sessionId: null, resumed: false });
});

t.test('settings and URLs', async (t) => {
  const s = readZeroClawSettings({ ZEROCLAW_BASE_URL: 'https://gw.example/zc/', ZEROCLAW_WS_TOKEN: 'tok', ZEROCLAW_AGENT: 'main' });
  t.equal(chatSocketUrl(s), 'wss://gw.example/zc/ws/chat?token=tok&agent=main');
  t.equal(abortUrl(s, 'a b'), 'https://gw.example/zc/api/sessions/a%20b/abort');
  t.match(readZeroClawSettings({}), { baseUrl: 'http://127.0.0.1:5555', approval: 'deny', connectTimeoutMs: 5000, readTimeoutMs: 120_000 });
  t.throws(() => readZeroClawSettings({ ZEROCLAW_APPROVAL: 'maybe' }), { name: 'ConfigError', variable: 'ZEROCLAW_APPROVAL' } as never);
  t.throws(() => readZeroClawSettings({ ZEROCLAW_BASE_URL: 'http://h/?token=x' }), { name: 'ConfigError', variable: 'ZEROCLAW_BASE_URL' } as never);
});
