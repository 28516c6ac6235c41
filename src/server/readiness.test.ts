import t from 'tap';
import { Readiness, readFleetSettings } from './readiness.js';
import { ConfigError } from '../config/config-error.js';
import type { InferencePool } from '../inference/pool.js';

/** A pool as far as readiness reads it: cumulative task time and its size. */
function pool(): { inferMsTotal: number; size: number } {
  return { inferMsTotal: 0, size: 2 };
}

function readiness(env: Record<string, string>, p = pool(), sessions = { n: 0 }): Readiness {
  return new Readiness({ config: { env, host: '127.0.0.1', maxSessions: 3 }, pool: p as unknown as InferencePool, openSessions: () => sessions.n });
}

t.test('ready, at capacity, draining: in that order of precedence', async (t) => {
  const sessions = { n: 0 };
  const r = readiness({}, pool(), sessions);
  t.teardown(() => r.close());
  t.match(r.ready(), { status: 200, body: { status: 'ready', sessions: 0, maxSessions: 3 } });
  sessions.n = 3;
  t.match(r.ready(), { status: 503, body: { status: 'at_capacity' } }, 'MAX_SESSIONS reached');
  sessions.n = 2;
  t.equal(r.ready().status, 200, 'room again');
  r.drain();
  t.match(r.ready(), { status: 503, body: { status: 'draining' } });
  sessions.n = 0;
  t.equal(r.state().status, 'draining', 'for good');
});

t.test('READY_MAX_UTILISATION: 503 while the pool is that busy; off by default', async (t) => {
  const p = pool();
  const limited = readiness({ READY_MAX_UTILISATION: '0.8' }, p);
  const unlimited = readiness({}, p);
  t.teardown(() => {
    limited.close();
    unlimited.close();
  });
  t.equal(limited.ready().status, 200, 'idle pool');
  // Both workers busy for far longer than the time since the first sample.
  p.inferMsTotal += 1e6;
  t.ok(limited.state().utilisation >= 1, `busy fraction ${limited.state().utilisation}`);
  t.match(limited.ready(), { status: 503, body: { status: 'busy' } });
  t.equal(unlimited.ready().status, 200, 'no threshold: utilisation alone never makes it unready');
});

t.test('settings: PROBE_PORT off unless set, PROBE_HOST defaults to SERVER_HOST, values checked', async (t) => {
  t.same(readFleetSettings({ env: {}, host: '0.0.0.0' }), { probePort: null, probeHost: '0.0.0.0', readyMaxUtilisation: null });
  t.same(readFleetSettings({ env: { PROBE_PORT: '0', PROBE_HOST: '127.0.0.1', READY_MAX_UTILISATION: '0.9' }, host: '0.0.0.0' }), { probePort: 0, probeHost: '127.0.0.1', readyMaxUtilisation: 0.9 });
  t.throws(() => readFleetSettings({ env: { PROBE_PORT: '70000' }, host: '' }), ConfigError);
  t.throws(() => readFleetSettings({ env: { READY_MAX_UTILISATION: '1.5' }, host: '' }), ConfigError);
});
