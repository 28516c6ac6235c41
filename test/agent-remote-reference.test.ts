import t from 'tap';
import pino from 'pino';
import { remoteAgentServer } from './helpers/fake-services.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import { RemoteAgent } from '../src/agents/remote/remote-agent.js';
import type { AgentEvents } from '../src/agents/agent.js';

// An agent written for the Python reference server, speaking its protocol exactly (issue 16).
const { fake: agent, server } = await remoteAgentServer(t, {}, 'reference');

t.test('a full turn with a reference agent: typed text in `data`, its deltas, its end', async (t) => {
  const index = agent.sessions.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const up = await agent.waitFor(() => agent.sessions[index]);
  const pcm = syntheticSpeech(0.5, { seed: 3 });
  const words = ['Hello', 'from', 'the', 'reference.'];
  agent.onText = (u) => void agent.speak(u, pcm, { words, itemId: 'item_2', previousItemId: 'item_1', chunkBytes: 2401 });
  client.send({ type: 'text', data: 'hi there' });
  const end = await client.waitType('audio_end', 15_000);
  agent.onText = null;
  t.match(up.received.find((m) => m.type === 'text'), { data: 'hi there', text: 'hi there' }, 'both spellings sent');

  const frames = client.received.slice(0, end).filter((r) => r.msg.type === 'sync_frame').map((r) => Buffer.from(r.msg.audio as string, 'base64'));
  const audio = Buffer.concat(frames);
  t.equal(frames.length, 15, '0.5 s = 15 frames');
  t.ok(audio.subarray(0, pcm.length).equals(pcm), 'the agent audio, byte for byte');
  t.ok(audio.subarray(pcm.length).every((b) => b === 0), 'then zero padding only');

  const deltas = client.received.filter((r) => r.msg.type === 'transcript_delta' && r.msg.role === 'assistant').map((r) => r.msg.text);
  t.same(deltas.map((d) => String(d).trim()), words, 'the reference `delta`s became the transcript');
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant');
  t.equal(client.received[done]!.msg.text, 'Hello from the reference.');
  await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 5000, done);

  up.send({ type: 'user_transcript', transcript: 'what the user said' });
  const u = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user');
  t.match(client.received[u]!.msg, { text: 'what the user said' });

  // role:"user" deltas are the user's words: shown as the user's, never mixed into the assistant's.
  up.send({ type: 'transcript_delta', delta: 'tell me ', role: 'user', itemId: 'u_7' });
  up.send({ type: 'transcript_delta', delta: 'a joke', role: 'user', itemId: 'u_7' });
  up.send({ type: 'user_transcript', transcript: 'tell me a joke' });
  const ud = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user' && m.text === 'tell me a joke');
  const userDeltas = client.received.slice(u + 1, ud).filter((r) => r.msg.type === 'transcript_delta');
  t.same(userDeltas.map((r) => [r.msg.role, r.msg.text, r.msg.itemId]), [['user', 'tell', 'u_7'], ['user', 'me', 'u_7'], ['user', 'a', 'u_7'], ['user', 'joke', 'u_7']], 'user deltas, one word each, role user');
  t.ok(userDeltas.every((r) => r.msg.turnId === client.received[ud]!.msg.turnId), 'deltas and the final text share the user turnId');
  t.equal(client.received[ud]!.msg.itemId, 'u_7');

  up.send({ type: 'error', error: 'the reference agent is out of quota' });
  up.send({ type: 'error', error: { message: 'an object error', code: 'REF_FAILURE' } });
  const e1 = await client.waitFor((m) => m.type === 'error' && m.message === 'the reference agent is out of quota');
  t.equal(client.received[e1]!.msg.code, 'AGENT_ERROR');
  await client.waitFor((m) => m.type === 'error' && m.code === 'REF_FAILURE' && m.message === 'an object error');
  t.notOk(client.received.some((r) => r.msg.code === 'AGENT_INVALID_MESSAGE'), 'every reference message was valid');
  await client.close();
});

t.test('the remote agent hands reference fields to the session: item ids, user deltas, user transcripts', async (t) => {
  const index = agent.sessions.length;
  const remote = new RemoteAgent({ url: agent.url, instructions: 'x', sampleRate: 24_000, logger: pino({ level: 'silent' }) });
  const events: Array<{ name: keyof AgentEvents; args: unknown[] }> = [];
  for (const name of ['responseStart', 'transcriptDelta', 'responseEnd', 'userTranscript', 'userTranscriptDelta', 'error'] as const) {
    remote.on(name, (...args: unknown[]) => events.push({ name, args }));
  }
  await remote.connect();
  t.teardown(() => remote.disconnect());
  const up = await agent.waitFor(() => agent.sessions[index]);
  up.send({ type: 'transcript_delta', delta: 'What ', role: 'user', itemId: 'u_1' });
  up.send({ type: 'user_transcript', transcript: 'What time is it?' });
  await agent.speak(up, syntheticSpeech(0.1), { words: ['It', 'is', 'noon.'], itemId: 'a_2', previousItemId: 'u_1' });
  await agent.waitFor(() => events.some((e) => e.name === 'responseEnd'));
  t.same(events.filter((e) => e.name === 'userTranscriptDelta').map((e) => e.args[0]), [{ text: 'What ', itemId: 'u_1' }]);
  t.same(events.filter((e) => e.name === 'userTranscript').map((e) => e.args[0]), [{ text: 'What time is it?', itemId: undefined }]);
  t.same(events.filter((e) => e.name === 'transcriptDelta').map((e) => e.args[0]), [
    { text: 'It', itemId: 'a_2', previousItemId: 'u_1' },
    { text: ' is', itemId: 'a_2', previousItemId: 'u_1' },
    { text: ' noon.', itemId: 'a_2', previousItemId: 'u_1' },
  ], 'assistant deltas keep their spaces and item ids (AssistantTextDelta)');
  t.match(events.find((e) => e.name === 'responseEnd')?.args[0], { transcript: 'It is noon.' });
  t.notOk(events.some((e) => e.name === 'error'), 'no error');
});
