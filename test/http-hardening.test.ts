import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { RawConnection, rawHttp } from './helpers/raw-socket.js';
import { FakeRemoteAgent } from './helpers/fake-remote-agent.js';

/** Issue 13 item 10, the HTTP parts: HEAD, CORS on refusals, conflicting Content-Length. */
const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, AUTH_ENABLED: 'true', AUTH_SECRET_KEY: 'http-hardening-test-key', AUTH_ALLOWED_ORIGINS: 'https://shop.example' });
t.teardown(async () => {
  await server.stop();
  await agent.close();
});
const base = `http://127.0.0.1:${server.port}`;

function parse(text: string): { status: number; headers: Map<string, string>; body: string } {
  const [head, ...rest] = text.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

t.test('HEAD answers like GET, without a body, on every GET route', async (t) => {
  for (const path of ['/health', '/inf', '/stats', '/metrics', '/openapi.json', '/docs', '/', '/nope']) {
    const get = await fetch(base + path);
    const getBody = Buffer.from(await get.arrayBuffer());
    // Raw, then a GET /inf on the same connection: a body after the HEAD headers would show up
    // before the second status line (fetch would silently discard it).
    const c = new RawConnection(server.port);
    await c.send(`HEAD ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await c.waitFor((s) => s.includes('\r\n\r\n'));
    await c.send('GET /inf HTTP/1.1\r\nHost: x\r\n\r\n');
    await c.waitFor((s) => /running"\}$/.test(s));
    c.end();
    const head = parse(c.text);
    t.equal(head.status, get.status, `${path}: same status (${get.status})`);
    t.equal(head.headers.get('content-type'), get.headers.get('content-type') ?? undefined, `${path}: same content type`);
    t.match(head.body, /^HTTP\/1\.1 200 OK\r\n/, `${path}: no body, the next response follows the headers`);
    // Bodies that change between requests (/stats, /metrics, /health) differ in length slightly.
    if (!['/stats', '/metrics', '/health'].includes(path)) t.equal(Number(head.headers.get('content-length')), getBody.length, `${path}: the GET body's length`);
  }
});

t.test('POST /api/auth/token: CORS headers only for allowed origins', async (t) => {
  const refused = await fetch(`${base}/api/auth/token`, { method: 'POST', headers: { origin: 'https://evil.example' } });
  t.equal(refused.status, 403);
  t.equal(refused.headers.get('access-control-allow-origin'), null, 'a refused origin is not echoed');
  const pre = await fetch(`${base}/api/auth/token`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
  t.equal(pre.headers.get('access-control-allow-origin'), null, 'nor in the preflight');
  const ok = await fetch(`${base}/api/auth/token`, { method: 'POST', headers: { origin: 'https://shop.example' } });
  t.equal(ok.status, 200);
  t.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.example');
});

t.test('two conflicting Content-Length headers: 400 and the connection is closed', async (t) => {
  const request = 'POST /api/auth/token HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabc';
  const { text, closedByServer } = await rawHttp(server.port, request);
  const res = parse(text);
  t.equal(res.status, 400);
  t.match(res.body, /conflicting Content-Length/);
  t.ok(closedByServer, 'connection closed: the rest of the stream cannot be framed safely');
  const same = await rawHttp(server.port, 'POST /api/auth/token HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n', (s) => s.includes('"token"'));
  t.equal(parse(same.text).status, 200, 'repeated equal values are one length (RFC 9110 §8.6)');
  const get = await rawHttp(server.port, 'GET /inf HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab');
  t.equal(parse(get.text).status, 400, 'on GET routes too');
  // uWS frames the refused request by its first length and would go on to the next one.
  const pipelined = await rawHttp(server.port, 'POST /api/auth/token HTTP/1.1\r\nHost: x\r\nOrigin: https://shop.example\r\nContent-Length: 3\r\nContent-Length: 30\r\n\r\nabcGET /inf HTTP/1.1\r\nHost: x\r\n\r\n');
  t.notMatch(pipelined.text, /running/, 'a request pipelined behind it is not served');
  t.equal(pipelined.text.match(/HTTP\/1\.1 \d{3} /g)?.length, 2, 'it gets a 400 too');
  t.match(pipelined.text.split('HTTP/1.1 ')[2], /^400 [^]*pipelined behind a refused one/, 'saying why');
  t.ok(pipelined.closedByServer, 'and the connection is closed');
  const next = await rawHttp(server.port, 'GET /inf HTTP/1.1\r\nHost: x\r\n\r\n', (s) => s.includes('running'));
  t.equal(parse(next.text).status, 200, 'a new connection from the same address is served');
});
