import t, { type Test } from 'tap';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { WidgetClient, frameAudio, syncFrames } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { parsePrometheus, type Sample } from './helpers/prometheus-parse.js';

/**
 * INFERENCE_SCHEDULER end to end: the real server, real workers and ONNX sessions, a remote agent
 * that streams faster than real time. Both schedulers play every turn byte for byte and in order,
 * and /metrics says where each window's time went (queued, stages, round trip, late windows).
 */

const agent = await FakeRemoteAgent.start();
t.teardown(() => agent.close());

const SESSIONS = 3;
const TURN_S = 3;

async function turns(t: Test, server: ServerProcess, sessions = SESSIONS): Promise<void> {
  const pcms = Array.from({ length: sessions }, (_, i) => syntheticSpeech(TURN_S, { seed: i + 1, f0: 110 + 20 * i }));
  agent.onText = (up, text) => void agent.speak(up, pcms[Number(text)]!);
  const clients = await Promise.all(pcms.map(async () => {
    const c = await WidgetClient.connect(server.url());
    await c.waitType('config');
    return c;
  }));
  try {
    clients.forEach((c, i) => c.send({ type: 'text', data: String(i) }));
    await Promise.all(clients.map(async (c, i) => {
      const end = await c.waitFor((m) => m.type === 'audio_end', 30_000);
      const frames = syncFrames(c, 0, end);
      t.equal(frames.length, TURN_S * 30, `session ${i}: one frame per 1/30 s`);
      t.ok(frames.every((f, k) => f.frameIndex === k), `session ${i}: frames in order`);
      t.ok(frameAudio(frames).subarray(0, pcms[i]!.length).equals(pcms[i]!), `session ${i}: exactly the agent's audio`);
    }));
  } finally {
    agent.onText = null;
    await Promise.all(clients.map((c) => c.close()));
  }
}

async function metrics(server: ServerProcess): Promise<(name: string, labels?: Record<string, string>) => number> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  const { samples } = parsePrometheus(text);
  const matches = (s: Sample, labels: Record<string, string>) => Object.entries(labels).every(([k, v]) => s.labels[k] === v);
  return (name, labels = {}) => {
    const s = samples.find((x) => x.name === name && matches(x, labels));
    if (!s) throw new Error(`no sample ${name} ${JSON.stringify(labels)}`);
    return s.value;
  };
}

for (const scheduler of ['deadline', 'fifo'] as const) {
  t.test(`INFERENCE_SCHEDULER=${scheduler}: ${SESSIONS} concurrent turns exact and in order; /metrics shows where window time goes`, async (t) => {
    const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_WORKERS: '2', INFERENCE_SCHEDULER: scheduler });
    t.teardown(() => server.stop());
    await turns(t, server);
    const m = await metrics(server);
    t.equal(m('avatar_inference_scheduler_info', { scheduler }), 1, 'the scheduler in use is exposed');
    const windows = m('avatar_inference_windows_total');
    // 3 s in windows of 0.2, 0.4 (twice the first), 1.0, 1.0 and the last 0.4 s: 5 per turn.
    t.equal(windows, SESSIONS * 5, 'every window ran once (no fills, no retries)');
    t.equal(m('avatar_inference_queue_wait_seconds_count'), windows, 'queue wait timed for every window');
    t.equal(m('avatar_inference_round_trip_seconds_count'), windows, 'round trip timed for every window');
    for (const stage of ['read', 'resample', 'model', 'encode']) t.equal(m('avatar_inference_stage_seconds_count', { stage }), windows, `stage ${stage} timed`);
    const stagesS = ['read', 'resample', 'model', 'encode'].reduce((a, stage) => a + m('avatar_inference_stage_seconds_sum', { stage }), 0);
    const runS = m('avatar_inference_window_seconds_sum');
    t.ok(stagesS <= runS + 1e-6 && stagesS >= 0.8 * runS, `the stages make up the worker's time (${(stagesS * 1000).toFixed(1)} of ${(runS * 1000).toFixed(1)} ms)`);
    t.ok(m('avatar_inference_round_trip_seconds_sum') >= runS + m('avatar_inference_queue_wait_seconds_sum') - 0.01, 'round trip ≥ queued + running');
    const cpu = m('avatar_inference_worker_cpu_seconds_total');
    t.ok(cpu > 0 && cpu <= m('avatar_inference_worker_wall_seconds_total') * 1.05 + 0.005, `worker CPU ${(cpu * 1000).toFixed(1)} ms within its wall time`);
    t.same(['0', '1', '2', '3+'].map((window) => m('avatar_inference_windows_by_index_total', { window })), [SESSIONS, SESSIONS, SESSIONS, SESSIONS * 2], 'windows by index in the turn');
    const late = ['0', '1', '2', '3+'].map((window) => m('avatar_inference_late_windows_total', { window }));
    t.equal(late[0], 0, 'a first window is never late (its turn clock starts when it arrives)');
    t.ok(late.every((n, i) => n <= [SESSIONS, SESSIONS, SESSIONS, SESSIONS * 4][i]!), `late windows counted within their index (${late.join('/')})`);
  });
}

t.test('INFERENCE_TASK_WINDOWS: one worker, six turns at once — queued windows go several per task, every turn exact and in order', async (t) => {
  const sessions = 6;
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_WORKERS: '1', INFERENCE_TASK_WINDOWS: '4' });
  t.teardown(() => server.stop());
  await turns(t, server, sessions);
  const m = await metrics(server);
  const windows = m('avatar_inference_windows_total');
  t.equal(windows, sessions * 5, 'every window ran once');
  const batches = m('avatar_inference_batches_total');
  const tasks = m('avatar_inference_tasks_total');
  t.ok(batches > 0, `windows queued behind the one worker went in batches (${batches})`);
  t.ok(m('avatar_inference_batched_windows_total') >= 2 * batches, 'at least two windows in each');
  t.ok(tasks < windows, `fewer hand-offs than windows (${tasks} tasks for ${windows} windows)`);
  t.ok(m('avatar_inference_batch_yields_total') >= 0, 'yields counted');
  const one = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, INFERENCE_WORKERS: '1', INFERENCE_TASK_WINDOWS: '1' });
  t.teardown(() => one.stop());
  await turns(t, one, sessions);
  const m1 = await metrics(one);
  t.equal(m1('avatar_inference_batches_total'), 0, 'INFERENCE_TASK_WINDOWS=1: no batch');
  t.equal(m1('avatar_inference_tasks_total'), m1('avatar_inference_windows_total'), 'one task per window');
});
