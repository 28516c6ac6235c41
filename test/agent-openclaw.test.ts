import t from 'tap';
import { createServer, type Socket } from 'node:net';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { freePort } from './helpers/fake-net.js';
import { FakeOpenClaw } from './helpers/fake-openclaw.js';
import { fuzzMessages } from './helpers/message-fuzz.js';
import { speechAt16k, streamMic, utterance } from './helpers/mic-speech.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient, type Msg } from './helpers/widget-client.js';
import { OpenClawReplies } from '../src/agents/openclaw/openclaw-replies.js';
import { readOpenClawSettings } from '../src/agents/openclaw/settings.js';
import { UpstreamError } from '../src/agents/voice/openai-http.js';

// AGENT_TYPE=sample_openclaw end to end: the real server, a fake OpenClaw gateway speaking its
// SSE chat-completions dialect, and a fake speech server (transcriptions + speech) on 127.0.0.1.

const TOKEN = 'oc-gateway-token-5f1e9a7c3b';
const RATE_LIMITS = { RATE_LIMIT_MESSAGES_PER_S: '500', RATE_LIMIT_MESSAGES_BURST: '1000' };
const speech = await speechAt16k('Hello there. When does the museum open?');

function frames(client: WidgetClient, from: number, to: number): Msg[] {
  return client.received.slice(from, to + 1).map((r) => r.msg).filter((m) => m.type === 'sync_frame');
}

/** A gateway that accepts connections and never answers: holds every socket until closed. */
async function silentGateway(): Promise<{ port: number; accepted: () => number; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

t.test('typed and spoken turns, errors and barge-in against a fake gateway and speech server', async (t) => {
  const voice = await FakeOpenAiCompatible.start();
  t.teardown(() => voice.close());
  const claw = await FakeOpenClaw.start(TOKEN);
  t.teardown(() => claw.close());
  const server = await startServer({
    AGENT_TYPE: 'sample_openclaw',
    OPENCLAW_BASE_URL: claw.url,
    OPENCLAW_API_TOKEN: TOKEN,
    OPENCLAW_AGENT_ID: 'kiosk',
    OPENCLAW_SESSION_KEY: 'lobby',
    OPENCLAW_MAX_RETRIES: '0',
    OPENCLAW_HISTORY_MAX_MESSAGES: '4',
    STT_BASE_URL: voice.url,
    OPENCLAW_STT_MODEL: 'Systran/faster-whisper-small.en',
    TTS_BASE_URL: voice.url,
    TTS_VOICE_NAME: 'en_US-hfc_female-medium',
    TTS_MODEL: 'speaches-ai/piper-en_US-hfc_female-medium',
    ASSISTANT_INSTRUCTIONS: 'You are the museum guide.',
    ...RATE_LIMITS,
  });
  t.teardown(() => server.stop());
  t.ok(server.logs.some((l) => l.msg === 'openclaw agent ready'), 'agent ready');
  t.ok(server.logs.some((l) => l.msg === 'speech server ready'), 'the speech server answered the warm-up');

  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');

  await t.test('typed turn: streamed SSE reply spoken by the speech server and shown', async (t) => {
    claw.script = () => ({ deltas: ['The museum', ' opens at nine.', ' It closes', ' at six.'], delayMs: 50 });
    const from = client.received.length;
    client.send({ type: 'text', data: 'When do you open?' });
    await claw.waitFor(() => claw.requests.length === 1);
    const req = claw.requests[0]!;
    t.equal(req.headers.authorization, `Bearer ${TOKEN}`);
    t.equal(req.headers['x-openclaw-agent-id'], 'kiosk');
    t.equal(req.headers['x-openclaw-session-key'], 'lobby');
    t.equal(req.body.model, 'openclaw:main');
    t.equal(req.body.stream, true);
    t.match(req.body.user, /^avatar-/, 'a stable per-session gateway user');
    const messages = req.body.messages!;
    t.equal(messages[0]!.role, 'system');
    t.match(messages[0]!.content, /museum guide[\s\S]*low-latency/, 'instructions + the thinking-mode line');
    t.same(messages.at(-1), { role: 'user', content: 'When do you open?' });
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 20_000, from);
    t.equal(client.received[end]!.msg.text, 'The museum opens at nine. It closes at six.');
    const words = client.received.slice(from, end).map((r) => r.msg).filter((m) => m.type === 'transcript_delta' && m.role === 'assistant');
    // The transcript contract: one whole word per delta, as many deltas as words in transcript_done,
    // and the words, joined as the widget joins them (a space unless the word starts with punctuation), are its text.
    const texts = words.map((m) => m.text as string);
    t.ok(texts.every((w) => w.length > 0 && !/\s/.test(w)), 'each transcript_delta is one word');
    t.equal(texts.length, (client.received[end]!.msg.text as string).split(/\s+/).length, 'one delta per word of transcript_done');
    t.equal(texts.reduce((acc, w, i) => (i === 0 || /^[.,!?;:…)\]}'"-]/.test(w) ? acc + w : `${acc} ${w}`), ''), client.received[end]!.msg.text, 'the words joined are transcript_done.text');
    t.ok(frames(client, from, end).length > 20, 'frames carry the speech');
    t.ok(voice.speechRequests.length >= 2, 'sentences went to the speech server');
    t.match(voice.speechRequests.at(-1)!.body, { voice: 'en_US-hfc_female-medium', model: 'speaches-ai/piper-en_US-hfc_female-medium', response_format: 'wav' });
  });

  await t.test('mic turn: VAD → transcription server → gateway', async (t) => {
    voice.transcribe = () => ({ text: 'When does the museum open?' });
    claw.script = () => ({ deltas: ['At nine', ' in the morning.'] });
    const from = client.received.length;
    const before = claw.requests.length;
    await streamMic(client, utterance(speech, 500, 1200, 1));
    const user = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user', 15_000, from);
    t.equal(client.received[user]!.msg.text, 'When does the museum open?');
    t.equal(voice.transcriptions.at(-1)!.fields.model, 'Systran/faster-whisper-small.en', 'the prefixed OPENCLAW_STT_MODEL wins');
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 20_000, user);
    t.equal(client.received[end]!.msg.text, 'At nine in the morning.');
    t.same(claw.requests[before]!.body.messages!.at(-1), { role: 'user', content: 'When does the museum open?' });
    t.ok(claw.requests[before]!.body.messages!.length <= 5, 'system prompt + at most OPENCLAW_HISTORY_MAX_MESSAGES');
  });

  await t.test('barge-in: speech over the reply aborts the request and drops queued speech', async (t) => {
    const long = Array.from({ length: 30 }, (_, i) => ` Part ${i + 1} of a long story about the museum.`);
    claw.script = () => ({ deltas: long, delayMs: 150 });
    voice.transcribe = () => ({ text: 'Stop please.' });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Tell me everything.' });
    const first = await client.waitType('sync_frame', 15_000, from);
    const turnId = client.received[first]!.msg.turnId;
    const longReq = claw.requests.at(-1)!;
    claw.script = () => ({ deltas: ['Stopped.'] });
    void streamMic(client, utterance(speech, 200, 1200, 2));
    const i = await client.waitType('interrupt', 15_000, first);
    t.equal(client.received[i]!.msg.turnId, turnId, 'the playing turn is interrupted');
    await claw.waitFor(() => longReq.aborted, 10_000);
    t.ok(longReq.aborted && !longReq.completed, `request aborted after ${longReq.sent} of ${long.length} pieces`);
    const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Stopped.', 20_000, i);
    const late = client.received.slice(i + 1, done).filter((r) => r.msg.type === 'sync_frame' && r.msg.turnId === turnId);
    t.ok(late.length <= 1, 'no queued speech of the interrupted turn after the interrupt');
  });

  await t.test('"Error: internal error" is an error, never speech', async (t) => {
    claw.script = () => ({ deltas: ['Let me check.', ' Something', ' else.'], failAfter: 1 });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Check the weather.' });
    const e = await client.waitFor((m) => m.type === 'error', 15_000, from);
    t.match(client.received[e]!.msg, { code: 'GATEWAY_ERROR', message: /internal error/ });
    const spoken = client.received.slice(from).map((r) => r.msg).filter((m) => m.type === 'transcript_delta').map((m) => m.text).join(' ');
    t.notMatch(spoken, /Error/, 'the error text is not in the transcript');
  });

  await t.test('gateway drops mid-turn: a coded error, the next turn works', async (t) => {
    claw.script = () => ({ deltas: ['First sentence here.', ' Second.'], dropAfter: 1 });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Hello?' });
    const e = await client.waitFor((m) => m.type === 'error', 15_000, from);
    t.match(client.received[e]!.msg.code, /^GATEWAY_/);
    claw.script = () => ({ deltas: ['Back again.'] });
    client.send({ type: 'text', data: 'Hello again?' });
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Back again.', 20_000, e);
    t.ok(end > e);
  });

  await t.test('speech server fails: flite speaks, said once to the client and once in the log', async (t) => {
    voice.speak = () => ({ status: 500 });
    claw.script = () => ({ deltas: ['Still speaking.', ' With another voice.'] });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Say something.' });
    const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 20_000, from);
    t.equal(client.received[end]!.msg.text, 'Still speaking. With another voice.', 'the text still reaches the client');
    t.ok(frames(client, from, end).length > 10, 'spoken by the built-in voice');
    const fallbacks = client.received.slice(from).filter((r) => r.msg.type === 'error' && r.msg.code === 'TTS_FALLBACK');
    t.equal(fallbacks.length, 1, 'the client is told once');
    t.equal(server.logs.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('speech server failed')).length, 1, 'logged once');
    voice.speak = () => ({});
  });

  await t.test('fuzzed SSE events: coded errors, the session and server live on', async (t) => {
    const samples = [
      { id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hi.' }, finish_reason: null }] },
      { id: 'c2', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { error: { message: 'boom', type: 'server_error' } },
    ];
    const fuzz = [...fuzzMessages(samples, { seed: 17, count: 26, maxStringBytes: 64 * 1024 })];
    const texts = fuzz.map((f) => (typeof f.data === 'string' ? f.data : f.data.toString('latin1')).replace(/[\r\n]/g, ' '));
    for (let i = 0; i < texts.length; i += 6) {
      claw.script = () => ({ rawBefore: texts.slice(i, i + 6), deltas: ['Fine.'] });
      const from = client.received.length;
      client.send({ type: 'text', data: `Fuzz ${i}` });
      await client.waitFor((m) => m.type === 'error' || (m.type === 'transcript_done' && m.role === 'assistant'), 20_000, from);
    }
    claw.script = () => ({ deltas: ['Still here.'] });
    const from = client.received.length;
    client.send({ type: 'text', data: 'Are you there?' });
    await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Still here.', 20_000, from);
    t.notOk(client.closed, 'the session is open');
  });

  t.notMatch(server.output(), TOKEN, 'the gateway token is never logged');
});

t.test('fuzzed chunks through the client: strings or coded errors, nothing else', async (t) => {
  const claw = await FakeOpenClaw.start(TOKEN);
  t.teardown(() => claw.close());
  const replies = new OpenClawReplies(readOpenClawSettings({ OPENCLAW_BASE_URL: claw.url, OPENCLAW_API_TOKEN: TOKEN, OPENCLAW_MAX_RETRIES: '0' }));
  const samples = [{ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: 'Hi.' }, finish_reason: null }] }];
  let errors = 0;
  for (const f of fuzzMessages(samples, { seed: 5, count: 39, maxStringBytes: 64 * 1024 })) {
    claw.script = () => ({ rawBefore: [(typeof f.data === 'string' ? f.data : f.data.toString('latin1')).replace(/[\r\n]/g, ' ')], deltas: ['ok'] });
    try {
      for await (const piece of replies.stream([{ role: 'user', content: 'x' }], new AbortController().signal)) t.type(piece, 'string');
    } catch (err) {
      errors++;
      if (!(err instanceof UpstreamError)) t.fail(`${f.kind} (${f.note}) threw ${String(err)}`);
    }
  }
  t.ok(errors > 0, `${errors} malformed events became coded errors`);
});

t.test('gateway silent, then down, then up; a bad token is refused without being logged; the recogniser down', async (t) => {
  const silent = await silentGateway();
  const port = silent.port;
  const sttPort = await freePort();
  const server = await startServer({
    AGENT_TYPE: 'sample_openclaw',
    OPENCLAW_BASE_URL: `http://127.0.0.1:${port}`,
    OPENCLAW_API_TOKEN: TOKEN,
    OPENCLAW_MAX_RETRIES: '0',
    OPENCLAW_CONNECT_TIMEOUT: '1',
    OPENCLAW_READ_TIMEOUT: '600',
    STT_BASE_URL: `http://127.0.0.1:${sttPort}/v1`,
    ...RATE_LIMITS,
  });
  t.teardown(() => server.stop());
  t.ok(server.logs.some((l) => typeof l.msg === 'string' && /built-in flite voice speaks/.test(l.msg)), 'no speech server configured: flite, said in the log');
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');

  // Accepts the connection, never sends headers: OPENCLAW_CONNECT_TIMEOUT (1 s) ends the wait, not the read timeout (600 s).
  const askedAt = performance.now();
  client.send({ type: 'text', data: 'Anyone there?' });
  const timedOut = await client.waitType('error', 60_000);
  const waitedMs = performance.now() - askedAt;
  t.match(client.received[timedOut]!.msg, { code: 'GATEWAY_UNAVAILABLE', message: /did not answer in time/ });
  t.equal(silent.accepted(), 1, 'the connection was made');
  t.ok(waitedMs >= 1000 && waitedMs < 30_000, `failed after ${Math.round(waitedMs)} ms: the connect timeout, far below the read timeout`);
  await silent.close();

  client.send({ type: 'text', data: 'Hello?' });
  const down = await client.waitFor((m) => m.type === 'error', 15_000, timedOut + 1);
  t.match(client.received[down]!.msg, { code: 'GATEWAY_UNAVAILABLE', message: new RegExp(`127\\.0\\.0\\.1:${port}`) });
  const claw = await FakeOpenClaw.start('another-token-000', port);
  t.teardown(() => claw.close());
  client.send({ type: 'text', data: 'Hello?' });
  const refused = await client.waitFor((m) => m.type === 'error', 15_000, down + 1);
  t.match(client.received[refused]!.msg, { code: 'GATEWAY_ERROR', message: /credentials/ });
  t.equal(claw.refused, 1);
  await claw.close();

  const good = await FakeOpenClaw.start(TOKEN, port);
  t.teardown(() => good.close());
  good.script = () => ({ deltas: ['Up now.'] });
  client.send({ type: 'text', data: 'Now?' });
  const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 20_000, refused);
  t.equal(client.received[end]!.msg.text, 'Up now.');

  // Speech while the transcription server is down: a coded error, and typed text still works.
  const spoke = client.received.length;
  await streamMic(client, utterance(speech, 300, 1200, 3));
  const sttDown = await client.waitFor((m) => m.type === 'error', 20_000, spoke);
  t.match(client.received[sttDown]!.msg, { code: 'STT_UNAVAILABLE', message: new RegExp(`127\\.0\\.0\\.1:${sttPort}`) });
  good.script = () => ({ deltas: ['Typing works.'] });
  client.send({ type: 'text', data: 'Typed instead.' });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Typing works.', 20_000, sttDown);
  t.notMatch(server.output(), TOKEN, 'the token is never logged');
});

t.test('settings: token required, ranges checked', async (t) => {
  t.throws(() => readOpenClawSettings({}), { name: 'ConfigError', variable: 'OPENCLAW_API_TOKEN' } as never);
  t.throws(() => readOpenClawSettings({ OPENCLAW_API_TOKEN: 'x', OPENCLAW_HISTORY_MAX_MESSAGES: '3' }), { name: 'ConfigError', variable: 'OPENCLAW_HISTORY_MAX_MESSAGES' } as never);
  t.throws(() => readOpenClawSettings({ OPENCLAW_API_TOKEN: 'x', OPENCLAW_THINKING_MODE: 'deep' }), { name: 'ConfigError', variable: 'OPENCLAW_THINKING_MODE' } as never);
  const s = readOpenClawSettings({ OPENCLAW_API_TOKEN: 'x' });
  t.match(s, { baseUrl: 'http://127.0.0.1:19001/v1', model: 'openclaw:main', thinkingMode: 'minimal', historyMaxMessages: 12, connectTimeoutMs: 5000, readTimeoutMs: 120_000, maxRetries: 2 });
});
