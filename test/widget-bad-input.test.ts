import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, MAX_MESSAGE_BYTES: '65536' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

const cases: Array<[string, string | Buffer, string, boolean?]> = [
  ['invalid JSON', '{"type": "text", "data": ', 'INVALID_JSON'],
  ['binary frame', Buffer.from([1, 2, 3, 4]), 'BINARY_NOT_SUPPORTED', true],
  ['JSON that is not an object', '[1,2,3]', 'INVALID_MESSAGE'],
  ['a JSON string', '"text"', 'INVALID_MESSAGE'],
  ['missing type', '{"data":"hi"}', 'MISSING_FIELD'],
  ['type of the wrong type', '{"type":42}', 'INVALID_FIELD'],
  ['unknown type', '{"type":"dance"}', 'UNKNOWN_TYPE'],
  ['text without data', '{"type":"text"}', 'MISSING_FIELD'],
  ['text with a number', '{"type":"text","data":5}', 'INVALID_FIELD'],
  ['empty text', '{"type":"text","data":"   "}', 'INVALID_FIELD'],
  ['audio without data', '{"type":"audio"}', 'MISSING_FIELD'],
  ['audio with an object', '{"type":"audio","data":{}}', 'INVALID_FIELD'],
  ['audio with bad base64', '{"type":"audio","data":"!!!not base64!!!"}', 'INVALID_AUDIO'],
  ['audio with odd-length PCM', `{"type":"audio","data":"${Buffer.from([1, 2, 3]).toString('base64')}"}`, 'INVALID_AUDIO'],
  ['audio with empty data', '{"type":"audio","data":""}', 'INVALID_AUDIO'],
  ['oversized message', JSON.stringify({ type: 'text', data: 'x'.repeat(70_000) }), 'MESSAGE_TOO_LARGE'],
];

t.test('each kind of bad input gets an error with a code; the session keeps working', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  for (const [name, payload, code, binary] of cases) {
    const from = client.received.length;
    client.sendRaw(payload, binary ?? false);
    const i = await client.waitType('error', 5000, from);
    const err = client.received[i]!.msg;
    t.equal(err.code, code, name);
    t.ok(typeof err.message === 'string' && (err.message as string).length > 5, `${name}: a human message`);
    t.type(err.timestamp, 'number');
  }
  // Still alive: ping works and a full turn plays.
  client.send({ type: 'ping' });
  await client.waitType('pong');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(0.3));
  client.send({ type: 'text', data: 'still there?' });
  await client.waitType('audio_end', 10_000);
  agent.onText = null;
  t.equal(client.closed, null, 'connection still open');
  await client.close();
});

t.test('accepted mic audio reaches the agent byte for byte, including after errors', async (t) => {
  const known = agent.sessions.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const up = await agent.waitFor(() => agent.sessions[known]);
  const pcm = syntheticSpeech(0.5, { f0: 200 });
  client.send({ type: 'audio_stream_start', sampleRate: 24000 });
  for (let at = 0; at < pcm.length; at += 4800) {
    client.send({ type: 'audio', data: pcm.subarray(at, at + 4800).toString('base64') });
    client.sendRaw('{"type":"audio","data":"@@@"}'); // interleaved garbage is rejected, nothing else lost
  }
  client.send({ type: 'audio_stream_end' });
  await agent.waitFor(() => up.received.some((m) => m.type === 'audio_commit'));
  const got = Buffer.concat(up.received.filter((m) => m.type === 'audio').map((m) => Buffer.from(m.data as string, 'base64')));
  t.ok(got.equals(pcm), 'agent got exactly the accepted audio');
  const garbage = Math.ceil(pcm.length / 4800);
  await client.waitFor(() => client.received.filter((r) => r.msg.type === 'error').length === garbage);
  t.ok(client.received.filter((r) => r.msg.type === 'error').every((r) => r.msg.code === 'INVALID_AUDIO'), 'each garbage message got INVALID_AUDIO');
  await client.close();
});

t.test('a message flood is rate-limited: error, close 1008; another session keeps its pace', async (t) => {
  const speaker = await WidgetClient.connect(server.url());
  await speaker.waitType('config');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(1.5));
  speaker.send({ type: 'text', data: 'keep talking' });
  await speaker.waitType('sync_frame', 10_000);
  agent.onText = null;
  const flooder = await WidgetClient.connect(server.url());
  await flooder.waitType('config');
  for (let i = 0; i < 500; i++) flooder.send({ type: 'ping', timestamp: i });
  const e = await flooder.waitFor((m) => m.type === 'error' && m.code === 'RATE_LIMITED', 5000);
  t.ok(e > 0, 'RATE_LIMITED error');
  await flooder.waitFor(() => flooder.closed !== null, 5000).catch(() => undefined);
  t.equal(flooder.closed?.code, 1008, 'closed with 1008');
  const pongs = flooder.received.filter((r) => r.msg.type === 'pong').length;
  t.ok(pongs >= 50 && pongs < 500, `the burst was served (${pongs} pongs) before the limit`);
  const end = await speaker.waitType('audio_end', 10_000);
  const frames = speaker.received.slice(0, end).filter((r) => r.msg.type === 'sync_frame');
  t.equal(frames.length, 45, 'the other session got its whole turn');
  t.ok(frames.every((f, k) => f.msg.frameIndex === k), 'in order, none lost');
  // Its pace under the flood is a timing figure for a quiet host (bench/), not for a shared CI core.
  const gaps = frames.slice(4).map((f, i) => f.at - frames[i + 3]!.at);
  t.comment(`max gap between its frames during the flood: ${Math.max(...gaps).toFixed(1)} ms`);
  await speaker.close();
});

t.test('the server survives garbage from many sockets at once', async (t) => {
  const clients = await Promise.all(Array.from({ length: 8 }, () => WidgetClient.connect(server.url())));
  for (const c of clients) for (let i = 0; i < 20; i++) c.sendRaw(i % 2 ? Buffer.alloc(1000, i) : '{{{{', i % 2 === 1);
  await Promise.all(clients.map((c) => c.waitFor(() => c.received.filter((r) => r.msg.type === 'error').length === 20)));
  for (const c of clients) c.ws.terminate();
  const res = await fetch(`http://127.0.0.1:${server.port}/health`);
  t.equal(res.status, 200);
});
