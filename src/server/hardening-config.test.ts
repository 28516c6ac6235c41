import t from 'tap';
import { ConfigError, MAX_BUFFERED_BYTES_CAP, loadConfig } from '../config/config.js';

/** The server-hardening settings (issue 13 items 5 and 10) are validated at start. */
t.test('TRUSTED_PROXIES: IPv4/IPv6 addresses and CIDRs, each checked', async (t) => {
  t.same(loadConfig({}).trustedProxies, [], 'none by default: X-Forwarded-For is ignored');
  t.same(loadConfig({ TRUSTED_PROXIES: ' 10.0.0.0/8, 127.0.0.1 ,::1, fd00::/8 ' }).trustedProxies, ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  for (const bad of ['10.0.0.0/33', '10.0.0.0/', 'proxy.local', '::1/129', '1.2.3.4/8/1', '10.0.0.0/x', '256.0.0.1']) {
    t.throws(() => loadConfig({ TRUSTED_PROXIES: bad }), ConfigError, bad);
  }
});

t.test('per-address connection bucket settings', async (t) => {
  const c = loadConfig({ RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '5', RATE_LIMIT_ADDRESS_CONNECTIONS_PER_S: '0.5' });
  t.equal(c.rateLimit.addressConnectionsBurst, 5);
  t.equal(c.rateLimit.addressConnectionsPerS, 0.5);
  t.throws(() => loadConfig({ RATE_LIMIT_ADDRESS_CONNECTIONS_BURST: '0' }), ConfigError);
});

t.test('MAX_BUFFERED_BYTES is capped (uWS maxBackpressure is derived from it)', async (t) => {
  t.equal(loadConfig({ MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES_CAP) }).maxBufferedBytes, MAX_BUFFERED_BYTES_CAP);
  t.throws(() => loadConfig({ MAX_BUFFERED_BYTES: String(1 << 30) }), /MAX_BUFFERED_BYTES/, '1 GiB is refused');
});
