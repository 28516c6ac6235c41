import t from 'tap';
import { geminiLiveServer } from './helpers/fake-services.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import { checkTurnTranscript, turnSeen } from './helpers/transcript-checks.js';
import { FRAGMENTS, REPLY, WORDS } from './helpers/transcript-fragments.js';

// Gemini Live through its local fake: output transcription arrives in raw fragments between
// audio parts; the session cuts them into words timed at GEMINI_TRANSCRIPT_SPEED.
const { fake, server } = await geminiLiveServer(t, {
  GEMINI_API_KEY: 'AIzaTEST-transcript-0123456789',
  TRANSCRIPT_CHARS_PER_SECOND: '10',
  GEMINI_TRANSCRIPT_SPEED: '25',
});

t.test('fragments cut mid-word become one word per delta, timed at GEMINI_TRANSCRIPT_SPEED', async (t) => {
  const before = fake.conns.length;
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  const conn = await fake.waitFor(() => fake.conns[before]);
  await fake.waitFor(() => conn.setup);
  const pcm = syntheticSpeech(1);
  // The first audio part opens the response; the transcription streams alongside the rest.
  conn.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: pcm.subarray(0, 4800).toString('base64') } }] } } });
  for (const text of FRAGMENTS) conn.send({ serverContent: { outputTranscription: { text } } });
  void fake.speak(conn, pcm.subarray(4800));
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 15_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen);
  t.same(seen.deltas.map((d) => d.text), WORDS, 'the agent passed the fragments through unmodified');
  t.equal(seen.done.text, REPLY);
  t.same([seen.deltas[0]!.startOffset, seen.deltas[0]!.endOffset], [0, 280], '"Hello," + a space at 25 chars/s');
  await client.close();
});
