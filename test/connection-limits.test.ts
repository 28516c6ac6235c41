import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { RecordingWs } from './helpers/raw-socket.js';
import { FakeRemoteAgent } from './helpers/fake-remote-agent.js';

/**
 * Issue 13 item 5: connection attempts are limited per client address as well as per origin, on
 * all three dialects; X-Forwarded-For counts only from TRUSTED_PROXIES.
 */
const agent = await FakeRemoteAgent.start();
t.teardown(() => agent.close());

/** Attempt one connection; 'open' once the dialect answered, else how it was refused. */
async function attempt(url: string, headers: Record<string, string>): Promise<'open' | { code: number; reason: string }> {
  const c = new RecordingWs(url, headers);
  // MuseTalk says nothing until spoken to: an unknown type gets ERROR INVALID_MESSAGE.
  if (url.includes('/musetalk/')) c.opened.then(() => c.ws.send(JSON.stringify({ type: 'HELLO', data: {} })), () => undefined);
  const first = await c.firstMessageOrClose();
  if (first && first.type !== 'error') {
    c.ws.close();
    await c.closed;
    return 'open';
  }
  const { code, reason } = await c.closed;
  return { code, reason };
}

t.test('rotating Origins from one address are limited on every dialect', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '4', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.01' });
  t.teardown(() => server.stop());
  const paths = ['/ws', '/', '/musetalk/v1/ws/user1', '/ws'];
  for (const [i, path] of paths.entries()) {
    t.equal(await attempt(server.url(path), { origin: `https://site${i}.example` }), 'open', `attempt ${i + 1} (${path}) admitted`);
  }
  for (const [i, path] of ['/ws', '/', '/musetalk/v1/ws/user1'].entries()) {
    t.match(await attempt(server.url(path), { origin: `https://fresh${i}.example` }), { code: 1008, reason: 'too many connection attempts' }, `${path}: a new Origin does not reset the address's bucket`);
  }
  t.ok(server.logs.some((l) => l.msg === 'connection attempts over the per-address limit' && l.address === '127.0.0.1'), 'logged with the address');
});

t.test('with TRUSTED_PROXIES, X-Forwarded-For addresses are counted separately', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, TRUSTED_PROXIES: '127.0.0.1, ::1', RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '2', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.01' });
  t.teardown(() => server.stop());
  const via = (client: string) => ({ origin: 'https://shop.example', 'x-forwarded-for': `198.51.100.77, ${client}` });
  t.equal(await attempt(server.url('/ws'), via('203.0.113.1')), 'open');
  t.equal(await attempt(server.url('/'), via('203.0.113.1')), 'open');
  t.match(await attempt(server.url('/ws'), via('203.0.113.1')), { code: 1008 }, 'the third from 203.0.113.1 is refused');
  t.equal(await attempt(server.url('/ws'), via('203.0.113.2')), 'open', 'another client behind the proxy has its own bucket');
  t.equal(await attempt(server.url('/ws'), via('2001:db8:1:2::5')), 'open', 'IPv6 client');
  t.equal(await attempt(server.url('/ws'), via('2001:db8:1:2::6')), 'open');
  t.match(await attempt(server.url('/ws'), via('2001:db8:1:2:ffff::7')), { code: 1008 }, 'IPv6 clients share a bucket per /64');
});

t.test('without TRUSTED_PROXIES, X-Forwarded-For is ignored', async (t) => {
  const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '2', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.01' });
  t.teardown(() => server.stop());
  const spoof = (client: string) => ({ origin: 'https://shop.example', 'x-forwarded-for': client });
  t.equal(await attempt(server.url('/ws'), spoof('203.0.113.1')), 'open');
  t.equal(await attempt(server.url('/ws'), spoof('203.0.113.2')), 'open');
  t.match(await attempt(server.url('/ws'), spoof('203.0.113.3')), { code: 1008, reason: 'too many connection attempts' }, 'a forged header buys no new bucket');
});

t.test('TRUSTED_PROXIES is validated at start', async (t) => {
  for (const bad of ['10.0.0.0/33', 'proxy.local', '::1/129', '1.2.3.4/8/1']) {
    const err = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, TRUSTED_PROXIES: `127.0.0.1,${bad}` }).then(
      async (s) => {
        await s.stop();
        return null;
      },
      (e: Error) => e,
    );
    t.match(err?.message, new RegExp(`exited with 78[\\s\\S]*TRUSTED_PROXIES: "${bad.replace(/[./]/g, '\\$&')}"`), `"${bad}" refused`);
  }
});
