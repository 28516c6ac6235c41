import t from 'tap';
import { loadConfig } from '../src/config/config.js';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { FakeOpenClaw } from './helpers/fake-openclaw.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { checkTurnTranscript, turnSeen } from './helpers/transcript-checks.js';

// The Claw agents' *_TRANSCRIPT_SPEED, as the reference uses it: each sentence's words start with
// its audio and follow at that many chars/s (the speech server reports no timings), never past
// the sentence's audio. OpenClaw end to end here; ZeroClaw reads its setting through the same path.
const TOKEN = 'oc-transcript-token-31415926';
const voice = await FakeOpenAiCompatible.start();
voice.speak = () => ({ sampleRate: 24_000, msPerChar: 200 });
const claw = await FakeOpenClaw.start(TOKEN);
const server = await startServer({
  AGENT_TYPE: 'sample_openclaw',
  OPENCLAW_BASE_URL: claw.url,
  OPENCLAW_API_TOKEN: TOKEN,
  TTS_BASE_URL: voice.url,
  TRANSCRIPT_CHARS_PER_SECOND: '16',
  OPENCLAW_TRANSCRIPT_SPEED: '10',
});
t.teardown(async () => {
  await server.stop();
  await claw.close();
  await voice.close();
});

t.test('words of the speech server follow OPENCLAW_TRANSCRIPT_SPEED from the start of their sentence', async (t) => {
  claw.script = () => ({ deltas: ['Hello there', ' friend. Bye', ' now.'] });
  const client = await WidgetClient.connect(server.url());
  t.teardown(() => client.close());
  await client.waitType('config');
  client.send({ type: 'text', data: 'Hi!' });
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 30_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen);
  t.equal(seen.done.text, 'Hello there friend. Bye now.');
  const starts = seen.deltas.map((d) => d.startOffset as number);
  t.same(starts.slice(0, 3), [0, 600, 1200], '"Hello " "there " "friend. ": 100 ms a char at 10 chars/s (not 16, not spread over the 3.8 s)');
  t.ok(Math.abs(starts[3]! - 19 * 200) <= 1, `the second sentence starts with its audio (${starts[3]} ms)`);
  t.ok(Math.abs(starts[4]! - starts[3]! - 400) <= 1, '"Bye " at 10 chars/s');
});

t.test('config: the Claw agents take their own speed, 14 chars/s by default as in the reference', async (t) => {
  t.equal(loadConfig({ AGENT_TYPE: 'sample_openclaw', OPENCLAW_TRANSCRIPT_SPEED: '9' }).transcriptCharsPerSecond, 9);
  t.equal(loadConfig({ AGENT_TYPE: 'sample_zeroclaw', ZEROCLAW_TRANSCRIPT_SPEED: '11', OPENCLAW_TRANSCRIPT_SPEED: '9' }).transcriptCharsPerSecond, 11);
  t.equal(loadConfig({ AGENT_TYPE: 'sample_zeroclaw' }).transcriptCharsPerSecond, 14);
  t.equal(loadConfig({ AGENT_TYPE: 'sample_openclaw', TRANSCRIPT_CHARS_PER_SECOND: '12' }).transcriptCharsPerSecond, 12, 'the general setting still applies when set');
  t.equal(loadConfig({ AGENT_TYPE: 'local', OPENCLAW_TRANSCRIPT_SPEED: '9' }).transcriptCharsPerSecond, 16, 'other agents ignore it');
  t.throws(() => loadConfig({ AGENT_TYPE: 'sample_zeroclaw', ZEROCLAW_TRANSCRIPT_SPEED: '0' }), /ZEROCLAW_TRANSCRIPT_SPEED/);
});
