import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_WORKERS: '2' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

t.test('concurrent sessions never mix audio, frames or ids', async (t) => {
  const N = 4;
  const audio = Array.from({ length: N }, (_, i) => syntheticSpeech(1.5 + i * 0.2, { f0: 110 + 40 * i, seed: i + 7 }));
  agent.onText = (up, text) => void agent.speak(up, audio[Number(text)]!, { chunkBytes: 3000 + 977 * Number(text) });
  const clients = await Promise.all(Array.from({ length: N }, () => WidgetClient.connect(server.url())));
  await Promise.all(clients.map((c) => c.waitType('config')));
  clients.forEach((c, i) => c.send({ type: 'text', data: String(i) }));
  await Promise.all(clients.map((c) => c.waitType('audio_end', 15_000)));
  agent.onText = null;
  const sessionIds = new Set<string>();
  clients.forEach((c, i) => {
    const start = c.received.find((r) => r.msg.type === 'audio_start')!.msg;
    sessionIds.add(start.sessionId as string);
    const frames = c.received.filter((r) => r.msg.type === 'sync_frame').map((r) => r.msg);
    t.ok(frames.every((f) => f.sessionId === start.sessionId && f.turnId === start.turnId), `client ${i}: only its own ids`);
    t.ok(frames.every((f, k) => f.frameIndex === k), `client ${i}: contiguous frames`);
    const got = Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
    t.ok(got.subarray(0, audio[i]!.length).equals(audio[i]!), `client ${i}: exactly its own audio`);
    t.equal(frames.length, Math.ceil(audio[i]!.length / 1600));
  });
  t.equal(sessionIds.size, N, 'distinct session ids');
  await Promise.all(clients.map((c) => c.close()));
});

t.test('one inference worker, many sessions at once: windows queue, never rejected; every turn completes', async (t) => {
  const single = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_WORKERS: '1' });
  t.teardown(() => single.stop());
  const N = 8;
  const pcm = syntheticSpeech(1.0);
  agent.onText = (up) => void agent.speak(up, pcm, { chunkBytes: 48_000 });
  const clients = await Promise.all(Array.from({ length: N }, () => WidgetClient.connect(single.url())));
  await Promise.all(clients.map((c) => c.waitType('config')));
  clients.forEach((c) => c.send({ type: 'text', data: 'all at once' }));
  await Promise.all(clients.map((c) => c.waitType('audio_end', 20_000)));
  agent.onText = null;
  for (const c of clients) {
    const frames = c.received.filter((r) => r.msg.type === 'sync_frame');
    t.equal(frames.length, 30);
    t.notOk(c.received.some((r) => r.msg.type === 'error'), 'no error sent');
  }
  const stats = (await (await fetch(`http://127.0.0.1:${single.port}/stats`)).json()) as { inference: { failures: number } };
  t.equal(stats.inference.failures, 0, 'no inference task failed');
  await Promise.all(clients.map((c) => c.close()));
});
