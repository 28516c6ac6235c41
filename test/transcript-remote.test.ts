import t from 'tap';
import { remoteAgentServer } from './helpers/fake-services.js';
import { syntheticSpeech, type Upstream } from './helpers/fake-remote-agent.js';
import { checkTurnTranscript, heardText, turnSeen } from './helpers/transcript-checks.js';
import { FRAGMENTS, REPLY, WORDS } from './helpers/transcript-fragments.js';

// The remote agent through its local fake: raw fragments in, one word per delta out, offsets
// estimated at TRANSCRIPT_CHARS_PER_SECOND (no per-agent override for remote).
const { fake: agent, server } = await remoteAgentServer(t, { TRANSCRIPT_CHARS_PER_SECOND: '10', OPENAI_TRANSCRIPT_SPEED: '40' });
const session = (): ReturnType<typeof agent.connectWidget> => agent.connectWidget(server.url());

async function speakFragments(up: Upstream, fragments: string[], pcm: Buffer, end = true): Promise<void> {
  up.send({ type: 'response_start' });
  for (const text of fragments) up.send({ type: 'transcript_delta', text });
  for (let at = 0; at < pcm.length; at += 4800) {
    up.send({ type: 'audio_delta', data: pcm.subarray(at, at + 4800).toString('base64') });
    await new Promise((r) => setImmediate(r));
  }
  if (end) up.send({ type: 'response_end' });
}

t.test('fragments cut mid-word become one word per delta, timed at TRANSCRIPT_CHARS_PER_SECOND', async (t) => {
  const { client, up } = await session();
  void speakFragments(up, FRAGMENTS, syntheticSpeech(1));
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 15_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen);
  t.same(seen.deltas.map((d) => d.text), WORDS);
  t.equal(seen.done.text, REPLY);
  t.same([seen.deltas[0]!.startOffset, seen.deltas[0]!.endOffset], [0, 700], '"Hello," + a space at 10 chars/s');
  await client.close();
});

t.test('interrupted: transcript_done says the words whose startOffset is before offsetMs', async (t) => {
  const { client, up } = await session();
  const words = Array.from({ length: 40 }, (_, i) => `word${i}`);
  // At 10 chars/s a word lasts (its characters + a space) × 100 ms; 30 s of audio so the turn plays on.
  void speakFragments(up, words.map((w) => `${w} `), syntheticSpeech(30), false);
  await client.waitFor((m) => m.type === 'sync_frame' && (m.frameIndex as number) >= 75, 20_000);
  client.send({ type: 'interrupt' });
  const i = await client.waitType('interrupt');
  const offsetMs = client.received[i]!.msg.offsetMs as number;
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.interrupted === true);
  const seen = turnSeen(client, done);
  t.equal(seen.done.text, heardText(seen.deltas, offsetMs));
  const heard = (seen.done.text as string).split(' ');
  t.same(heard, words.slice(0, heard.length), 'a word prefix of the reply');
  let startMs = 0;
  let expected = 0;
  for (const w of words) {
    if (startMs >= offsetMs) break;
    expected++;
    startMs += (w.length + 1) * 100;
  }
  t.equal(heard.length, expected, `proportional to offsetMs: ${heard.length} words by ${offsetMs} ms`);
  await client.close();
});
