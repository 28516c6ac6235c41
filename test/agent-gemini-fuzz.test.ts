import t from 'tap';
import { checkErrorsCoded, expectExactAudio, geminiLiveServer, pingPong } from './helpers/fake-services.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { LiveConn } from './helpers/fake-gemini-live.js';
import { fuzzMessages } from './helpers/message-fuzz.js';

/**
 * Agent-message fuzzer for Gemini Live (issue 13): thousands of well-formed and mutated server
 * messages from the fake into a real server with a real ONNX pool. Well-formed `goAway`s make the
 * agent move to new connections along the way; the fuzz follows it. The server never exits, the
 * session stays open, every error the client gets is coded, and the next turn plays exactly.
 */
const API_KEY = 'AIzaFUZZ0123456789SECRETgeminiKEY';
const MESSAGES = 2000;
const BATCH = 250;
const { fake, server } = await geminiLiveServer(t, {
  GEMINI_API_KEY: API_KEY,
});

const pcm = syntheticSpeech(0.1, { seed: 5 }).toString('base64');
/** One of each server message the agent acts on, as the service sends them. */
const samples = [
  { serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: pcm } }] } } },
  { serverContent: { outputTranscription: { text: ' Hello' } } },
  { serverContent: { inputTranscription: { text: 'Hi there', finished: true } } },
  { serverContent: { generationComplete: true } },
  { serverContent: { turnComplete: true }, usageMetadata: { promptTokenCount: 10, responseTokenCount: 20, totalTokenCount: 30 } },
  { serverContent: { interrupted: true } },
  { toolCall: { functionCalls: [{ id: 'fc_1', name: 'trigger_confetti', args: { intensity: 'low' } }] } },
  { toolCallCancellation: { ids: ['fc_1'] } },
  { sessionResumptionUpdate: { newHandle: 'handle-fuzz', resumable: true } },
  { goAway: { timeLeft: '10s' } },
];

/** The connection the agent uses now (it moves after a goAway), once it is set up. */
async function current(): Promise<LiveConn> {
  return fake.waitFor(() => {
    const c = fake.conns[fake.conns.length - 1];
    return c && c.setup && c.ws.readyState === c.ws.OPEN ? c : undefined;
  }, 20_000);
}


t.test(`${MESSAGES} fuzzed server messages: the server stays up, errors are coded, the next turn works`, async (t) => {
  const t0 = performance.now();
  const before = fake.conns.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  await fake.waitFor(() => fake.conns[before]?.setup);
  let sent = 0;
  for (const m of fuzzMessages(samples, { seed: 17, count: MESSAGES, maxStringBytes: 16 * 1024 })) {
    const conn = await current();
    if (typeof m.data === 'string') conn.send(m.data, sent % 2 === 0);
    else conn.ws.send(m.data, { binary: true });
    if (++sent % BATCH === 0) {
      await pingPong(client);
      t.equal(server.proc.exitCode, null, `server up after ${sent} messages`);
    }
  }
  // End whatever turn the fuzz left open, as the service would; messages are handled in order, so
  // once the barrier's user transcript reaches the client, everything before it was handled.
  // A fuzzed goAway may have the agent move to a new connection just as the barrier goes out on the
  // old one (it reconnects at once when idle): then the barrier is sent again on the new one.
  const isBarrier = (m: { type: string; role?: unknown; text?: unknown }) => m.type === 'transcript_done' && m.role === 'user' && m.text === 'fuzz barrier';
  for (let attempt = 1; ; attempt++) {
    const last = await current();
    const conns = fake.conns.length;
    last.send({ serverContent: { turnComplete: true } });
    last.send({ serverContent: { inputTranscription: { text: 'fuzz barrier', finished: true } } });
    const seen = await Promise.race([
      client.waitFor(isBarrier, 20_000).then(() => true, () => false),
      fake.waitFor(() => (fake.conns.length > conns ? true : undefined), 20_000).then(() => false, () => false),
    ]);
    if (seen || client.received.some((r) => isBarrier(r.msg))) break;
    if (attempt === 3) throw new Error('the barrier never reached the client over 3 connections');
  }
  t.comment(`${MESSAGES} messages handled in ${Math.round(performance.now() - t0)} ms, over ${fake.conns.length - before} connection(s)`);
  t.equal(client.closed, null, 'session still open');

  checkErrorsCoded(t, client, ['AGENT_ERROR', 'AGENT_DISCONNECTED'], API_KEY);

  // The next turn: typed text, answered, played exactly.
  const conn = await current();
  const from = conn.received.length;
  client.send({ type: 'text', data: 'are you all right?' });
  await fake.waitFor(() => conn.received.slice(from).find((msg) => msg.clientContent !== undefined), 15_000);
  const answer = syntheticSpeech(0.5, { seed: 21 });
  const start = client.received.length;
  void fake.speak(conn, answer, { words: ['Perfectly', 'fine.'] });
  await expectExactAudio(t, client, start, answer);
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Perfectly fine.', 10_000, start);
  await client.close();
  t.notOk(server.output().includes(API_KEY), 'no key in the server output');
});
