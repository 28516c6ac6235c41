import t from 'tap';
import { TokenAuthority } from './auth.js';

const auth = new TokenAuthority({ secret: 's3cret', ttlS: 60, allowedOrigins: ['https://shop.example'] });
const now = 1_800_000_000;

t.test('issue and verify', async (t) => {
  const { token, ttl, origin } = auth.issue('https://shop.example', now);
  t.equal(ttl, 60);
  t.equal(origin, 'https://shop.example');
  const [ts, sig] = Buffer.from(token, 'base64').toString().split(':');
  t.equal(Number(ts), now);
  t.match(sig, /^[0-9a-f]{64}$/);
  t.equal(auth.verify(token, 'https://shop.example', now + 59), null);
});

t.test('the token format is the reference HMAC', async (t) => {
  const { createHmac } = await import('node:crypto');
  const sig = createHmac('sha256', 's3cret').update(`${now}:https://shop.example`).digest('hex');
  t.equal(auth.issue('https://shop.example', now).token, Buffer.from(`${now}:${sig}`).toString('base64'));
});

t.test('failures', async (t) => {
  const { token } = auth.issue('https://shop.example', now);
  t.equal(auth.verify(token, 'https://shop.example', now + 61), 'token expired');
  t.equal(auth.verify(token, 'https://shop.example', now - 120), 'token expired', 'from the future');
  t.equal(auth.verify(token, 'https://evil.example', now), 'origin not allowed');
  t.equal(auth.verify(auth.issue('http://localhost:3000', now).token, 'https://shop.example', now), 'invalid signature', 'bound to its origin');
  const [ts, sig] = Buffer.from(token, 'base64').toString().split(':');
  const tampered = Buffer.from(`${ts}:${sig!.slice(0, -1)}${sig!.endsWith('0') ? '1' : '0'}`).toString('base64');
  t.equal(auth.verify(tampered, 'https://shop.example', now), 'invalid signature');
  const otherKey = new TokenAuthority({ secret: 'other', ttlS: 60, allowedOrigins: ['https://shop.example'] });
  t.equal(otherKey.verify(token, 'https://shop.example', now), 'invalid signature');
  t.equal(auth.verify(null, 'https://shop.example', now), 'missing token');
  t.equal(auth.verify('garbage!!', 'https://shop.example', now), 'malformed token');
  t.equal(auth.verify(Buffer.from('12:zz').toString('base64'), 'https://shop.example', now), 'malformed token');
  t.equal(auth.verify('A'.repeat(5000), 'https://shop.example', now), 'malformed token');
});

t.test('development origins are always allowed', async (t) => {
  t.ok(auth.isOriginAllowed('http://localhost:5173'));
  t.ok(auth.isOriginAllowed('http://127.0.0.1:8080'));
  t.notOk(auth.isOriginAllowed('http://localhost.evil.com'));
  t.notOk(auth.isOriginAllowed('https://localhost:5173'));
});

t.test('only the canonical base64 of a token is accepted', async (t) => {
  // Token bytes are digits, ':' and hex, so '+' and '/' never occur; an 11-digit timestamp makes
  // 76 bytes, whose base64 ends in '==' that base64url leaves out.
  const ts = 10_000_000_000;
  const token = auth.issue('https://shop.example', ts).token;
  t.ok(token.endsWith('=='), 'padded');
  t.equal(auth.verify(token, 'https://shop.example', ts), null, 'as issued');
  const url = Buffer.from(token, 'base64').toString('base64url');
  t.not(url, token);
  t.equal(auth.verify(url, 'https://shop.example', ts), 'malformed token', 'base64url (unpadded)');
  t.equal(auth.verify(`${token}junk`, 'https://shop.example', ts), 'malformed token', 'trailing junk');
  t.equal(auth.verify(`${token}!!`, 'https://shop.example', ts), 'malformed token', 'trailing non-alphabet junk');
  t.equal(auth.verify(`${token}==`, 'https://shop.example', ts), 'malformed token', 'extra padding');
  t.equal(auth.verify(`${token.slice(0, 8)}\n${token.slice(8)}`, 'https://shop.example', ts), 'malformed token', 'embedded newline');
  t.equal(auth.verify(`${token.slice(0, 8)} ${token.slice(8)}`, 'https://shop.example', ts), 'malformed token', 'embedded space');
});
