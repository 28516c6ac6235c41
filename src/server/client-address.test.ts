import t from 'tap';
import { ClientAddressResolver, normalizeAddress, rateLimitKey } from './client-address.js';

t.test('X-Forwarded-For is read only from trusted proxies', async (t) => {
  const none = new ClientAddressResolver([]);
  t.equal(none.resolve('127.0.0.1', '203.0.113.9'), '127.0.0.1', 'no TRUSTED_PROXIES: header ignored');
  const r = new ClientAddressResolver(['127.0.0.1', '10.0.0.0/8', 'fd00::/8']);
  t.equal(r.resolve('127.0.0.1', '203.0.113.9'), '203.0.113.9');
  t.equal(r.resolve('198.51.100.1', '203.0.113.9'), '198.51.100.1', 'untrusted peer: header ignored');
  t.equal(r.resolve('127.0.0.1', '1.1.1.1, 203.0.113.9, 10.1.2.3'), '203.0.113.9', 'rightmost untrusted hop; a spoofed left part is ignored');
  t.equal(r.resolve('127.0.0.1', '10.0.0.1, 10.0.0.2'), '10.0.0.1', 'all hops trusted: the leftmost');
  t.equal(r.resolve('127.0.0.1', 'garbage, 203.0.113.9'), '203.0.113.9');
  t.equal(r.resolve('127.0.0.1', '203.0.113.9, not-an-ip'), '127.0.0.1', 'a malformed last hop: the peer itself');
  t.equal(r.resolve('fd00::1', '2001:db8::7'), '2001:db8::7', 'IPv6 proxy and client');
  t.equal(r.resolve('0000:0000:0000:0000:0000:ffff:7f00:0001', '203.0.113.9'), '203.0.113.9', 'uWS\'s v4-mapped spelling of 127.0.0.1');
});

t.test('addresses have one spelling; IPv6 is limited per /64', async (t) => {
  t.equal(normalizeAddress('0000:0000:0000:0000:0000:0000:0000:0001'), '::1');
  t.equal(normalizeAddress('::ffff:192.0.2.1'), '192.0.2.1');
  t.equal(normalizeAddress('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  t.equal(rateLimitKey('2001:db8:1:2:aaaa::1'), rateLimitKey('2001:db8:1:2:bbbb::2'), 'same /64, same bucket');
  t.not(rateLimitKey('2001:db8:1:2::1'), rateLimitKey('2001:db8:1:3::1'));
  t.equal(rateLimitKey('192.0.2.1'), '192.0.2.1');
});
