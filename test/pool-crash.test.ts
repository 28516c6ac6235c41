import t from 'tap';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { Waiters } from './helpers/waiters.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';

const agent = await FakeRemoteAgent.start();
// Fault injection (testing aid): one worker exits on its 2nd window task, once.
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_FAULT_INJECTION: 'crash:2' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});

const waiter = new Waiters('pool-crash');

async function waitForLog(server: ServerProcess, msg: string, timeoutMs = 15_000): Promise<void> {
  await waiter.waitFor(() => server.logs.some((l) => l.msg === msg), timeoutMs);
}

/**
 * Wait until GET /health answers `status` (a replacement worker needs a moment to load its model;
 * a stuck one is seen once its ping goes unanswered); resolves the last answer's body.
 */
async function waitForHealth(server: ServerProcess, status = 200, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  return waiter.waitForAsync(async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/health`);
    const body = (await res.json()) as Record<string, unknown>;
    return res.status === status && body;
  }, timeoutMs);
}

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
  t.match(await waitForHealth(server), { status: 'healthy', workers: 1 }, 'pool back to full size');
  const stats = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as { inference: { failures: number } };
  t.equal(stats.inference.failures, 1);
  const again = await turn(client, pcm);
  t.ok(again.subarray(0, pcm.length).equals(pcm), 'the next turn works too');
  await client.close();
});

t.test('a stuck worker: /health says 503 while it hangs, the turn completes without waiting for it, the task times out', async (t) => {
  const hung = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_FAULT_INJECTION: 'hang:2', INFERENCE_TASK_TIMEOUT_MS: '10000' });
  t.teardown(() => hung.stop());
  const client = await WidgetClient.connect(hung.url());
  await client.waitType('config');
  const pcm = syntheticSpeech(1.2);
  agent.onText = (up) => void agent.speak(up, pcm);
  client.send({ type: 'text', data: 'go' });
  // Window 2 spins: /health stops answering 200 (its ping cannot reach the stuck worker).
  const during = await waitForHealth(hung, 503);
  t.match(during, { status: 'unhealthy', details: { workersAnswering: 0, expectedWorkers: 1 } }, 'unhealthy while a worker does not answer');
  agent.onText = null;
  const end = await client.waitType('audio_end', 15_000);
  const frames = client.received.slice(0, end).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
  const got = Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
  t.ok(got.subarray(0, pcm.length).equals(pcm), 'the turn completed with all its audio');
  t.ok(hung.logs.some((l) => l.msg === 'window late: filled with neutral weights'), 'the stuck window was filled, not waited for');
  await waitForLog(hung, 'abandoned inference task failed (its window was already served)', 30_000);
  t.match(await waitForHealth(hung), { status: 'healthy', workers: 1 }, 'healthy again with a fresh worker once the task timed out');
  await client.close();
});
