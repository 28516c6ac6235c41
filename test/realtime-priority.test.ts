import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { Waiters } from './helpers/waiters.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { parsePrometheus } from './helpers/prometheus-parse.js';
import { maySetRealtime } from './helpers/capabilities.js';

/**
 * REALTIME_PRIORITY against the kernel's own view: every thread of the server process as /proc and
 * util-linux's `chrt -p` report it, not only what the server says about itself.
 */

/** This test process may set SCHED_RR (root or CAP_SYS_NICE): then `auto` must succeed. */
const privileged = maySetRealtime();
const haveSetpriv = (() => {
  try {
    execFileSync('setpriv', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const agent = await FakeRemoteAgent.start();
t.teardown(() => agent.close());
const waiter = new Waiters('realtime-priority');

interface KernelThread { tid: number; policy: string; priority: number; resetOnFork: boolean }

/** Each thread of `pid` as `chrt -p` prints it (policy name, priority, SCHED_RESET_ON_FORK flag). */
function kernelThreads(pid: number): KernelThread[] {
  return readdirSync(`/proc/${pid}/task`).map(Number).map((tid) => {
    const out = execFileSync('chrt', ['-p', String(tid)], { encoding: 'utf8' });
    const policy = /policy: (SCHED_\w+)/.exec(out)?.[1] ?? '?';
    return { tid, policy, priority: Number(/priority: (\d+)/.exec(out)?.[1] ?? -1), resetOnFork: out.includes('SCHED_RESET_ON_FORK') };
  });
}

interface RealtimeStats { status: string; priority: number; reason?: string; threads: Array<{ name: string; tid: number; policy: string; rtPriority: number }> }

async function realtimeStats(server: ServerProcess): Promise<RealtimeStats> {
  const body = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as { realtime: RealtimeStats };
  return body.realtime;
}

async function realtimeGauge(server: ServerProcess): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
  return parsePrometheus(text).samples.find((s) => s.name === 'avatar_realtime_threads')?.value;
}

/** One whole turn: every byte of the agent's audio comes back in order. */
async function speaks(t: Test, server: ServerProcess): Promise<void> {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const pcm = syntheticSpeech(1.0);
  agent.onText = (up) => void agent.speak(up, pcm);
  client.send({ type: 'text', data: 'go' });
  const end = await client.waitType('audio_end', 20_000);
  agent.onText = null;
  const frames = client.received.slice(0, end).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
  t.ok(frames.every((f, k) => f.frameIndex === k), 'frames contiguous');
  t.ok(Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64'))).subarray(0, pcm.length).equals(pcm), 'the turn played all its audio');
  await client.close();
}

const start = (env: Record<string, string>, launcher: string[] = []) =>
  startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, ...env }, 60_000, undefined, launcher);

t.test('auto: the main and pacing threads on SCHED_RR 10, every other thread — and one started later — normal', { skip: privileged ? false : 'needs root or CAP_SYS_NICE (CI runs as root)' }, async (t) => {
  // A worker crash on its first window: the pool starts a replacement thread after the change.
  const server = await start({ REALTIME_PRIORITY: 'auto', INFERENCE_FAULT_INJECTION: 'crash:1' });
  t.teardown(() => server.stop());
  const pid = server.proc.pid!;
  const rt = await realtimeStats(server);
  t.equal(rt.status, 'on', 'the server reports it on');
  t.same(rt.threads.map((x) => [x.name, x.policy, x.rtPriority]), [['main', 'rr', 10], ['pacing', 'rr', 10]]);
  const before = kernelThreads(pid);
  const rr = before.filter((x) => x.policy === 'SCHED_RR');
  t.equal(rr.length, 2, 'exactly two threads real-time in the kernel\'s view');
  t.ok(rr.some((x) => x.tid === pid), 'one of them is the main thread (tid = pid)');
  t.same(rr.map((x) => x.tid).sort(), rt.threads.map((x) => x.tid).sort(), 'they are the threads /stats names');
  t.ok(rr.every((x) => x.priority === 10 && x.resetOnFork), 'priority 10, with SCHED_RESET_ON_FORK');
  t.ok(before.filter((x) => x.policy !== 'SCHED_RR').every((x) => x.policy === 'SCHED_OTHER' && x.priority === 0), 'the rest (inference, V8, libuv) normal');
  t.equal(await realtimeGauge(server), 2, '/metrics avatar_realtime_threads');
  t.ok(server.logs.some((l) => l.msg === 'real-time priority: main and pacing threads on SCHED_RR' && l.level === 30), 'logged once at start');

  await speaks(t, server);
  await waiter.waitFor(() => server.logs.some((l) => l.msg === 'inference task failed; retrying once'), 15_000);
  // The replacement worker is a thread created by a real-time thread after the change.
  const fresh = await waiter.waitForAsync(async () => {
    const now = kernelThreads(pid).filter((x) => !before.some((b) => b.tid === x.tid));
    return now.length > 0 && now;
  }, 30_000);
  t.ok(fresh.every((x) => x.policy === 'SCHED_OTHER'), `threads started since (${fresh.length}) run at the normal policy`);
  t.equal(kernelThreads(pid).filter((x) => x.policy === 'SCHED_RR').length, 2, 'still exactly two real-time threads');
  await speaks(t, server);
});

t.test('off (the default, and REALTIME_PRIORITY=off): nothing changes, and /stats and /metrics say so', async (t) => {
  for (const env of [{}, { REALTIME_PRIORITY: 'off' }] as Array<Record<string, string>>) {
    const server = await start(env);
    t.ok(kernelThreads(server.proc.pid!).every((x) => x.policy === 'SCHED_OTHER'), `every thread normal: ${JSON.stringify(env)}`);
    const rt = await realtimeStats(server);
    t.equal(rt.status, 'off');
    t.same(rt.threads.map((x) => x.policy), ['normal', 'normal']);
    t.equal(await realtimeGauge(server), 0);
    t.notOk(server.logs.some((l) => /real-time priority/.test(String(l.msg))), 'no log line');
    await server.stop();
  }
});

t.test('not permitted (CAP_SYS_NICE dropped): the server runs normally; auto says so at info, an explicit priority warns', { skip: privileged && haveSetpriv ? false : 'needs root and setpriv to drop the capability' }, async (t) => {
  const drop = ['setpriv', '--bounding-set=-sys_nice', '--inh-caps=-sys_nice'];
  for (const [env, level] of [[{ REALTIME_PRIORITY: 'auto' }, 30], [{ REALTIME_PRIORITY: '20' }, 40]] as const) {
    const server = await start(env, drop);
    const rt = await realtimeStats(server);
    t.equal(rt.status, 'failed', JSON.stringify(env));
    t.match(rt.reason, /main thread: .*(not permitted|Operation not permitted)/i, 'chrt\'s own reason');
    t.ok(kernelThreads(server.proc.pid!).every((x) => x.policy === 'SCHED_OTHER'), 'every thread normal');
    t.equal(await realtimeGauge(server), 0);
    const line = server.logs.find((l) => /^real-time priority not (available|set)/.test(String(l.msg)));
    t.equal(line?.level, level, level === 30 ? 'auto: info' : 'explicit: warn');
    t.match(String(line?.hint), /CAP_SYS_NICE.*rtprio/, 'says what would permit it');
    await speaks(t, server);
    await server.stop();
  }
});

t.test('chrt missing from PATH: a clear reason, the server runs normally', async (t) => {
  const server = await start({ REALTIME_PRIORITY: '10', PATH: '/nonexistent' });
  t.teardown(() => server.stop());
  const rt = await realtimeStats(server);
  t.equal(rt.status, 'failed');
  t.match(rt.reason, /chrt \(util-linux\) not found/);
  t.ok(kernelThreads(server.proc.pid!).every((x) => x.policy === 'SCHED_OTHER'));
  await speaks(t, server);
});
