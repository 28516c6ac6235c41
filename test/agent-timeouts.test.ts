import t, { type Test } from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient, type Msg } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

// Issue 13 item 7: an agent that never answers, or never ends its response, must not hold the user.
const TIMEOUT_MS = 3000;
const agent = await FakeRemoteAgent.start();
const server = await startServer({
  AGENT_TYPE: 'remote', AGENT_URL: agent.url, LOG_LEVEL: 'debug',
  AGENT_RESPONSE_TIMEOUT_MS: String(TIMEOUT_MS), AGENT_IDLE_TIMEOUT_MS: String(TIMEOUT_MS),
});
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

async function session() {
  const index = agent.sessions.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const up = await agent.waitFor(() => agent.sessions[index]);
  await agent.waitFor(() => up.received.some((m) => m.type === 'session.start'));
  return { client, up };
}

const isTimeout = (m: Msg) => m.type === 'error' && m.code === 'AGENT_TIMEOUT';

async function cleanTurn(t: Test, client: WidgetClient, seconds: number): Promise<void> {
  const pcm = syntheticSpeech(seconds, { seed: 9 });
  agent.onText = (u) => void agent.speak(u, pcm, { words: ['all', 'good'] });
  const from = client.received.length;
  client.send({ type: 'text', data: 'again' });
  const end = await client.waitType('audio_end', 15_000, from);
  agent.onText = null;
  const audio = Buffer.concat(client.received.slice(from, end).filter((r) => r.msg.type === 'sync_frame').map((r) => Buffer.from(r.msg.audio as string, 'base64')));
  t.ok(audio.subarray(0, pcm.length).equals(pcm) && audio.length - pcm.length < 1600, 'the next turn is complete, byte for byte');
  t.notOk(client.received.slice(from).some((r) => isTimeout(r.msg)), 'and has no timeout');
}

t.test('an agent that never answers typed text: AGENT_TIMEOUT, cancel upstream, the next turn works', async (t) => {
  const { client, up } = await session();
  client.send({ type: 'text', data: 'hello?' });
  const e = await client.waitFor(isTimeout, 15_000);
  t.match(client.received[e]!.msg.message, new RegExp(`did not answer within ${TIMEOUT_MS} ms`));
  t.notOk(client.types().includes('avatar_state'), 'no turn was announced, so none is undone');
  await agent.waitFor(() => up.received.some((m) => m.type === 'cancel'));
  t.pass('the agent was told to cancel');
  await cleanTurn(t, client, 0.4);
  t.equal(client.closed, null);
  await client.close();
});

t.test('an agent that never ends its response: the turn plays out and ends cleanly, the next turn works', async (t) => {
  const { client, up } = await session();
  // Audio at once, longer than the idle timeout: it fires while frames still play.
  const seconds = TIMEOUT_MS / 1000 + 1.5;
  const pcm = syntheticSpeech(seconds, { seed: 4 });
  agent.onText = (u) => void agent.speak(u, pcm, { words: ['never', 'ending'], noEnd: true });
  client.send({ type: 'text', data: 'talk to me' });
  const e = await client.waitFor(isTimeout, 15_000);
  agent.onText = null;
  t.match(client.received[e]!.msg.message, new RegExp(`sent nothing for ${TIMEOUT_MS} ms inside a response`));
  const end = await client.waitType('audio_end', 15_000);
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 5000, end);
  const listening = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 5000, done);
  t.ok(end < done && done < listening, 'audio_end, transcript_done, avatar_state Listening, in that order');
  t.equal(client.received[done]!.msg.text, 'never ending');
  t.notOk(client.received[done]!.msg.interrupted, 'ended, not interrupted');
  const audio = Buffer.concat(client.received.slice(0, end).filter((r) => r.msg.type === 'sync_frame').map((r) => Buffer.from(r.msg.audio as string, 'base64')));
  t.ok(audio.equals(pcm), `every accepted frame was played: ${seconds} s, byte for byte`);
  t.notOk(client.types().includes('interrupt'), 'no interrupt');
  const cancel = await agent.waitFor(() => up.received.find((m) => m.type === 'cancel'));
  t.equal(cancel.offsetMs, seconds * 1000, 'the agent hears it was heard to the end of what it sent');
  await cleanTurn(t, client, 0.3);
  await client.close();
});

t.test('committed audio: a manual agent is timed out; one that answers speech by itself is not', async (t) => {
  const { client, up } = await session();
  const mic = syntheticSpeech(0.1).toString('base64');
  client.send({ type: 'audio_stream_start' });
  client.send({ type: 'audio', data: mic });
  client.send({ type: 'audio_stream_end' });
  await agent.waitFor(() => up.received.some((m) => m.type === 'audio_commit'));
  await client.waitFor(isTimeout, 15_000);
  t.pass('no answer to a commit: AGENT_TIMEOUT');

  // Now the agent detects turns itself (server VAD): it answers speech with no commit.
  const from = client.received.length;
  client.send({ type: 'audio', data: mic });
  await agent.waitFor(() => up.received.filter((m) => m.type === 'audio').length >= 2);
  void agent.speak(up, syntheticSpeech(0.2));
  await client.waitType('audio_end', 10_000, from);
  const logsFrom = server.logs.length;
  client.send({ type: 'audio_stream_end' });
  const decided = await agent.waitFor(() => server.logs.slice(logsFrom).find((l) => l.msg === 'microphone committed'), 10_000);
  t.equal(decided.expectsAnswer, false, 'after answering speech by itself, a commit is not a question (no timer)');
  await client.close();
});
