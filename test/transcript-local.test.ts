import t from 'tap';
import { FakeOpenAiCompatible } from './helpers/fake-openai-compatible.js';
import { startServer } from './helpers/server-process.js';
import { WidgetClient } from './helpers/widget-client.js';
import { checkTurnTranscript, turnSeen } from './helpers/transcript-checks.js';

// AGENT_TYPE=local through its real path: a streamed LLM reply (the local fake OpenAI-compatible
// server, pieces cut mid-word) → sentences → real flite in workers, words timed by its phones.
const fake = await FakeOpenAiCompatible.start();
fake.chat = () => ({ deltas: ['The mu', 'seum opens at nine, ', 'and it cl', 'oses at six. Par', 'king is free', ' behind the buil', 'ding.'] });
const server = await startServer({ AGENT_TYPE: 'local', LOCAL_LLM_URL: fake.url, LOCAL_LLM_MODEL: 'fake-llm' });
t.teardown(async () => {
  await server.stop();
  await fake.close();
});

t.test('a streamed reply: one word per delta, timed by the voice', async (t) => {
  const client = await WidgetClient.connect(server.url());
  await client.waitType('config');
  client.send({ type: 'text', data: 'When is the museum open?' });
  const done = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 60_000);
  const seen = turnSeen(client, done);
  checkTurnTranscript(t, seen, { audioTolerance: 0.15 });
  t.equal(seen.done.text, 'The museum opens at nine, and it closes at six. Parking is free behind the building.');
  const types = client.types();
  t.ok(types.indexOf('transcript_delta') < types.indexOf('sync_frame'), 'words go out as their sentence is spoken, before the frames play');
  await client.close();
});
