import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { createHmac } from 'node:crypto';
import WebSocket from 'ws';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { Waiters } from './helpers/waiters.js';

const SECRET = 'test-secret-0123456789abcdef';
const agent = await FakeRemoteAgent.start();
t.teardown(() => agent.close());

/**
 * Try a WS upgrade; resolves the close code/reason, or 'open' if the server admitted the session.
 * The signal: it answered a ping while the socket was open. Every dialect refuses a session in
 * its open handler, before it reads anything, so a refused one's close frame comes first.
 */
function tryConnect(url: string, origin?: string): Promise<{ code: number; reason: string } | 'open'> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { headers: { origin } } : {});
    let admitted = false;
    ws.on('open', () => ws.ping());
    ws.on('pong', () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      admitted = true;
      ws.close();
    });
    // Resolve only once the close handshake is done, so the server has forgotten the session.
    ws.on('close', (code, reason) => resolve(admitted ? 'open' : { code, reason: reason.toString() }));
    ws.on('error', () => undefined);
  });
}

t.test('auth: token endpoint, CORS, and WebSocket upgrade checks', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, AUTH_ENABLED: 'true', AUTH_SECRET_KEY: SECRET, AUTH_ALLOWED_ORIGINS: 'https://shop.example, https://app.example', AUTH_TOKEN_TTL: '60', DEBUG: 'true' });
  t.teardown(() => server.stop());
  const base = `http://127.0.0.1:${server.port}`;
  const post = (origin?: string) => fetch(`${base}/api/auth/token`, { method: 'POST', headers: origin ? { origin } : {} });

  t.equal((await post()).status, 400, 'missing Origin → 400');
  t.equal((await post('https://evil.example')).status, 403, 'unknown origin → 403');
  const res = await post('https://shop.example');
  t.equal(res.status, 200);
  t.equal(res.headers.get('access-control-allow-origin'), 'https://shop.example');
  const body = (await res.json()) as { token: string; ttl: number; origin: string };
  t.equal(body.ttl, 60);
  t.equal(body.origin, 'https://shop.example');
  const [ts, sig] = Buffer.from(body.token, 'base64').toString().split(':');
  t.equal(sig, createHmac('sha256', SECRET).update(`${ts}:https://shop.example`).digest('hex'), 'reference HMAC');

  const pre = await fetch(`${base}/api/auth/token`, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' } });
  t.equal(pre.status, 204, 'preflight answered');
  t.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example');
  t.match(pre.headers.get('access-control-allow-methods'), /POST/);

  const ws = (token?: string) => `ws://127.0.0.1:${server.port}/ws${token ? `?token=${encodeURIComponent(token)}` : ''}`;
  t.equal(await tryConnect(ws(body.token), 'https://shop.example'), 'open', 'good token + origin → open');
  t.match(await tryConnect(ws(), 'https://shop.example'), { code: 1008, reason: 'missing token' });
  t.match(await tryConnect(ws(body.token), 'https://app.example'), { code: 1008, reason: 'invalid signature' }, 'token bound to its origin');
  t.match(await tryConnect(ws(body.token), 'https://evil.example'), { code: 1008, reason: 'origin not allowed' });
  t.match(await tryConnect(ws('bm9wZQ=='), 'https://shop.example'), { code: 1008, reason: 'malformed token' });
  const old = Buffer.from(`1000:${createHmac('sha256', SECRET).update('1000:https://shop.example').digest('hex')}`).toString('base64');
  t.match(await tryConnect(ws(old), 'https://shop.example'), { code: 1008, reason: 'token expired' });
  const dev = (await (await post('http://localhost:5173')).json()) as { token: string };
  t.equal(await tryConnect(ws(dev.token), 'http://localhost:5173'), 'open', 'localhost development origin');
  // The video dialects are guarded the same way.
  const base2 = `ws://127.0.0.1:${server.port}`;
  t.match(await tryConnect(`${base2}/`, 'https://shop.example'), { code: 1008, reason: 'missing token' }, 'frame-stream dialect needs a token');
  t.match(await tryConnect(`${base2}/musetalk/v1/ws/user1`, 'https://evil.example'), { code: 1008, reason: 'origin not allowed' }, 'MuseTalk dialect checks the origin');
  const fresh = (await (await post('https://shop.example')).json()) as { token: string };
  t.equal(await tryConnect(`${base2}/musetalk/v1/ws/user1?token=${encodeURIComponent(fresh.token)}`, 'https://shop.example'), 'open', 'MuseTalk with a good token');
  t.notOk(server.output().includes(SECRET), 'the secret never appears in logs');
});

t.test('auth disabled: token endpoint says so', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url });
  t.teardown(() => server.stop());
  const res = await fetch(`http://127.0.0.1:${server.port}/api/auth/token`, { method: 'POST', headers: { origin: 'http://localhost:1' } });
  t.equal(res.status, 403);
});

t.test('auth on without a secret: generated key, loud warning, key never printed', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, AUTH_ENABLED: 'true' });
  t.teardown(() => server.stop());
  t.ok(server.logs.some((l) => l.level === 40 && String(l.msg).includes('AUTH_SECRET_KEY is not set')));
  const { token } = (await (await fetch(`http://127.0.0.1:${server.port}/api/auth/token`, { method: 'POST', headers: { origin: 'http://localhost:3' } })).json()) as { token: string };
  t.equal(await tryConnect(`ws://127.0.0.1:${server.port}/ws?token=${encodeURIComponent(token)}`, 'http://localhost:3'), 'open');
  t.notMatch(server.output(), /[0-9a-f]{64}/, 'no key material in the logs');
});

t.test('connection rate limit per origin trips and recovers; session cap rejects clearly', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, RATE_LIMIT_CONNECTIONS_BURST: '3', RATE_LIMIT_CONNECTIONS_PER_S: '0.5', MAX_SESSIONS: '2' });
  t.teardown(() => server.stop());
  const url = server.url();
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await tryConnect(url, 'https://a.example'));
  t.same(results.slice(0, 3), ['open', 'open', 'open']);
  t.match(results[3], { code: 1008, reason: 'too many connection attempts' });
  t.equal(await tryConnect(url, 'https://b.example'), 'open', 'other origins are not affected');
  // Refused attempts cost no token, so trying again until one is admitted waits for the refill.
  const refusals = new Set<string>();
  await new Waiters('connection rate limit refill').waitForAsync(async () => {
    const r = await tryConnect(url, 'https://a.example');
    if (r !== 'open') refusals.add(`${r.code} ${r.reason}`);
    return r === 'open';
  }, 30_000);
  t.ok([...refusals].every((r) => r === '1008 too many connection attempts'), `recovers as the bucket refills (refused meanwhile: ${[...refusals].join(', ') || 'none'})`);
  const a = await WidgetClient.connect(url, { origin: 'https://c.example' });
  const b = await WidgetClient.connect(url, { origin: 'https://c.example' });
  const third = await WidgetClient.connect(url, { origin: 'https://d.example' });
  await third.waitFor(() => third.closed !== null, 5000).catch(() => undefined);
  t.match(third.received[0]?.msg, { type: 'error', code: 'SERVER_BUSY' });
  t.equal(third.closed?.code, 1013, 'closed with 1013 Try Again Later');
  await a.close();
  await b.close();
});

t.test('TLS: wss:// round trip with a self-signed certificate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, USE_SSL: 'true', SSL_CERT_FILE: join(dir, 'cert.pem'), SSL_KEY_FILE: join(dir, 'key.pem') });
  t.teardown(() => server.stop());
  const ca = readFileSync(join(dir, 'cert.pem'));
  const ws = new WebSocket(`wss://127.0.0.1:${server.port}/ws`, { ca, rejectUnauthorized: false });
  const first = await new Promise<string>((resolve, reject) => {
    ws.once('message', (d) => resolve(d.toString()));
    ws.once('error', reject);
  });
  t.match(JSON.parse(first), { type: 'config' });
  ws.close();
  t.match(await tryConnect(server.url()), { code: 1006 }, 'plain ws:// is refused');
});

t.test('graceful shutdown finishes an in-flight turn, closes with 1001, exits 0', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, SHUTDOWN_GRACE_MS: '5000' });
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(1.2));
  client.send({ type: 'text', data: 'long answer' });
  await client.waitType('sync_frame', 10_000);
  agent.onText = null;
  const exited = server.stop('SIGTERM');
  // The server has begun to shut down: it stops accepting right after logging this.
  await new Waiters('shutdown log line').waitFor(() => server.logs.some((l) => l.msg === 'shutting down'), 10_000);
  const late = await tryConnect(server.url());
  t.ok(late !== 'open' && [1001, 1006].includes(late.code), `no new sessions (${JSON.stringify(late)})`);
  await client.waitType('audio_end', 5000);
  const frames = client.received.filter((r) => r.msg.type === 'sync_frame').length;
  t.equal(frames, 36, 'the turn played to its end');
  t.equal(await exited, 0, 'exit code 0');
  await client.waitFor(() => client.closed !== null, 2000).catch(() => undefined);
  t.equal(client.closed?.code, 1001);
});

t.test('DEBUG_AUDIO_CAPTURE writes each session\'s input and agent audio as WAV', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'capture-'));
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, DEBUG_AUDIO_CAPTURE: 'true', DEBUG_AUDIO_CAPTURE_DIR: dir });
  t.teardown(() => server.stop());
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const mic = syntheticSpeech(0.3, { f0: 220 });
  const speech = syntheticSpeech(0.4, { f0: 120 });
  client.send({ type: 'audio_stream_start' });
  client.send({ type: 'audio', data: mic.toString('base64') });
  agent.onText = (up) => void agent.speak(up, speech);
  client.send({ type: 'text', data: 'record me' });
  await client.waitType('audio_end', 10_000);
  agent.onText = null;
  const sessionId = client.received.find((r) => r.msg.type === 'audio_start')!.msg.sessionId as string;
  await client.close();
  // Both files are written (patched sizes included) before this line is logged.
  await new Waiters('capture written').waitFor(() => server.logs.some((l) => l.msg === 'debug audio capture written'), 10_000);
  const read = (name: string) => readFileSync(join(dir, `${sessionId}-${name}.wav`));
  const input = read('input');
  const agentWav = read('agent');
  t.equal(input.toString('ascii', 0, 4), 'RIFF');
  t.equal(input.readUInt32LE(24), 24000, 'input sample rate');
  t.equal(input.readUInt32LE(40), mic.length, 'data size patched');
  t.ok(input.subarray(44).equals(mic), 'input audio as received');
  t.ok(agentWav.subarray(44).equals(speech), 'agent audio as received');
});
