import t, { type Test } from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { Waiters } from './helpers/waiters.js';
import { FakeRemoteAgent, syntheticSpeech, type Upstream } from './helpers/fake-remote-agent.js';

const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

const WORDS = 'one two three four five six seven eight nine ten eleven twelve'.split(' ');

/** Connect, start a 3 s turn, wait until `framesBefore` frames arrived. */
async function speakingClient(framesBefore: number): Promise<{ client: WidgetClient; up: Upstream; turnId: string }> {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  let upstream: Upstream | undefined;
  agent.onText = (up) => {
    upstream = up;
    void agent.speak(up, syntheticSpeech(3), { words: WORDS });
  };
  client.send({ type: 'text', data: 'talk to me' });
  await client.waitFor(() => client.received.filter((r) => r.msg.type === 'sync_frame').length >= framesBefore, 10_000);
  agent.onText = null;
  const start = client.received.find((r) => r.msg.type === 'audio_start')!.msg;
  return { client, up: upstream!, turnId: start.turnId as string };
}

/** The three messages of PROTOCOL §1.5, in order, right after index `from`. */
function checkInterruptSequence(t: Test, client: WidgetClient, turnId: string, framesReceived: number): Promise<number> {
  return (async () => {
    const i = await client.waitType('interrupt', 5000);
    // The three messages leave in one tick but may arrive in separate reads: wait for the last.
    await client.waitFor((m) => m.type === 'transcript_done' && m.interrupted === true, 5000, i);
    const after = client.received.slice(i).map((r) => r.msg).filter((m) => m.type !== 'sync_frame');
    t.match(after[0], { type: 'interrupt', turnId });
    t.match(after[1], { type: 'avatar_state', state: 'Listening' });
    t.match(after[2], { type: 'transcript_done', role: 'assistant', turnId, interrupted: true });
    const offsetMs = after[0]!.offsetMs as number;
    // offsetMs = audio actually sent; the client may have up to one more frame in flight.
    const sentBefore = client.received.slice(0, i).filter((r) => r.msg.type === 'sync_frame').length;
    t.ok(Math.abs(offsetMs - sentBefore * (1000 / 30)) <= 1000 / 30 + 1, `offsetMs ${offsetMs} ≈ ${sentBefore} frames received`);
    t.ok(sentBefore >= framesReceived);
    const spoken = (after[2]!.text as string).split(' ').filter(Boolean);
    t.ok(spoken.length >= 1 && spoken.length < WORDS.length, `spoken words are a prefix: "${after[2]!.text}"`);
    t.same(spoken, WORDS.slice(0, spoken.length));
    return i;
  })();
}

async function noFramesOfTurnAfter(t: Test, client: WidgetClient, turnId: string, index: number): Promise<void> {
  // The positive signal that the pacer has moved on: a whole new turn plays through it on this
  // session; a frame of the interrupted turn, had any been left queued, would have come first.
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(0.3));
  client.send({ type: 'text', data: 'and now?' });
  await client.waitFor((m) => m.type === 'audio_end' && m.turnId !== turnId, 10_000, index);
  agent.onText = null;
  const late = client.received.slice(index + 1).filter((r) => r.msg.type === 'sync_frame' && r.msg.turnId === turnId);
  t.ok(late.length <= 1, `at most one frame of the interrupted turn was in flight (${late.length})`);
  t.notOk(client.received.slice(index).some((r) => r.msg.type === 'audio_end' && r.msg.turnId === turnId), 'no audio_end for it');
}

t.test('client interrupt mid-turn', async (t) => {
  const { client, up, turnId } = await speakingClient(15);
  client.send({ type: 'interrupt' });
  const i = await checkInterruptSequence(t, client, turnId, 15);
  await noFramesOfTurnAfter(t, client, turnId, i);
  const cancel = await agent.waitFor(() => up.received.find((m) => m.type === 'cancel'));
  t.ok(Math.abs((cancel.offsetMs as number) - (client.received[i]!.msg.offsetMs as number)) < 1, 'agent told the offset the client got');
  await client.close();
});

t.test('a new text while speaking interrupts first, then a new turn plays', async (t) => {
  const { client, turnId } = await speakingClient(10);
  agent.onText = (up, text) => void agent.speak(up, syntheticSpeech(0.5), { words: [text] });
  client.send({ type: 'text', data: 'second' });
  const i = await checkInterruptSequence(t, client, turnId, 10);
  const end = await client.waitFor((m) => m.type === 'audio_end' && m.turnId !== turnId, 10_000, i);
  agent.onText = null;
  const second = client.received.slice(i, end).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
  t.equal(second.length, 15, 'the new turn is complete');
  t.ok(second.every((f, k) => f.frameIndex === k && f.turnId !== turnId));
  await client.close();
});

t.test('agent barge-in (server VAD) interrupts the same way', async (t) => {
  const { client, up, turnId } = await speakingClient(12);
  up.send({ type: 'interrupted' });
  const i = await checkInterruptSequence(t, client, turnId, 12);
  await noFramesOfTurnAfter(t, client, turnId, i);
  t.ok(await agent.waitFor(() => up.received.find((m) => m.type === 'cancel')), 'agent told to truncate');
  await client.close();
});

t.test('interrupt while idle sends nothing', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  client.send({ type: 'interrupt' });
  client.send({ type: 'ping', timestamp: 1 });
  const i = await client.waitType('pong');
  t.same(client.types(), ['config', 'pong'], 'only the pong');
  t.type(client.received[i]!.msg.timestamp, 'number');
  await client.close();
});

t.test('abrupt disconnect mid-turn leaves the server serving', async (t) => {
  const { client } = await speakingClient(5);
  client.ws.terminate();
  // The server has seen the disconnect once its session is gone.
  await new Waiters('stats').waitForAsync(async () => {
    const stats = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as { sessions: number };
    return stats.sessions === 0;
  });
  const again = await speakingClient(5);
  t.pass('a new session speaks after an abrupt disconnect');
  await again.client.close();
});
