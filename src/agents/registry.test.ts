import t from 'tap';
import pino from 'pino';
import { FliteTts } from './offline/flite-tts.js';
import { OfflineAgent } from './offline/offline-agent.js';
import { KNOWN_AGENT_TYPES, createAgent, isKnownAgentType, type AgentDeps } from './registry.js';

const tts = new FliteTts();
t.teardown(() => tts.close());
const deps: AgentDeps = { instructions: '', knowledgeBase: '', logger: pino({ level: 'silent' }), tts };

t.test('offline is known and builds an OfflineAgent per call', async (t) => {
  t.ok(KNOWN_AGENT_TYPES.includes('offline'));
  t.ok(isKnownAgentType('offline'));
  const a = createAgent('offline', deps);
  const b = createAgent('offline', deps);
  t.ok(a instanceof OfflineAgent);
  t.not(a, b, 'one agent per session');
});

t.test('unknown types fail clearly', async (t) => {
  t.notOk(isKnownAgentType('toString'), 'no prototype keys');
  t.throws(() => createAgent('local', deps), { message: 'unknown agent type "local" (AGENT_TYPE); known types: offline' });
  t.throws(() => createAgent('constructor', deps), /unknown agent type/);
});
