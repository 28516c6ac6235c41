import t from 'tap';
import pino from 'pino';
import { once } from 'node:events';
import { loadConfig } from '../../config/config.js';
import { createAgentFactory } from '../registry.js';
import type { AgentEvents } from '../agent.js';
import { FliteTts } from '../offline/flite-tts.js';
import { LocalAgent } from './local-agent.js';

// AGENT_TYPE=local through the registry, with no servers configured: the built-in responder
// answers typed text with flite speech; the VAD runs (barge-in) but nothing is transcribed.
// Debug log lines are kept (in order, with the agents' events where a test records both): they
// are the signal that the VAD has got somewhere.
const timeline: string[] = [];
const logger = pino({ level: 'debug' }, { write: (line: string) => void timeline.push(`log:${(JSON.parse(line) as { msg: string }).msg}`) });
const factory = await createAgentFactory(loadConfig({ AGENT_TYPE: 'local' }), logger);
t.teardown(() => factory.close());

/** 16 kHz microphone audio: a second of silence, a spoken sentence, a second of silence. */
async function micSpeech(): Promise<Buffer> {
  const tts16 = new FliteTts({ sampleRate: 16000 });
  try {
    const { pcm } = await tts16.synthesize('Hello there, can you hear me?');
    return Buffer.concat([Buffer.alloc(32000), pcm, Buffer.alloc(32000)]);
  } finally {
    await tts16.close();
  }
}

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
  // Another session's whole reply through the same (one-thread, first-come first-served) TTS
  // pool: by its end, the cancelled response's pending synthesis is done and it had every turn
  // of the event loop it needed to emit more.
  const other = factory.create();
  await other.connect();
  other.sendText('hello');
  await once(other, 'responseEnd');
  await other.disconnect();
  t.equal(events.length, n, 'nothing after the cancel');
  t.notOk(events.includes('responseEnd'));

  // A second of silence, then speech: the VAD runs in order, so once the speech is over the
  // silence was long judged; the error comes with the end of the speech and not before.
  const speech = await micSpeech();
  const agentEvents = (name: string) => () => timeline.push(`event:${name}`);
  agent.on('error', agentEvents('error'));
  const from = timeline.length;
  agent.appendAudio(Buffer.alloc(16000 * 2)); // no speech, no error
  agent.commitAudio();
  agent.appendAudio(speech);
  agent.commitAudio();
  const [err] = (await once(agent, 'error')) as AgentEvents['error'];
  t.match(err, { code: 'STT_NOT_CONFIGURED', fatal: false });
  const seen = timeline.slice(from).filter((l) => l === 'event:error' || l === 'log:local agent: speech started' || l === 'log:local agent: speech ended');
  t.same(seen, ['log:local agent: speech started', 'log:local agent: speech ended', 'event:error'], 'one error, when the speech ended');
  await agent.disconnect();
});
