import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { checkTurnTranscript, heardText, turnSeen } from './helpers/transcript-checks.js';
import { NO_SPEECH_INPUT_REPLY } from '../src/agents/offline/offline-agent.js';

// The default agent through the real server: real flite, its word timings, real sockets.
const server = await startServer({ RATE_LIMIT_MESSAGES_PER_S: '500', RATE_LIMIT_MESSAGES_BURST: '1000' });
t.teardown(() => server.stop());

async function connect(): Promise<WidgetClient> {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  return client;
}

const assistantDone = () => (m: { type: string; role?: unknown; interrupted?: unknown }) => m.type === 'transcript_done' && m.role === 'assistant';

t.test('a text turn: one word per delta, sent progressively, timed by the voice', async (t) => {
  const client = await connect();
  client.send({ type: 'text', data: 'Hello, what can you do?' });
  const done = await client.waitFor(assistantDone(), 60_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen, { audioTolerance: 0.15 });
  t.match(seen.done.text, /^Hello! I'm the built-in offline assistant\./, 'real spaces, nothing glued');
  const types = client.types();
  t.ok(types.indexOf('transcript_delta') < types.indexOf('audio_end'), 'words arrive before the turn ends');
  const lastDelta = types.lastIndexOf('transcript_delta');
  t.ok(types.indexOf('sync_frame') < lastDelta, 'sentence by sentence: later words come after the first frames');
  t.ok((seen.deltas[0]!.startOffset as number) > 0, 'the first word starts when the voice does (after flite\'s lead-in pause)');
  await client.close();
});

t.test('interrupted turn: the heard text is the words started before offsetMs', async (t) => {
  const client = await connect();
  client.send({ type: 'text', data: 'Hello, what can you do?' });
  // About 1.5 s of the ~10 s reply, then barge in.
  await client.waitFor((m) => m.type === 'sync_frame' && (m.frameIndex as number) >= 45, 30_000);
  client.send({ type: 'interrupt' });
  const i = await client.waitType('interrupt');
  const offsetMs = client.received[i]!.msg.offsetMs as number;
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.interrupted === true);
  const seen = turnSeen(client, done);
  const all = seen.deltas.map((d) => d.text as string);
  const heard = seen.done.text as string;
  t.equal(heard, heardText(seen.deltas, offsetMs), `heard at ${offsetMs} ms: "${heard}"`);
  t.ok(heard.length > 0, 'some words were heard');
  const heardWords = heard.split(' ').length;
  t.ok(heardWords < all.length, `${heardWords} of ${all.length} words`);
  t.ok(all.join(' ').startsWith(heard), 'a prefix of the reply');
  // Proportional to the audio played: the next word starts at or after offsetMs, the last heard before it.
  const next = seen.deltas.find((d) => (d.startOffset as number) >= offsetMs);
  t.ok(next === undefined || (next.startOffset as number) >= offsetMs);
  await client.close();
});

t.test('mic audio to the offline agent: a spoken hint and an error, per mic stream; typing still works', async (t) => {
  const client = await connect();
  const micStream = (): void => {
    client.send({ type: 'audio_stream_start' });
    for (let i = 0; i < 36; i++) client.send({ type: 'audio', data: Buffer.alloc(4800).toString('base64') });
    client.send({ type: 'audio_stream_end' });
  };
  micStream();
  const e1 = await client.waitFor((m) => m.type === 'error');
  t.match(client.received[e1]!.msg, { code: 'SPEECH_INPUT_UNSUPPORTED', message: /AGENT_TYPE=local/ });
  const d1 = await client.waitFor(assistantDone(), 60_000);
  const hint = turnSeen(client, d1);
  t.equal(hint.done.text, NO_SPEECH_INPUT_REPLY, 'the hint is spoken and shown');
  t.ok(hint.audioMs > 2000, `spoken: ${Math.round(hint.audioMs)} ms`);
  checkTurnTranscript(t, hint, { audioTolerance: 0.15 });
  t.equal(client.received.filter((r) => r.msg.type === 'error').length, 1, 'once for the whole stream');

  const from = client.received.length;
  micStream();
  const e2 = await client.waitFor((m) => m.type === 'error', 10_000, from);
  t.equal(client.received[e2]!.msg.code, 'SPEECH_INPUT_UNSUPPORTED', 'the second stream gets it again');
  const d2 = await client.waitFor(assistantDone(), 60_000, from);
  t.equal(client.received[d2]!.msg.text, NO_SPEECH_INPUT_REPLY);

  const from2 = client.received.length;
  client.send({ type: 'text', data: 'thanks' });
  const d3 = await client.waitFor(assistantDone(), 60_000, from2);
  t.equal(client.received[d3]!.msg.text, "You're welcome! Is there anything else I can do for you?", 'a text turn right after works');
  t.equal(client.received.slice(from2).filter((r) => r.msg.type === 'error').length, 0, 'with no error');
  await client.close();
});
