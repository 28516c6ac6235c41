import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

/**
 * Issue 13 item 9: a turn still playing when SHUTDOWN_GRACE_MS runs out ends as an interrupt
 * (PROTOCOL §1.5 order) before the 1001 close, never cut with no end at all.
 */
const agent = await FakeRemoteAgent.start();
t.teardown(() => agent.close());

t.test('SIGTERM mid-turn with a short grace: interrupt, Listening, transcript_done interrupted, then 1001', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, SHUTDOWN_GRACE_MS: '0' });
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(20), { words: ['a', 'long', 'answer', 'that', 'will', 'not', 'finish'] });
  client.send({ type: 'text', data: 'talk for a while' });
  await client.waitFor((m) => m.type === 'sync_frame' && (m.frameIndex as number) >= 5, 10_000);
  agent.onText = null;
  const turnId = client.received.find((r) => r.msg.type === 'audio_start')!.msg.turnId;
  const from = client.received.length;
  t.equal(await server.stop('SIGTERM'), 0, 'exit code 0');
  await client.waitFor(() => client.closed !== null, 10_000).catch(() => undefined);
  t.equal(client.closed?.code, 1001, 'closed with 1001');
  const end = client.received.slice(from).map((r) => r.msg).filter((m) => m.type !== 'sync_frame' && m.type !== 'transcript_delta');
  t.match(end, [
    { type: 'interrupt', turnId, offsetMs: Number },
    { type: 'avatar_state', state: 'Listening' },
    { type: 'transcript_done', role: 'assistant', turnId, interrupted: true },
  ], 'the turn ends as an interrupt');
  const offsetMs = end[0]!.offsetMs as number;
  const frames = client.received.filter((r) => r.msg.type === 'sync_frame').length;
  t.equal(offsetMs, Math.round((frames * 1000) / 30), 'offsetMs = the audio the client received');
  t.notOk(client.received.some((r) => r.msg.type === 'audio_end'), 'the 20 s turn did not play out');
});
