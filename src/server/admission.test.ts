import t from 'tap';
import pino from 'pino';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { loadConfig } from '../config/config.js';
import { Admission } from './admission.js';

/** An upgrade request from `address` with these headers (what `check` reads of uWS's objects). */
function attempt(address: string, headers: Record<string, string> = {}, query = ''): [HttpResponse, HttpRequest] {
  const res = { getRemoteAddressAsText: () => new TextEncoder().encode(address).buffer } as unknown as HttpResponse;
  const req = { getHeader: (name: string) => headers[name] ?? '', getQuery: () => query } as unknown as HttpRequest;
  return [res, req];
}

t.test('one session count for every dialect: the callback decides, MAX_SESSIONS is the limit', async (t) => {
  let open = 0;
  const a = new Admission(loadConfig({ MAX_SESSIONS: '2' }), pino({ level: 'silent' }), () => open);
  t.teardown(() => a.close());
  t.equal(a.check(...attempt('10.0.0.1')), null, 'admitted with 0 open');
  open = 2; // e.g. one widget and one frame-stream session
  t.same(a.check(...attempt('10.0.0.1')), { code: 1013, reason: 'server at capacity, try again later', errorCode: 'SERVER_BUSY' });
  open = 1;
  t.equal(a.check(...attempt('10.0.0.1')), null, 'a slot freed');
  a.stopAccepting();
  t.same(a.check(...attempt('10.0.0.1')), { code: 1001, reason: 'server shutting down' });
});

t.test('connection attempts per address, then auth, before the count', async (t) => {
  const a = new Admission(loadConfig({ RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '2', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.01', AUTH_ENABLED: 'true', AUTH_SECRET_KEY: 'k'.repeat(32), AUTH_ALLOWED_ORIGINS: 'https://shop.example' }), pino({ level: 'silent' }), () => 0);
  t.teardown(() => a.close());
  const origin = { origin: 'https://shop.example' };
  const token = encodeURIComponent(a.auth!.issue('https://shop.example').token);
  t.equal(a.check(...attempt('10.0.0.2', origin, `token=${token}`)), null, 'a good token');
  t.match(a.check(...attempt('10.0.0.2', origin)), { code: 1008, reason: 'missing token' });
  t.match(a.check(...attempt('10.0.0.2', { origin: 'https://other.example' }, `token=${token}`)), { code: 1008, errorCode: 'RATE_LIMITED' }, 'the address is over its limit whatever the origin');
  t.equal(a.check(...attempt('10.0.0.3', origin, `token=${token}`)), null, 'another address has its own bucket');
});

t.test('every session gets the configured message bucket', async (t) => {
  const a = new Admission(loadConfig({ RATE_LIMIT_MESSAGES_BURST: '3', RATE_LIMIT_MESSAGES_PER_S: '0.01' }), pino({ level: 'silent' }), () => 0);
  t.teardown(() => a.close());
  const b = a.messageBucket();
  t.ok(b.take() && b.take() && b.take(), 'the burst');
  t.notOk(b.take(), 'then refused');
  t.ok(a.messageBucket().take(), 'a new session has its own');
});
