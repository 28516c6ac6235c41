import t from 'tap';
import pino from 'pino';
import { ConfigError, loadConfig } from '../config/config.js';
import { OfflineAgent } from './offline/offline-agent.js';
import { RemoteAgent } from './remote/remote-agent.js';
import { KNOWN_AGENT_TYPES, createAgentFactory, isKnownAgentType } from './registry.js';

const logger = pino({ level: 'silent' });

t.test('offline: one shared preparation, one agent per session', async (t) => {
  const factory = await createAgentFactory(loadConfig({ AGENT_TYPE: 'offline' }), logger);
  t.teardown(() => factory.close());
  const a = factory.create();
  const b = factory.create();
  t.ok(a instanceof OfflineAgent);
  t.not(a, b, 'one agent per session');
});

t.test('remote needs AGENT_URL', async (t) => {
  await t.rejects(createAgentFactory(loadConfig({ AGENT_TYPE: 'remote' }), logger), new ConfigError('AGENT_URL', 'AGENT_TYPE=remote needs AGENT_URL=ws://… or wss://…'));
  const f = await createAgentFactory(loadConfig({ AGENT_TYPE: 'remote', AGENT_URL: 'ws://127.0.0.1:9' }), logger);
  t.ok(f.create() instanceof RemoteAgent);
});

t.test('unknown types fail clearly, naming the variable and the known types', async (t) => {
  t.ok(KNOWN_AGENT_TYPES.includes('offline') && KNOWN_AGENT_TYPES.includes('remote'));
  t.notOk(isKnownAgentType('toString'), 'no prototype keys');
  await t.rejects(createAgentFactory(loadConfig({ AGENT_TYPE: 'nope' }), logger), { variable: 'AGENT_TYPE', message: /unknown agent type "nope"; known types: offline, remote/ });
  await t.rejects(createAgentFactory(loadConfig({ AGENT_TYPE: 'offline', TTS_VOICE: 'robot' }), logger), { variable: 'TTS_VOICE', message: /unknown flite voice/ });
});
