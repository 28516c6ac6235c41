import t from 'tap';
import { FakeOpenAiCompatible } from '../../../test/helpers/fake-openai-compatible.js';
import { parseWav } from '../offline/wav.js';
import { OpenAiCompatibleStt, transcriptionsUrl } from './speech-to-text.js';

const fake = await FakeOpenAiCompatible.start();
t.teardown(() => fake.close());

t.test('multipart WAV upload to /v1/audio/transcriptions', async (t) => {
  t.equal(transcriptionsUrl('http://h/v1/'), 'http://h/v1/audio/transcriptions');
  fake.transcribe = () => ({ text: '  Hello there. ' });
  const stt = new OpenAiCompatibleStt({ url: fake.url, model: 'whisper-1', apiKey: 'k', language: 'en', prompt: 'Museum', timeoutMs: 2000 });
  const pcm = Int16Array.from({ length: 1600 }, (_, i) => Math.round(1000 * Math.sin(i / 5)));
  t.equal(await stt.transcribe(pcm), 'Hello there.');
  const up = fake.transcriptions.at(-1)!;
  t.same(up.fields, { model: 'whisper-1', response_format: 'json', language: 'en', prompt: 'Museum' });
  t.equal(up.filename, 'speech.wav');
  t.equal(up.contentType, 'audio/wav');
  t.equal(up.authorization, 'Bearer k');
  const wav = parseWav(up.file);
  t.equal(wav.sampleRate, 16000);
  t.same(Array.from(wav.samples), Array.from(pcm));
});

t.test('failures name the server and say what happened', async (t) => {
  fake.transcribe = () => ({ status: 500 });
  const stt = new OpenAiCompatibleStt({ url: fake.url, model: 'w', timeoutMs: 300 });
  await t.rejects(stt.transcribe(new Int16Array(16)), { code: 'STT_FAILED', message: /HTTP 500/ });
  fake.transcribe = () => ({ text: 'late', delayMs: 1000 });
  await t.rejects(stt.transcribe(new Int16Array(16)), { code: 'STT_UNAVAILABLE', message: /no answer within 300 ms/ });
  const down = new OpenAiCompatibleStt({ url: 'http://127.0.0.1:9/v1', model: 'w', timeoutMs: 1000 });
  await t.rejects(down.transcribe(new Int16Array(16)), { code: 'STT_UNAVAILABLE', message: /127\.0\.0\.1:9/ });
});
