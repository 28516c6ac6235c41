import t from 'tap';
import { connect } from 'node:net';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { WidgetClient, syncFrames } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { Haproxy } from './helpers/fleet-haproxy.js';
import { rawHttp } from './helpers/raw-socket.js';
import { parsePrometheus } from './helpers/prometheus-parse.js';
import { readFileSync } from 'node:fs';

/**
 * Issue 18: three instances on loopback behind Debian's HAProxy running deploy/haproxy/haproxy.cfg
 * as shipped (addresses and ports templated). Started once for the whole file; the subtests run in
 * order and the last two take instances away (SIGTERM, then kill -9).
 *
 * Every instance: MAX_SESSIONS=2, auth on with one shared AUTH_SECRET_KEY, TRUSTED_PROXIES=127.0.0.1
 * (HAProxy connects from there), a per-address connection bucket of 4 that does not refill during
 * the test. Clients connect from their own loopback addresses (127.0.0.x), so each subtest is a
 * different client for both HAProxy's stick table and the instances' per-address limits.
 */
const ORIGIN = 'http://localhost:5173';
const agent = await FakeRemoteAgent.start();
const env = {
  AGENT_TYPE: 'remote', AGENT_URL: agent.url,
  AUTH_ENABLED: 'true', AUTH_SECRET_KEY: 'fleet-test-shared-secret-0123456789abcdef',
  TRUSTED_PROXIES: '127.0.0.1', MAX_SESSIONS: '2', PROBE_PORT: '0', SHUTDOWN_GRACE_MS: '30000',
  RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '4', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.01',
};
const instances: ServerProcess[] = await Promise.all([0, 1, 2].map(() => startServer(env, 180_000)));
const stopInstances = async () => {
  await Promise.all(instances.map((s) => s.stop()));
  await agent.close();
};
// A failure here (HAProxy not installed) ends the file before any teardown runs: the instances must not outlive it.
const haproxy = await Haproxy.start(instances.map((s) => ({ port: s.port, probePort: s.probePort! }))).catch(async (err: unknown) => {
  await stopInstances();
  throw err;
});
const open: WidgetClient[] = [];
t.teardown(async () => {
  for (const c of open) c.ws.terminate();
  await haproxy.stop();
  await stopInstances();
});
await haproxy.waitStatus({ avatar1: 'UP', avatar2: 'UP', avatar3: 'UP' });

const name = (i: number) => `avatar${i + 1}`;

const tokens: string[] = [];
async function token(base: string, origin = ORIGIN): Promise<string> {
  const res = await fetch(`${base}/api/auth/token`, { method: 'POST', headers: { origin } });
  if (res.status !== 200) throw new Error(`token: ${res.status}`);
  const { token: issued } = (await res.json()) as { token: string };
  tokens.push(issued);
  return issued;
}

interface Attempt { client: WidgetClient; admitted: boolean; first: Record<string, unknown> }

/** Open a widget session at `wsBase` from source address `from`: admitted (config) or refused (error, close). */
async function session(wsBase: string, from: string, o: { origin?: string; tokenFrom?: string; headers?: Record<string, string> } = {}): Promise<Attempt> {
  const origin = o.origin ?? ORIGIN;
  const tok = await token(o.tokenFrom ?? liveInstance(), origin);
  const client = await WidgetClient.connect(`${wsBase}/ws?token=${encodeURIComponent(tok)}`, { origin, ...o.headers }, { localAddress: from });
  open.push(client);
  await client.waitFor(() => true, 30_000);
  const first = client.received[0]!.msg;
  return { client, admitted: first.type === 'config', first };
}

/** Tokens come straight from an instance: the balancer answers 503 when every instance is full. */
function liveInstance(): string {
  const s = instances.find((p) => p.proc.exitCode === null && p.proc.signalCode === null)!;
  return `http://127.0.0.1:${s.port}`;
}

/** Open sessions per instance, from its probe port's /ready (HTTP/1.1 here). */
async function counts(): Promise<number[]> {
  return Promise.all(instances.map(async (s) => {
    if (s.proc.exitCode !== null || s.proc.signalCode !== null) return -1;
    const body = (await (await fetch(`http://127.0.0.1:${s.probePort}/ready`)).json()) as { sessions: number };
    return body.sessions;
  }));
}

async function waitCounts(expected: number[], timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let now = await counts();
  while (JSON.stringify(now) !== JSON.stringify(expected)) {
    if (performance.now() > deadline) throw new Error(`sessions per instance ${JSON.stringify(now)}, expected ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 50));
    now = await counts();
  }
}

/** The instance whose open-session count grew between two readings. */
function grew(before: number[], after: number[]): number[] {
  return after.map((n, i) => n - before[i]!).flatMap((d, i) => Array<number>(Math.max(0, d)).fill(i));
}

async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((c) => c.close()));
}

t.test('probe port: /health and /ready answer HTTP/1.0 and requests without Host', async (t) => {
  const probe = instances[0]!.probePort!;
  for (const [what, req] of [
    ['HTTP/1.0', 'GET /health HTTP/1.0\r\n\r\n'],
    ['HTTP/1.0', 'GET /ready HTTP/1.0\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /ready HTTP/1.1\r\nConnection: close\r\n\r\n'],
    ['HTTP/1.1 without Host', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n'],
  ] as const) {
    const { text } = await rawHttp(probe, req);
    t.match(text, /^HTTP\/1\.1 200 OK\r\n/, `${what}: ${req.split(' ')[1]} 200`);
    t.match(text, req.includes('/ready') ? /"status":"ready"/ : /"status":"healthy"/, `${what}: its JSON body`);
  }
  const head = await rawHttp(probe, 'HEAD /ready HTTP/1.0\r\n\r\n');
  t.match(head.text, /^HTTP\/1\.1 200 OK\r\n[^]*content-length: \d+\r\n[^]*\r\n\r\n$/i, 'HEAD: the headers, no body');
  t.match((await rawHttp(probe, 'GET /stats HTTP/1.0\r\n\r\n')).text, /^HTTP\/1\.1 404 /, 'nothing else on the probe port');
  const main = await fetch(`http://127.0.0.1:${instances[0]!.port}/ready`);
  t.equal(main.status, 200, 'the main port answers /ready too (HTTP/1.1 with Host)');
});

t.test('a token issued by one instance is accepted by another (shared AUTH_SECRET_KEY)', async (t) => {
  const [a, b, c] = instances.map((s) => s.port);
  const onB = await session(`ws://127.0.0.1:${b}`, '127.0.0.1', { tokenFrom: `http://127.0.0.1:${a}` });
  t.ok(onB.admitted, 'token from instance 1 opens a session on instance 2');
  const onC = await session(`ws://127.0.0.1:${c}`, '127.0.0.1', { tokenFrom: `http://127.0.0.1:${b}` });
  t.ok(onC.admitted, 'token from instance 2 opens a session on instance 3');
  await closeAll();
  await waitCounts([0, 0, 0]);
});

t.test('sessions spread by leastconn', async (t) => {
  const on: WidgetClient[][] = [[], [], []];
  const add = async () => {
    const c0 = await counts();
    const a = await session(haproxy.url, '127.0.0.10');
    t.ok(a.admitted, 'admitted');
    const [i] = grew(c0, await counts());
    on[i!]!.push(a.client);
    return i!;
  };
  for (let j = 0; j < 3; j++) await add();
  t.same(await counts(), [1, 1, 1], '3 sessions: one on each instance');
  // Round robin would now pick instance 1 again; leastconn picks the one with fewest connections.
  await on[1]!.pop()!.close();
  await waitCounts([1, 0, 1]);
  await haproxy.waitConnections({ avatar1: 1, avatar2: 0, avatar3: 1 });
  t.equal(await add(), 1, 'after a session on instance 2 closed, the next one goes there');
  for (let j = 0; j < 3; j++) await add();
  t.same(await counts(), [2, 2, 2], '6 sessions: two on each instance');
  await closeAll();
  await waitCounts([0, 0, 0]);
  await haproxy.waitStatus({ avatar1: 'UP', avatar2: 'UP', avatar3: 'UP' });
});

t.test('an instance at MAX_SESSIONS gets no new session, and none is refused while another has room', async (t) => {
  // Fill instance 1 directly: HAProxy sees no connection there, so leastconn alone would pick it.
  for (let j = 0; j < 2; j++) t.ok((await session(`ws://127.0.0.1:${instances[0]!.port}`, '127.0.0.1')).admitted);
  await haproxy.waitStatus({ avatar1: 'DOWN', avatar2: 'UP', avatar3: 'UP' });
  t.equal(((await (await fetch(`http://127.0.0.1:${instances[0]!.probePort}/ready`)).json()) as { status: string }).status, 'at_capacity');
  for (let j = 0; j < 4; j++) {
    const a = await session(haproxy.url, '127.0.0.11');
    t.ok(a.admitted, `session ${j + 1} through the balancer admitted (${JSON.stringify(a.first)})`);
    // An instance that just filled up may still be UP for one check interval: wait until HAProxy
    // has seen it, as a client arriving a moment later would find it.
    const full = (await counts()).flatMap((n, i) => (n >= 2 ? [name(i)] : []));
    await haproxy.waitStatus(Object.fromEntries(full.map((n) => [n, 'DOWN' as const])));
  }
  t.same(await counts(), [2, 2, 2], 'none went to the full instance; the others filled up');
  const client = WidgetClient.connect(`${haproxy.url}/ws?token=${encodeURIComponent(await token(liveInstance()))}`, { origin: ORIGIN }, { localAddress: '127.0.0.11' });
  await t.rejects(client, /Unexpected server response: 503/, 'every instance full: the balancer answers 503, no session is opened and refused');
  await closeAll();
  await waitCounts([0, 0, 0]);
  await haproxy.waitStatus({ avatar1: 'UP', avatar2: 'UP', avatar3: 'UP' });
});

t.test('rotating Origin (and a forged X-Forwarded-For) through the balancer: still limited per client address', async (t) => {
  const results: Attempt[] = [];
  for (let j = 0; j < 15; j++) {
    const a = await session(haproxy.url, '127.0.0.12', { origin: `http://localhost:${6000 + j}`, headers: { 'x-forwarded-for': `203.0.113.${j + 1}` } });
    results.push(a);
    if (!a.admitted) await a.client.waitFor(() => a.client.closed !== null).catch(() => undefined);
    await a.client.close();
  }
  const refused = results.filter((r) => !r.admitted);
  t.ok(results.filter((r) => r.admitted).length <= 12, 'at most the 3 instances × burst 4 admitted');
  t.ok(refused.length >= 3, `${refused.length} of 15 refused`);
  for (const r of refused) {
    t.match(r.first, { type: 'error', code: 'RATE_LIMITED' });
    t.match(r.client.closed, { code: 1008, reason: 'too many connection attempts' });
  }
  t.ok((await session(haproxy.url, '127.0.0.13')).admitted, 'another client address through the same balancer is admitted');
  await closeAll();
  await waitCounts([0, 0, 0]);
});

t.test("HAProxy's stick table limits one client's connection rate across the fleet", async (t) => {
  const statuses: number[] = [];
  for (let j = 0; j < 60; j++) {
    const text = await new Promise<string>((resolve) => {
      const s = connect({ port: haproxy.port, host: '127.0.0.1', localAddress: '127.0.0.14' }, () => s.write('GET /inf HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', () => resolve(got));
    });
    statuses.push(Number(text.split(' ')[1]));
  }
  t.same(statuses.slice(0, 50), Array(50).fill(200), 'the first 50 connections in 10 s pass');
  t.ok(statuses.slice(50).every((s) => s === 429), `then 429 (${statuses.slice(50).join(',')})`);
  t.ok((await session(haproxy.url, '127.0.0.15')).admitted, 'other clients are not affected');
  await closeAll();
  await waitCounts([0, 0, 0]);
});

t.test('SIGTERM to one instance mid-turn: its turn finishes, new sessions go to the others, it exits 0', async (t) => {
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(3), { words: ['a', 'turn', 'that', 'finishes'] });
  const before = await counts();
  const a = await session(haproxy.url, '127.0.0.16');
  const [x] = grew(before, await counts());
  t.ok(a.admitted && x !== undefined, `session on instance ${x! + 1}`);
  const proc = instances[x!]!;
  a.client.send({ type: 'text', data: 'talk for three seconds' });
  await a.client.waitFor((m) => m.type === 'sync_frame' && (m.frameIndex as number) >= 3, 20_000);
  proc.proc.kill('SIGTERM');
  await waitFor(async () => ((await (await fetch(`http://127.0.0.1:${proc.probePort}/ready`)).json()) as { status: string }).status === 'draining', 'the instance reports draining');
  const others: number[] = [];
  for (let j = 0; j < 2; j++) {
    const c0 = await counts();
    const b = await session(haproxy.url, '127.0.0.16');
    t.ok(b.admitted, `new session ${j + 1} admitted while instance ${x! + 1} drains`);
    others.push(...grew(c0, await counts()));
  }
  t.notOk(others.includes(x!), `new sessions went to instances ${others.map((i) => i + 1).join(', ')}`);
  const end = await a.client.waitType('audio_end', 30_000);
  await a.client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000, end);
  t.match(a.client.types(end), ['audio_end', 'transcript_done', 'avatar_state'], 'the turn ended normally');
  t.equal(syncFrames(a.client).length, 90, 'every frame of the 3 s turn');
  t.equal(await proc.exited, 0, 'exit code 0');
  await a.client.waitFor(() => a.client.closed !== null).catch(() => undefined);
  t.equal(a.client.closed?.code, 1001, 'then closed with 1001');
  await haproxy.waitStatus({ [name(x!)]: 'DOWN' });
  agent.onText = null;
  await closeAll();
});

t.test('kill -9 of one instance: its clients see the close, the others keep receiving frames', async (t) => {
  const alive = instances.map((s, i) => (s.proc.exitCode === null && s.proc.signalCode === null ? i : -1)).filter((i) => i >= 0);
  t.equal(alive.length, 2, 'two instances left');
  const clients: Array<{ at: number; client: WidgetClient }> = [];
  for (const _ of alive) {
    const c0 = await counts();
    const s = await session(haproxy.url, '127.0.0.17');
    clients.push({ at: grew(c0, await counts())[0]!, client: s.client });
  }
  t.same(clients.map((c) => c.at).sort(), alive, 'one session on each');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(4));
  for (const c of clients) c.client.send({ type: 'text', data: 'talk' });
  for (const c of clients) await c.client.waitFor((m) => m.type === 'sync_frame' && (m.frameIndex as number) >= 3, 20_000);
  const [victim, survivor] = clients as [typeof clients[0], typeof clients[0]];
  instances[victim.at]!.proc.kill('SIGKILL');
  await victim.client.waitFor(() => victim.client.closed !== null, 10_000).catch(() => undefined);
  t.ok(victim.client.closed, `the killed instance's client sees the close (${victim.client.closed?.code})`);
  const afterKill = survivor.client.received.length;
  await survivor.client.waitType('audio_end', 30_000);
  t.ok(syncFrames(survivor.client, afterKill).length > 0, 'the other instance kept sending frames after the kill');
  t.equal(syncFrames(survivor.client).length, 120, 'and played its whole 4 s turn');
  agent.onText = null;
});

t.test('the Grafana dashboard queries only metrics a live instance exposes', async (t) => {
  const dashboard = JSON.parse(readFileSync(new URL('../../deploy/grafana/dashboard.json', import.meta.url), 'utf8')) as { panels: Array<{ title: string; targets: Array<{ expr: string }> }> };
  const live = instances.find((s) => s.proc.exitCode === null && s.proc.signalCode === null)!;
  // After the turns above, so the pacing histogram has been reported.
  const { types } = parsePrometheus(await (await fetch(`http://127.0.0.1:${live.port}/metrics`)).text());
  const queried = new Set<string>();
  for (const panel of dashboard.panels) {
    t.ok(panel.targets.length > 0, `${panel.title}: has queries`);
    for (const { expr } of panel.targets) for (const m of expr.matchAll(/\b((?:avatar|process)_[a-z0-9_]+)/g)) queried.add(m[1]!);
  }
  t.ok(queried.size >= 20, `${queried.size} metrics queried`);
  for (const metric of queried) {
    const family = types.has(metric) ? metric : metric.replace(/_(bucket|sum|count)$/, '');
    t.ok(types.has(family) && (family === metric || types.get(family) === 'histogram'), `${metric} is on /metrics`);
  }
  for (const needed of ['avatar_open_sessions', 'avatar_frames_sent_total', 'avatar_pacing_lateness_seconds_bucket', 'avatar_inference_rtf_bucket', 'avatar_event_loop_delay_p99_seconds', 'avatar_inference_pool_busy_ratio', 'avatar_errors_total']) {
    t.ok(queried.has(needed), `the dashboard shows ${needed}`);
  }
});

t.test("the balancer's log has the requests but no session token", async (t) => {
  t.match(haproxy.log, /"GET \/ws HTTP\/1\.1"/, 'WebSocket requests are logged');
  t.ok(tokens.length > 20, `${tokens.length} tokens issued`);
  t.notOk(tokens.some((tok) => haproxy.log.includes(tok) || haproxy.log.includes(encodeURIComponent(tok))), 'none of them in the log');
});

async function waitFor(probe: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
