import t from 'tap';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { speechAt16k, streamMic, utterance } from './helpers/mic-speech.js';

// The local voice agent (and the Claw agents built on it) with no speech recogniser: speech is
// heard by the VAD but cannot be understood. The user must notice: a spoken hint and a coded
// error, once per mic stream; typed text still works (issues 14 and 17).
const server = await startServer({ AGENT_TYPE: 'local', RATE_LIMIT_MESSAGES_PER_S: '500', RATE_LIMIT_MESSAGES_BURST: '1000' });
t.teardown(() => server.stop());
const speech = await speechAt16k('Hello avatar, can you hear me?');

/** One mic stream as the widget sends it; resolves with the index of its assistant transcript_done. */
async function micStream(client: WidgetClient, seed: number): Promise<{ error: number; done: number }> {
  const from = client.received.length;
  client.send({ type: 'audio_stream_start', userId: 'u' });
  await streamMic(client, utterance(speech, 300, 900, seed), 5);
  client.send({ type: 'audio_stream_end' });
  const error = await client.waitFor((m) => m.type === 'error' && m.code === 'STT_NOT_CONFIGURED', 30_000, from);
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 30_000, from);
  return { error, done };
}

t.test('speech without a recogniser: a spoken hint and an error per mic stream, then typed text works', async (t) => {
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');

  for (const seed of [1, 2]) {
    const from = client.received.length;
    const { done } = await micStream(client, seed);
    const hint = client.received[done]!.msg;
    t.match(hint.text, /type/i, `stream ${seed}: the avatar says to type`);
    t.notOk(hint.interrupted, 'the hint is spoken whole');
    const frames = client.received.slice(from, done).filter((r) => r.msg.type === 'sync_frame' && r.msg.turnId === hint.turnId);
    t.ok(frames.length > 30, `stream ${seed}: the hint is spoken (${frames.length} frames)`);
    const words = client.received.slice(from, done).filter((r) => r.msg.type === 'transcript_delta' && r.msg.turnId === hint.turnId).map((r) => String(r.msg.text));
    t.ok(words.every((w) => w !== '' && !/\s/.test(w)), 'one word per delta');
    await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000, done);
  }
  t.equal(client.received.filter((r) => r.msg.type === 'error' && r.msg.code === 'STT_NOT_CONFIGURED').length, 2, 'one error per mic stream');

  const from = client.received.length;
  client.send({ type: 'text', data: 'hello' });
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 30_000, from);
  t.match(client.received[done]!.msg.text, /hello/i, 'a typed turn right after is answered');
  t.ok(client.received.slice(from, done).some((r) => r.msg.type === 'sync_frame'), 'and spoken');
});
