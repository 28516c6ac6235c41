import t from 'tap';
import pino from 'pino';
import { FakeOpenAiCompatible } from '../../../test/helpers/fake-openai-compatible.js';
import type { SpeechAudio, TextToSpeech } from '../offline/flite-tts.js';
import { SharedVoice } from './fallback-tts.js';
import { HttpTts } from './http-tts.js';
import { readSpeechServerSettings, readVoiceSettings } from './settings.js';
import { OpenAiCompatibleStt } from './speech-to-text.js';
import { UpstreamError } from './openai-http.js';
import { estimateWordTimings } from './word-timings.js';

const logger = pino({ level: 'silent' });

t.test('word timings: one per word, in order, inside the audio, longer words longer', async (t) => {
  const words = estimateWordTimings('The museum opens at nine.', 2000, 100);
  t.same(words.map((w) => w.text), ['The', 'museum', 'opens', 'at', 'nine.']);
  t.equal(words[0]!.startMs, 0);
  t.ok(words.every((w, i) => w.endMs > w.startMs && (i === 0 || w.startMs >= words[i - 1]!.endMs)), 'ordered, non-overlapping');
  t.ok(words.at(-1)!.endMs <= 2000);
  t.ok(words[1]!.endMs - words[1]!.startMs > words[3]!.endMs - words[3]!.startMs, '"museum" lasts longer than "at"');
  t.same(estimateWordTimings('  ', 1000, 14), []);
});

t.test('word timings follow the transcript speed, never past the audio', async (t) => {
  // "Hello there friend." = 3 words, 6 + 6 + 8 = 20 chars with the gaps.
  const at10 = estimateWordTimings('Hello there friend.', 5000, 10);
  t.same(at10.map((w) => w.startMs), [0, 600, 1200], '100 ms a char at 10 chars/s');
  const at20 = estimateWordTimings('Hello there friend.', 5000, 20);
  t.same(at20.map((w) => w.startMs), [0, 300, 600], '50 ms a char at 20 chars/s');
  const squeezed = estimateWordTimings('Hello there friend.', 1000, 10);
  t.same(squeezed.map((w) => w.startMs), [0, 300, 600], 'faster than the setting when the audio is shorter than the text at that rate');
  t.ok(squeezed.at(-1)!.endMs <= 1000);
});

t.test('voice settings: reference names, prefixed names win, checked at start', async (t) => {
  const s = readVoiceSettings({ STT_BASE_URL: 'http://a:1/v1', STT_MODEL: 'base', ZEROCLAW_STT_MODEL: 'small.en', TTS_BASE_URL: 'http://b:2/v1', TTS_LENGTH_SCALE: '0.8' }, 'ZEROCLAW');
  t.equal(s.stt!.model, 'small.en', 'ZEROCLAW_STT_MODEL over STT_MODEL');
  t.equal(s.tts!.voice, 'en_US-hfc_female-medium');
  t.equal(s.tts!.speed, 1.25, 'speed = 1 / TTS_LENGTH_SCALE');
  t.match(s.vad, { threshold: 0.6, negativeThreshold: 0.35, minSilenceMs: 280, minSpeechMs: 128 });
  t.equal(readVoiceSettings({ STT_BASE_URL: 'http://a:1', STT_ENABLED: 'false' }, 'OPENCLAW').stt, null, 'STT_ENABLED=false');
  t.equal(readVoiceSettings({}, 'OPENCLAW').tts, null, 'no TTS_BASE_URL: flite');
  t.throws(() => readVoiceSettings({ OPENCLAW_STT_VAD_START_THRESHOLD: '2' }, 'OPENCLAW'), { name: 'ConfigError', variable: 'OPENCLAW_STT_VAD_START_THRESHOLD' } as never);
  t.throws(() => readVoiceSettings({ STT_VAD_START_THRESHOLD: '0.3', STT_VAD_END_THRESHOLD: '0.5' }, 'OPENCLAW'), { name: 'ConfigError', variable: 'STT_VAD_END_THRESHOLD' } as never);
  t.throws(() => readVoiceSettings({ TTS_BASE_URL: 'ftp://x' }, 'ZEROCLAW'), { name: 'ConfigError', variable: 'TTS_BASE_URL' } as never);
  const local = readSpeechServerSettings({ TTS_BASE_URL: 'http://b:2/v1', TTS_MODEL: 'kokoro', OPENCLAW_TTS_MODEL: 'piper' });
  t.match(local.tts, { url: 'http://b:2/v1', model: 'kokoro' }, 'local reads the plain TTS_* names only');
  t.equal(readSpeechServerSettings({ TTS_BASE_URL: 'http://b:2/v1', TTS_ENABLED: 'false' }).tts, null);
});

t.test('HTTP TTS: WAV at 22.05 kHz comes back at 24 kHz with word timings; bad answers are coded errors', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  const tts = new HttpTts({ url: fake.url, model: 'piper', voice: 'en_US-hfc_female-medium', speed: 1, timeoutMs: 5000, charsPerSecond: 14, apiKey: 'voice-key-123456' });
  t.teardown(() => tts.close());
  fake.speak = () => ({ sampleRate: 22_050, msPerChar: 50 });
  const speech = await tts.synthesize('Hello there, visitor.');
  t.equal(speech.sampleRate, 24_000);
  t.ok(Math.abs(speech.durationMs - 21 * 50) < 5, `duration kept (${speech.durationMs} ms)`);
  t.equal(speech.pcm.length, Math.floor((Math.round((21 * 50 * 22_050) / 1000) * 24_000) / 22_050) * 2, 'resampled length');
  t.same(speech.words!.map((w) => w.text), ['Hello', 'there,', 'visitor.']);
  t.match(fake.speechRequests[0], { body: { model: 'piper', voice: 'en_US-hfc_female-medium', input: 'Hello there, visitor.', response_format: 'wav', speed: 1 }, authorization: 'Bearer voice-key-123456' });

  fake.speak = () => ({ status: 503 });
  await t.rejects(tts.synthesize('x'), { name: 'UpstreamError', code: 'TTS_FAILED', message: /HTTP 503/ } as never);
  fake.speak = () => ({ body: Buffer.from('ID3 not a wav') });
  await t.rejects(tts.synthesize('x'), { name: 'UpstreamError', code: 'TTS_FAILED', message: /not usable audio/ } as never);
  const down = new HttpTts({ url: 'http://127.0.0.1:9/v1', model: 'm', voice: 'v', speed: 1, timeoutMs: 2000, charsPerSecond: 14 });
  t.teardown(() => down.close());
  await t.rejects(down.synthesize('x'), { name: 'UpstreamError', code: 'TTS_UNAVAILABLE' } as never);
});

t.test('STT through the SDK: WAV upload, no Authorization without a key, coded errors', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  const stt = new OpenAiCompatibleStt({ url: fake.url, model: 'small.en', language: 'en', prompt: 'Museum names', timeoutMs: 5000 });
  fake.transcribe = () => ({ text: '  Hello.  ' });
  t.equal(await stt.transcribe(new Int16Array(1600)), 'Hello.');
  t.match(fake.transcriptions[0], { fields: { model: 'small.en', language: 'en', prompt: 'Museum names', response_format: 'json' }, filename: 'speech.wav', authorization: undefined });
  fake.transcribe = () => ({ status: 500 });
  await t.rejects(stt.transcribe(new Int16Array(160)), { name: 'UpstreamError', code: 'STT_FAILED' } as never);
  const err = await new OpenAiCompatibleStt({ url: 'http://127.0.0.1:9', model: 'm', timeoutMs: 2000 }).transcribe(new Int16Array(160)).catch((e: unknown) => e);
  t.ok(err instanceof UpstreamError && err.code === 'STT_UNAVAILABLE', 'connection refused → STT_UNAVAILABLE');
});

t.test('shared voice: the server speaks; on failure flite stands in, each session told once', async (t) => {
  const audio = (tag: number): SpeechAudio => ({ pcm: Buffer.from([tag, 0]), sampleRate: 24_000, durationMs: 1, synthMs: 0 });
  let fail = false;
  const server: TextToSpeech = { sampleRate: 24_000, warm: async () => {}, synthesize: async () => {
    if (fail) throw new Error('speech server down');
    return audio(1);
  } };
  const flite: TextToSpeech = { sampleRate: 24_000, warm: async () => {}, synthesize: async () => audio(2) };
  const shared = new SharedVoice(server, flite, logger);
  const toldA: string[] = [];
  const toldB: string[] = [];
  const a = shared.forSession((r) => toldA.push(r));
  const b = shared.forSession((r) => toldB.push(r));
  t.equal((await a.synthesize('x')).pcm[0], 1, 'the server speaks');
  fail = true;
  t.equal((await a.synthesize('x')).pcm[0], 2, 'flite stands in');
  t.equal((await a.synthesize('x')).pcm[0], 2, 'and goes on during the retry pause');
  t.equal((await b.synthesize('x')).pcm[0], 2);
  t.equal(toldA.length, 1, 'session A told once');
  t.equal(toldB.length, 1, 'session B told once');
  t.throws(() => new SharedVoice({ ...server, sampleRate: 22_050 }, flite, logger), /one rate/);
});
