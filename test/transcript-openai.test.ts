import t from 'tap';
import { openAIRealtimeServer } from './helpers/fake-services.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { RealtimeConn } from './helpers/fake-openai-realtime.js';
import { checkTurnTranscript, turnSeen } from './helpers/transcript-checks.js';
import { FRAGMENTS, REPLY, WORDS } from './helpers/transcript-fragments.js';

// OpenAI Realtime through its local fake: the agent passes raw transcript fragments through, the
// session cuts them into words timed at OPENAI_TRANSCRIPT_SPEED.
const { fake, server } = await openAIRealtimeServer(t, {
  OPENAI_API_KEY: 'sk-test-transcript-0123456789',
  TRANSCRIPT_CHARS_PER_SECOND: '10',
  OPENAI_TRANSCRIPT_SPEED: '20',
});

/** One response with the transcript in raw fragments (GA events), then its audio. */
async function speakFragments(conn: RealtimeConn, fragments: string[], pcm: Buffer): Promise<void> {
  const ids = { response_id: 'resp_tx1', item_id: 'item_tx1', output_index: 0, content_index: 0 };
  conn.send({ type: 'response.created', event_id: 'e1', response: { id: 'resp_tx1', object: 'realtime.response', status: 'in_progress', output: [] } });
  conn.send({ type: 'response.output_item.added', event_id: 'e2', response_id: 'resp_tx1', output_index: 0, item: { id: 'item_tx1', type: 'message', role: 'assistant', status: 'in_progress', content: [] } });
  for (const [i, delta] of fragments.entries()) conn.send({ type: 'response.output_audio_transcript.delta', event_id: `t${i}`, ...ids, delta });
  for (let at = 0; at < pcm.length; at += 4800) {
    conn.send({ type: 'response.output_audio.delta', event_id: `a${at}`, ...ids, delta: pcm.subarray(at, at + 4800).toString('base64') });
    await new Promise((r) => setImmediate(r));
  }
  conn.send({ type: 'response.output_audio.done', event_id: 'e3', ...ids });
  conn.send({ type: 'response.output_audio_transcript.done', event_id: 'e4', ...ids, transcript: fragments.join('') });
  conn.send({ type: 'response.done', event_id: 'e5', response: { id: 'resp_tx1', object: 'realtime.response', status: 'completed', output: [{ id: 'item_tx1', type: 'message', role: 'assistant' }] } });
}

t.test('fragments cut mid-word become one word per delta, timed at OPENAI_TRANSCRIPT_SPEED', async (t) => {
  const before = fake.conns.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const conn = await fake.waitFor(() => fake.conns[before]);
  await fake.waitEvent(conn, 'session.update');
  void speakFragments(conn, FRAGMENTS, syntheticSpeech(1));
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 15_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen);
  t.same(seen.deltas.map((d) => d.text), WORDS, 'the agent passed the fragments through unmodified');
  t.equal(seen.done.text, REPLY, 'transcript_done is the reply as written');
  t.same([seen.deltas[0]!.startOffset, seen.deltas[0]!.endOffset], [0, 350], '"Hello," + a space at 20 chars/s');
  await client.close();
});
