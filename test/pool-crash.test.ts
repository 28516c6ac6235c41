import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

const agent = await FakeRemoteAgent.start();
// Fault injection (testing aid): one worker exits on its 2nd window task, once.
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_FAULT_INJECTION: 'crash:2' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

async function turn(client: WidgetClient, pcm: Buffer): Promise<Buffer> {
  const from = client.received.length;
  agent.onText = (up) => void agent.speak(up, pcm);
  client.send({ type: 'text', data: 'go' });
  const end = await client.waitType('audio_end', 15_000, from);
  agent.onText = null;
  const frames = client.received.slice(from, end).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
  t.ok(frames.every((f, k) => f.frameIndex === k), 'contiguous frames');
  return Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
}

t.test('a worker crash is survived: the turn completes with all its audio', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const pcm = syntheticSpeech(1.2);
  const got = await turn(client, pcm);
  t.ok(got.subarray(0, pcm.length).equals(pcm), 'no audio lost across the crash');
  t.ok(server.logs.some((l) => l.msg === 'inference task failed; retrying once'), 'the failure is logged');
  const health = await fetch(`http://127.0.0.1:${server.port}/health`);
  t.equal(health.status, 200, 'pool back to full size');
  const stats = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as { inference: { failures: number } };
  t.equal(stats.inference.failures, 1);
  const again = await turn(client, pcm);
  t.ok(again.subarray(0, pcm.length).equals(pcm), 'the next turn works too');
  await client.close();
});

t.test('a stuck worker: /health says 503 while it hangs, the task times out, the turn completes', async (t) => {
  const hung = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_FAULT_INJECTION: 'hang:2', INFERENCE_TASK_TIMEOUT_MS: '2000' });
  t.teardown(() => hung.stop());
  const client = await WidgetClient.connect(hung.url());
  await client.waitType('config');
  const pcm = syntheticSpeech(1.2);
  agent.onText = (up) => void agent.speak(up, pcm);
  client.send({ type: 'text', data: 'go' });
  await client.waitType('sync_frame', 10_000); // window 1 done; window 2 is now spinning
  agent.onText = null;
  await new Promise((r) => setTimeout(r, 200));
  const during = await fetch(`http://127.0.0.1:${hung.port}/health`);
  t.equal(during.status, 503, 'unhealthy while a worker does not answer');
  t.match(await during.json(), { status: 'unhealthy', details: { workersAnswering: 0, expectedWorkers: 1 } });
  const end = await client.waitType('audio_end', 15_000);
  const frames = client.received.slice(0, end).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
  const got = Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
  t.ok(got.subarray(0, pcm.length).equals(pcm), 'the turn completed with all its audio');
  t.equal((await fetch(`http://127.0.0.1:${hung.port}/health`)).status, 200, 'healthy again with a fresh worker');
  await client.close();
});
