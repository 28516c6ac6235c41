import t, { type Test } from 'tap';
import { parseWav } from '../src/audio/wav.js';
import { PolyphaseResampler } from '../src/audio/resampler.js';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient, frameAudio, syncFrames } from './helpers/widget-client.js';

// AGENT_TYPE=local speaking through an OpenAI-compatible speech server (TTS_*): the real server,
// the fake serving chat completions and /v1/audio/speech (22 050 Hz WAV, as Piper through speaches).

/** What the pipeline should make of one served WAV: its samples at 24 kHz, by the same filter. */
function at24k(wav: Buffer): Buffer {
  const { samples, sampleRate } = parseWav(wav);
  const filter = new PolyphaseResampler(sampleRate, 24_000);
  const out = new Float32Array(filter.outputLength(samples.length));
  const n = filter.process(Float32Array.from(samples), samples.length, out);
  const pcm = Int16Array.from(out.subarray(0, n), (v) => Math.max(-32768, Math.min(32767, Math.round(v))));
  return Buffer.from(pcm.buffer);
}

const fake = await FakeOpenAiCompatible.start();
fake.chat = () => ({ deltas: ['The museum ', 'opens at nine.', ' It closes at six.'] });
fake.speak = () => ({ sampleRate: 22_050, msPerChar: 40 });
const server = await startServer({
  AGENT_TYPE: 'local',
  LOCAL_LLM_URL: fake.url,
  LOCAL_LLM_MODEL: 'fake-llm',
  TTS_BASE_URL: fake.url,
  TTS_MODEL: 'speaches-ai/Kokoro-82M-v1.0-ONNX',
  TTS_VOICE_NAME: 'af_heart',
  TTS_API_KEY: 'tts-key-7a7a7a7a7a',
});
t.teardown(async () => {
  await server.stop();
  await fake.close();
});

/** A new client asks the usual question; resolves when the answer's transcript is done. */
async function askTyped(t: Test): Promise<{ client: WidgetClient; before: number; end: number }> {
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');
  const before = fake.speechRequests.length;
  client.send({ type: 'text', data: 'When do you open?' });
  const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 30_000);
  return { client, before, end };
}

t.test('a typed turn is spoken by the speech server, resampled to 24 kHz', async (t) => {
  t.ok(server.logs.some((l) => l.msg === 'speech server ready'), 'the server answered the warm-up');
  const { client, before, end } = await askTyped(t);
  t.equal(client.received[end]!.msg.text, 'The museum opens at nine. It closes at six.');
  const requests = fake.speechRequests.slice(before);
  t.same(requests.map((r) => r.body.input), ['The museum opens at nine.', 'It closes at six.'], 'one request per sentence');
  t.match(requests[0], { body: { model: 'speaches-ai/Kokoro-82M-v1.0-ONNX', voice: 'af_heart', response_format: 'wav' }, authorization: 'Bearer tts-key-7a7a7a7a7a' });
  const expected = Buffer.concat(requests.map((r) => at24k(r.wav!)));
  const heard = frameAudio(syncFrames(client, 0, end));
  t.ok(heard.length >= expected.length && heard.length - expected.length < 1600, `whole frames of the served speech (${heard.length} / ${expected.length} bytes)`);
  t.ok(heard.subarray(0, expected.length).equals(expected), 'the client plays exactly the served audio, resampled');
  t.ok(heard.subarray(expected.length).every((b) => b === 0), 'then silence to the end of the last frame');
  t.notOk(client.received.some((r) => r.msg.type === 'error'), 'no error');
  t.notMatch(server.output(), 'tts-key-7a7a7a7a7a', 'the key is never logged');
});

t.test('the speech server fails: flite speaks the same text, the client and the log are told once', async (t) => {
  fake.speak = () => ({ status: 500 });
  const { client, before, end } = await askTyped(t);
  t.equal(client.received[end]!.msg.text, 'The museum opens at nine. It closes at six.', 'the text reaches the client');
  t.ok(fake.speechRequests.length > before, 'the server was asked');
  t.ok(syncFrames(client, 0, end).length > 30, 'and flite spoke instead');
  const told = client.received.filter((r) => r.msg.type === 'error');
  t.equal(told.length, 1, 'one error for the client');
  t.match(told[0]!.msg, { code: 'TTS_FALLBACK', message: /HTTP 500/ });
  t.equal(server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('speech server failed')).length, 1, 'one log line for the outage');
});
