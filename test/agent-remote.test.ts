import t from 'tap';
import { remoteAgentServer } from './helpers/fake-services.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';

const { fake: agent, server } = await remoteAgentServer(t);
const session = (): ReturnType<typeof agent.connectWidget> => agent.connectWidget(server.url());

t.test('session.start first; tool calls and user transcripts reach the client', async (t) => {
  const { client, index } = await session();
  const up = agent.sessions[index]!;
  t.match(up.received[0], { type: 'session.start', inputSampleRate: 24000, outputSampleRate: 24000 });
  up.send({ type: 'tool_call', name: 'trigger_confetti', arguments: { colors: ['red'] } });
  up.send({ type: 'user_transcript', text: 'hello there' });
  const a = await client.waitType('trigger_action');
  t.match(client.received[a]!.msg, { function_name: 'trigger_confetti', arguments: { colors: ['red'] } });
  const u = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user');
  t.match(client.received[u]!.msg, { text: 'hello there', turnId: /^user_\d+$/ });
  await client.close();
});

t.test('bad and unknown upstream messages are ignored safely', async (t) => {
  const { client, index } = await session();
  const up = agent.sessions[index]!;
  up.ws.send('not json');
  up.ws.send(Buffer.from([0, 1, 2]), { binary: true });
  up.send({ type: 'mystery', data: 1 });
  up.send({ type: 'audio_delta', data: 42 });
  up.send({ type: 'tool_call' });
  up.send(null);
  void agent.speak(up, syntheticSpeech(0.3));
  const end = await client.waitType('audio_end', 10_000);
  t.equal(client.received.slice(0, end).filter((r) => r.msg.type === 'sync_frame').length, 9, 'a normal turn after the garbage');
  const invalid = client.received.filter((r) => r.msg.type === 'error' && r.msg.code === 'AGENT_INVALID_MESSAGE');
  t.equal(invalid.length, 1, 'the client heard once that the agent sends invalid messages (throttled)');
  t.notOk(client.received.some((r) => r.msg.type === 'error' && r.msg.code !== 'AGENT_INVALID_MESSAGE'), 'no other error; unknown types are not errors');
  up.send({ type: 'error', code: 'UPSTREAM_QUOTA', message: 'quota exceeded' });
  const e = await client.waitFor((m) => m.type === 'error' && m.code === 'UPSTREAM_QUOTA');
  t.match(client.received[e]!.msg, { code: 'UPSTREAM_QUOTA', message: 'quota exceeded' });
  await client.close();
});

t.test('issue 13: an error whose message is an object with a toString trap does not stop the server', async (t) => {
  const { client, index } = await session();
  const up = agent.sessions[index]!;
  up.ws.send('{"type":"error","message":{"toString":1}}');
  up.ws.send('{"type":"error","error":{"toString":1,"valueOf":1},"code":{"toString":1}}');
  up.ws.send('{"type":"tool_call","name":{"toString":1},"arguments":{"toString":1}}');
  up.ws.send('{"type":"transcript_delta","delta":{"toString":1},"text":{"valueOf":1}}');
  const first = await client.waitFor((m) => m.type === 'error' && m.code === 'AGENT_ERROR');
  t.match(client.received[first]!.msg, { message: 'the remote agent reported an error' });
  await client.waitFor((m) => m.type === 'error' && m.code === 'AGENT_INVALID_MESSAGE');
  t.equal(server.proc.exitCode, null, 'the server is running');
  agent.onText = (u) => void agent.speak(u, syntheticSpeech(0.3));
  const from = client.received.length;
  client.send({ type: 'text', data: 'still there?' });
  const end = await client.waitType('audio_end', 10_000, from);
  agent.onText = null;
  t.equal(client.received.slice(from, end).filter((r) => r.msg.type === 'sync_frame').length, 9, 'the next turn is complete');
  await client.close();
});

t.test('upstream disconnect mid-turn: error to the client, reconnect, the next turn works', async (t) => {
  const { client, index } = await session();
  const up = agent.sessions[index]!;
  void agent.speak(up, syntheticSpeech(2), { noEnd: true });
  await client.waitType('sync_frame', 10_000);
  up.ws.terminate();
  const e = await client.waitFor((m) => m.type === 'error' && m.code === 'AGENT_DISCONNECTED', 5000);
  t.match(client.received[e]!.msg.message, /reconnecting/);
  const again = await agent.waitFor(() => agent.sessions[index + 1]);
  await agent.waitFor(() => again.received.some((m) => m.type === 'session.start'));
  t.pass('the server reconnected with a new session.start');
  await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000);
  agent.onText = (u) => void agent.speak(u, syntheticSpeech(0.4));
  const from = client.received.length;
  client.send({ type: 'text', data: 'are you back?' });
  const end = await client.waitType('audio_end', 10_000, from);
  agent.onText = null;
  t.equal(client.received.slice(from, end).filter((r) => r.msg.type === 'sync_frame').length, 12, 'the next turn is complete');
  t.equal(client.closed, null, 'the session stayed open');
  await client.close();
});

t.test('an unreachable agent: AGENT_UNAVAILABLE and the session closes with 1011', async (t) => {
  const dead = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: 'ws://127.0.0.1:9' });
  t.teardown(() => dead.stop());
  const client = await WidgetClient.connect(dead.url());
  const i = await client.waitFor((m) => m.type === 'error', 10_000);
  t.match(client.received[i]!.msg, { code: 'AGENT_UNAVAILABLE' });
  await client.waitFor(() => client.closed !== null, 5000).catch(() => undefined);
  t.equal(client.closed?.code, 1011);
});
