import t from 'tap';
import pino from 'pino';
import { once } from 'node:events';
import { loadConfig } from '../../config/config.js';
import { createAgentFactory } from '../registry.js';
import type { AgentEvents } from '../agent.js';
import { LocalAgent } from './local-agent.js';

// AGENT_TYPE=local through the registry, with no servers configured: the built-in responder
// answers typed text with flite speech; the VAD runs (barge-in) but nothing is transcribed.
const factory = await createAgentFactory(loadConfig({ AGENT_TYPE: 'local' }), pino({ level: 'silent' }));
t.teardown(() => factory.close());

t.test('registered, 16 kHz in, the TTS rate out', async (t) => {
  const agent = factory.create();
  t.ok(agent instanceof LocalAgent);
  t.equal(agent.inputSampleRate, 16000);
  t.equal(agent.outputSampleRate, 24000);
  await agent.connect();
  await agent.disconnect();
  await agent.disconnect();
  await t.rejects(agent.connect(), /disconnected/);
});

t.test('without LOCAL_LLM_URL the built-in responder answers', async (t) => {
  const agent = factory.create();
  await agent.connect();
  const words: string[] = [];
  let audioBytes = 0;
  agent.on('transcriptDelta', (d) => words.push(d.text));
  agent.on('audio', (pcm) => (audioBytes += pcm.length));
  agent.sendText('hello');
  const [start] = (await once(agent, 'responseStart')) as AgentEvents['responseStart'];
  const [end] = (await once(agent, 'responseEnd')) as AgentEvents['responseEnd'];
  t.equal(end.responseId, start.responseId);
  t.match(end.transcript, /hello/i);
  t.equal(words.join('').trim(), end.transcript, 'fragments concatenated are the reply (AssistantTextDelta)');
  t.ok(audioBytes > 24000, `speech: ${Math.round(audioBytes / 48)} ms`);
  await agent.disconnect();
});

t.test('cancel stops a response at once; no error event without STT until speech ends', async (t) => {
  const agent = factory.create();
  await agent.connect();
  const events: string[] = [];
  for (const e of ['responseStart', 'audio', 'responseEnd', 'error'] as const) agent.on(e, () => events.push(e));
  agent.sendText('Tell me a long story about everything you know, with many details.');
  await once(agent, 'audio');
  agent.cancelResponse(0);
  const n = events.length;
  await new Promise((r) => setTimeout(r, 300));
  t.equal(events.length, n, 'nothing after the cancel');
  t.notOk(events.includes('responseEnd'));
  agent.appendAudio(Buffer.alloc(16000 * 2)); // a second of silence: no speech, no error
  agent.commitAudio();
  await new Promise((r) => setTimeout(r, 300));
  t.notOk(events.includes('error'));
  await agent.disconnect();
});
