import t from 'tap';
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { Session } from './session.js';
import type { Agent, AgentEvents } from '../agents/agent.js';
import { ServerMetrics } from '../metrics/server-metrics.js';
import type { InferencePool } from '../inference/pool.js';
import type { Pacer } from '../pacing/pacer.js';

/**
 * The last-resort guard at the session/agent boundary, with an in-process agent that breaks its
 * contract the way a buggy provider module would (events with the wrong payload, methods that
 * throw). No window is ever produced here, so the pool and pacer are inert stand-ins; the
 * end-to-end behaviour with real agents, pool and sockets is covered in test/agent-*.test.ts.
 */
class BrokenAgent extends EventEmitter<AgentEvents> implements Agent {
  readonly inputSampleRate = 24_000;
  readonly outputSampleRate = 24_000;
  async connect(): Promise<void> {}
  sendText(): void {
    throw new TypeError('Cannot convert object to primitive value');
  }
  appendAudio(): void {}
  commitAudio(): void {
    throw new Error('commit failed');
  }
  cancelResponse(): void {}
  async disconnect(): Promise<void> {}
}

function harness() {
  const sent: Array<Record<string, unknown>> = [];
  const agent = new BrokenAgent();
  const inert = new Proxy({}, { get: () => () => Promise.resolve() });
  const session = new Session({
    key: 1, agent, logger: pino({ level: 'silent' }), metrics: new ServerMetrics(),
    pool: inert as InferencePool, pacer: inert as Pacer,
    transport: { sendText: (json) => sent.push(JSON.parse(json) as Record<string, unknown>), sendFrame: () => undefined, close: () => undefined },
    firstWindowSamples: 4800, windowSamples: 12_000, contextSamples: 12_000, maxMessageBytes: 1 << 20,
  });
  t.teardown(() => session.close());
  const text = (msg: unknown) => new TextEncoder().encode(JSON.stringify(msg)).buffer as ArrayBuffer;
  return { sent, agent, session, text };
}

t.test('a listener that throws on a malformed agent event: AGENT_ERROR for this session, nothing thrown at the agent', async (t) => {
  const { sent, agent } = harness();
  agent.emit('responseStart', { responseId: 'r1' });
  t.doesNotThrow(() => agent.emit('audio', 42 as unknown as Buffer), 'the agent is not hit by the session\'s failure');
  t.match(sent.at(-1), { type: 'error', code: 'AGENT_ERROR' });
  t.equal(sent.filter((m) => m.type === 'error').length, 1, 'one coded error per fault');
  t.doesNotThrow(() => agent.emit('transcriptDelta', null as never));
  t.doesNotThrow(() => agent.emit('toolCall', undefined as never));
  t.doesNotThrow(() => agent.emit('responseEnd', { responseId: 'r1', transcript: '' }), 'the session goes on');
});

t.test('agent methods that throw: AGENT_ERROR, the session keeps answering', async (t) => {
  const { sent, session, text } = harness();
  t.doesNotThrow(() => session.onMessage(text({ type: 'text', data: 'hi' }), false));
  t.match(sent.at(-1), { type: 'error', code: 'AGENT_ERROR' });
  t.doesNotThrow(() => session.onMessage(text({ type: 'audio_stream_end' }), false));
  t.match(sent.at(-1), { type: 'error', code: 'AGENT_ERROR' });
  session.onMessage(text({ type: 'ping' }), false);
  t.match(sent.at(-1), { type: 'pong' });
});
