import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { FliteTts } from '../src/agents/offline/flite-tts.js';
import { parseWav } from '../src/audio/wav.js';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { freePort } from './helpers/fake-net.js';
import { startServer } from './helpers/server-process.js';
import { Waiters } from './helpers/waiters.js';
import { WidgetClient, type Msg } from './helpers/widget-client.js';

// AGENT_TYPE=local end to end: real server process, real widget-dialect client, Silero VAD run
// on real (flite-synthesized) speech, fake OpenAI-compatible STT and chat servers on 127.0.0.1.

const RATE = 16_000;
const PAD_MS = 300;
const QUESTION = 'When does the museum open?';

/** Deterministic faint noise, so the "silence" is a real microphone's, and any slice of it is unique. */
function noise(samples: number, seed: number): Int16Array {
  const out = new Int16Array(samples);
  let s = seed >>> 0;
  for (let i = 0; i < samples; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 16) % 61) - 30;
  }
  return out;
}

/** `leadMs` of noise, the speech, `tailMs` of noise; `onsetMs`/`offsetMs` where the speech is audible. */
function utterance(speech: Int16Array, leadMs: number, tailMs: number, seed: number): { pcm: Int16Array; onsetMs: number; offsetMs: number } {
  const lead = (leadMs * RATE) / 1000;
  const pcm = noise(lead + speech.length + (tailMs * RATE) / 1000, seed);
  for (let i = 0; i < speech.length; i++) pcm[lead + i] = Math.max(-32768, Math.min(32767, pcm[lead + i]! + speech[i]!));
  let on = -1;
  let off = -1;
  for (let i = 0; i < speech.length; i++) {
    if (Math.abs(speech[i]!) > 300) {
      if (on < 0) on = i;
      off = i;
    }
  }
  return { pcm, onsetMs: ((lead + on) / RATE) * 1000, offsetMs: ((lead + off) / RATE) * 1000 };
}

/** Sends PCM as widget `audio` messages of `chunkMs`, `intervalMs` apart (faster than real time when smaller). */
async function streamMic(client: WidgetClient, pcm: Int16Array, intervalMs = 20, chunkMs = 100): Promise<void> {
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const chunkBytes = (chunkMs * RATE * 2) / 1000;
  for (let i = 0; i < bytes.length; i += chunkBytes) {
    client.send({ type: 'audio', data: bytes.subarray(i, i + chunkBytes).toString('base64') });
    await sleep(intervalMs);
  }
}

/** Where `needle` starts inside `hay` (exact sample match), or -1. */
function indexOf(hay: Int16Array, needle: Int16Array): number {
  const n = Math.min(needle.length, 64);
  outer: for (let k = 0; k + n <= hay.length; k++) {
    for (let i = 0; i < n; i++) if (hay[k + i] !== needle[i]) continue outer;
    return k;
  }
  return -1;
}

function rms(frames: Msg[]): number {
  const audio = Buffer.concat(frames.map((f) => Buffer.from(f.audio as string, 'base64')));
  let energy = 0;
  for (let i = 0; i < audio.length; i += 2) energy += audio.readInt16LE(i) ** 2;
  return Math.sqrt(energy / Math.max(1, audio.length / 2));
}

const tts16 = new FliteTts({ sampleRate: RATE });
const spoken = await tts16.synthesize(`Hello there. ${QUESTION}`);
await tts16.close();
const speech = new Int16Array(spoken.pcm.buffer, spoken.pcm.byteOffset, spoken.pcm.length / 2);

const dir = mkdtempSync(join(tmpdir(), 'kb-local-'));
const kb = join(dir, 'kb.md');
writeFileSync(kb, '# Opening hours\n\nThe museum opens at nine in the morning and closes at six in the evening.\n');
const SECRET = 'sk-local-secret-1234567890';

t.test('voice turn, barge-in and history against fake local servers', async (t) => {
  const fake = await FakeOpenAiCompatible.start();
  t.teardown(() => fake.close());
  const server = await startServer({
    AGENT_TYPE: 'local',
    LOCAL_LLM_URL: fake.url,
    LOCAL_LLM_MODEL: 'fake-llm',
    LOCAL_LLM_API_KEY: SECRET,
    LOCAL_STT_URL: fake.url,
    LOCAL_STT_MODEL: 'whisper-tiny',
    LOCAL_STT_LANGUAGE: 'en',
    LOCAL_VAD_SPEECH_PAD_MS: String(PAD_MS),
    KNOWLEDGE_BASE_SOURCE: kb,
    ASSISTANT_INSTRUCTIONS: 'You are the museum guide.',
    RATE_LIMIT_MESSAGES_PER_S: '500',
    RATE_LIMIT_MESSAGES_BURST: '1000',
  });
  t.teardown(() => server.stop());
  t.ok(server.logs.some((l) => l.msg === 'local agent ready'), 'local agent started');
  t.ok(server.logs.some((l) => typeof l.msg === 'string' && /TTS_BASE_URL unset\): the built-in flite voice speaks/.test(l.msg)), 'no speech server: flite, said in the log');

  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  const cfg = client.received[await client.waitType('config')]!.msg;
  t.match(cfg, { audio: { inputSampleRate: 16000 } }, 'the widget is told to send 16 kHz');

  await t.test('speech → VAD → transcription → streamed LLM reply → frames', async (t) => {
    fake.transcribe = () => ({ text: QUESTION });
    // The model holds back its last piece until the client has a frame: the reply is spoken
    // sentence by sentence, or no frame ever comes.
    let frameReceived!: () => void;
    const deltas = ['The museum opens', ' at nine in the morning.', ' It closes', ' at six', ' in the evening.'];
    fake.chat = () => ({ deltas, firstDelayMs: 50, delayMs: 400, hold: { before: deltas.length - 1, until: new Promise<void>((resolve) => (frameReceived = resolve)) } });
    const { pcm, onsetMs, offsetMs } = utterance(speech, 800, 1500, 1);
    client.send({ type: 'audio_stream_start' });
    await streamMic(client, pcm);
    await fake.waitFor(() => fake.transcriptions.length === 1);
    const upload = fake.transcriptions[0]!;
    t.equal(upload.fields.model, 'whisper-tiny');
    t.equal(upload.fields.language, 'en');
    t.match(upload.filename, /\.wav$/);
    const wav = parseWav(upload.file);
    t.equal(wav.sampleRate, 16000, 'a 16 kHz WAV');
    // Where the cut utterance lies in what was sent: Silero's start/end ± the pad.
    const at = indexOf(pcm, wav.samples);
    t.ok(at >= 0, 'the WAV holds the microphone samples unchanged');
    const startMs = (at / RATE) * 1000;
    const endMs = startMs + (wav.samples.length / RATE) * 1000;
    t.ok(Math.abs(startMs - (onsetMs - PAD_MS)) <= 120, `starts ${Math.round(startMs)} ms ≈ onset ${Math.round(onsetMs)} − pad`);
    t.ok(Math.abs(endMs - (offsetMs + PAD_MS)) <= 200, `ends ${Math.round(endMs)} ms ≈ offset ${Math.round(offsetMs)} + pad`);

    const userIdx = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user', 10_000);
    t.equal(client.received[userIdx]!.msg.text, QUESTION, 'user transcript to the client');
    await fake.waitFor(() => fake.chatRequests.length === 1);
    const req = fake.chatRequests[0]!;
    t.equal(req.body.model, 'fake-llm');
    t.equal(req.body.stream, true);
    t.equal(req.authorization, `Bearer ${SECRET}`);
    const messages = req.body.messages!;
    t.equal(messages[0]!.role, 'system');
    t.match(messages[0]!.content, /museum guide[\s\S]*opens at nine in the morning/, 'instructions + knowledge base');
    t.same(messages.at(-1), { role: 'user', content: QUESTION });

    const first = await client.waitType('sync_frame', 10_000, userIdx);
    t.ok(!req.completed && req.sent < deltas.length, `the first frame arrived while the LLM still held back its last piece (${req.sent} of ${deltas.length} sent)`);
    frameReceived();
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 20_000, first);
    const turn = client.received.slice(userIdx, end + 1).map((r) => r.msg);
    const frames = turn.filter((m) => m.type === 'sync_frame');
    t.ok(frames.every((f, i) => f.frameIndex === i), `${frames.length} frames, no gaps`);
    t.ok(rms(frames) > 500, 'frames carry speech');
    t.equal(client.received[end]!.msg.text, 'The museum opens at nine in the morning. It closes at six in the evening.');
    await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 5000, end);
  });

  await t.test('barge-in: speech during a response interrupts it and aborts the LLM stream', async (t) => {
    const long = Array.from({ length: 12 }, (_, i) => ` Sentence number ${i + 1} of a very long answer about the museum.`);
    // The last piece is held back until the test ends: the stream can only end by the abort.
    let endOfTest!: () => void;
    const held = new Promise<void>((resolve) => (endOfTest = resolve));
    t.teardown(() => endOfTest());
    fake.chat = () => ({ deltas: long, delayMs: 250, hold: { before: long.length - 1, until: held } });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Tell me everything.' });
    const firstFrame = await client.waitType('sync_frame', 10_000, from);
    const turnId = client.received[firstFrame]!.msg.turnId;
    const longReq = fake.chatRequests[1]!;
    // Some of the answer is heard: the frames through half of the first sentence (its last
    // word's end, from the TTS's word timings in the transcript).
    const lastWord = client.received[await client.waitFor((m) => m.type === 'transcript_delta' && m.role === 'assistant' && m.turnId === turnId && m.text === 'museum.', 10_000, from)]!.msg;
    const halfFrames = Math.ceil((lastWord.endOffset as number) / 2 / (1000 / 30));
    await client.waitFor((m) => m.type === 'sync_frame' && m.turnId === turnId && (m.frameIndex as number) >= halfFrames, 10_000, firstFrame);
    fake.transcribe = () => ({ text: 'Stop, what time is it?' });
    fake.chat = () => ({ deltas: ['It is', ' ten o\'clock.'] });
    const { pcm } = utterance(speech, 300, 1200, 2);
    void streamMic(client, pcm, 50);
    const i = await client.waitType('interrupt', 10_000, firstFrame);
    t.equal(client.received[i]!.msg.turnId, turnId, 'the playing turn is interrupted');
    await client.waitFor((m) => m.type === 'transcript_done', 5000, i);
    t.match(client.received[i + 1]!.msg, { type: 'avatar_state', state: 'Listening' });
    t.match(client.received[i + 2]!.msg, { type: 'transcript_done', role: 'assistant', interrupted: true, turnId });
    await fake.waitFor(() => longReq.aborted, 5000);
    t.ok(longReq.aborted && !longReq.completed, `the LLM stream was aborted after ${longReq.sent} of ${long.length} pieces`);
    const late = client.received.slice(i + 1).filter((r) => r.msg.type === 'sync_frame' && r.msg.turnId === turnId);
    t.ok(late.length <= 1, 'no further frame of the interrupted turn');

    // The utterance that barged in is answered, and the model is told only what was heard.
    const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === "It is ten o'clock.", 20_000, i + 3);
    t.ok(done > i);
    const next = fake.chatRequests[2]!;
    const history = next.body.messages!.slice(1);
    t.same(history.slice(0, 3).map((m) => m.role), ['user', 'assistant', 'user']);
    const heard = history[3]!;
    t.equal(heard.role, 'assistant');
    t.ok(heard.content.startsWith('Sentence number 1'), 'the interrupted answer as far as it was heard');
    t.ok(heard.content.length < long.join('').length / 2, `truncated: "${heard.content}"`);
    t.same(history.at(-1), { role: 'user', content: 'Stop, what time is it?' });
  });

  t.notMatch(server.output(), SECRET, 'the API key is never logged');
});

t.test('no recogniser and the LLM server down: clear errors, the session goes on', async (t) => {
  // A port with nothing listening, reused below to bring the LLM "back up".
  const port = await freePort();
  const server = await startServer({
    AGENT_TYPE: 'local',
    LOCAL_LLM_URL: `http://127.0.0.1:${port}/v1`,
    LOCAL_LLM_MODEL: 'fake-llm',
    RATE_LIMIT_MESSAGES_PER_S: '500',
    RATE_LIMIT_MESSAGES_BURST: '1000',
    LOG_LEVEL: 'debug',
  });
  t.teardown(() => server.stop());
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');

  const { pcm } = utterance(speech, 500, 1000, 3);
  await streamMic(client, pcm, 10);
  const e = await client.waitFor((m) => m.type === 'error', 10_000);
  t.match(client.received[e]!.msg, { code: 'STT_NOT_CONFIGURED', message: /LOCAL_STT_URL/ });
  await streamMic(client, pcm, 10);
  // The agent has judged the second utterance (its end is logged), and a pong answered after
  // that comes after anything it sent the client about it.
  const speechEnds = () => server.logs.filter((l) => l.msg === 'local agent: speech ended').length;
  await new Waiters('second utterance').waitFor(() => speechEnds() >= 2, 10_000);
  t.equal(speechEnds(), 2, 'two utterances, each ended once');
  const pongs = client.received.length;
  client.send({ type: 'ping' });
  await client.waitType('pong', 5000, pongs);
  t.equal(client.received.filter((r) => r.msg.type === 'error' && r.msg.code === 'STT_NOT_CONFIGURED').length, 1, 'said once per session');

  const from = client.received.length;
  client.send({ type: 'text', data: 'Hello?' });
  const down = await client.waitFor((m) => m.type === 'error', 10_000, from);
  t.match(client.received[down]!.msg, { code: 'LLM_UNAVAILABLE', message: new RegExp(`127\\.0\\.0\\.1:${port}`) });
  client.send({ type: 'ping' });
  await client.waitType('pong', 5000, down);
  t.notOk(client.closed, 'the connection stays open');

  const fake = await FakeOpenAiCompatible.start(port);
  t.teardown(() => fake.close());
  fake.chat = () => ({ deltas: ['I am', ' back.'] });
  client.send({ type: 'text', data: 'Hello again?' });
  const back = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 15_000, down);
  t.equal(client.received[back]!.msg.text, 'I am back.', 'answers once the LLM server is up');
  t.ok(client.received.slice(down, back).some((r) => r.msg.type === 'sync_frame'), 'with speech');
  const history = fake.chatRequests[0]!.body.messages!;
  t.same(history.slice(1), [{ role: 'user', content: 'Hello?\nHello again?' }], 'the unanswered question is kept, merged');
});
