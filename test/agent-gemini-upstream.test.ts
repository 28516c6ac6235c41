import t from 'tap';
import { geminiLiveServer } from './helpers/fake-services.js';
import { WidgetClient, frameAudio, syncFrames, type Msg } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { LiveConn } from './helpers/fake-gemini-live.js';

/**
 * Gemini Live as untrusted upstream (issue 13 item 1) and the behaviours reference users rely on
 * (issue 16): goAway between turns, an expired resumption handle dropped after one failure,
 * generationComplete, toolCallCancellation.
 */
const API_KEY = 'AIzaUPSTREAM0123456789SECRETgeminiKEY';
const { fake, server } = await geminiLiveServer(t, {
  GEMINI_API_KEY: API_KEY,
});

const connect = (): Promise<{ client: WidgetClient; conn: LiveConn }> => fake.connectWidget(server.url());

const errors = (client: WidgetClient): Msg[] => client.received.map((r) => r.msg).filter((m) => m.type === 'error');
const logLine = (text: string): Promise<Record<string, unknown>> =>
  fake.waitFor(() => server.logs.find((l) => typeof l.msg === 'string' && l.msg.includes(text)), 10_000);

/** One whole turn on `conn`; resolves when the client has its transcript. */
async function turnWorks(client: WidgetClient, conn: LiveConn, word: string): Promise<void> {
  const mark = client.received.length;
  void fake.speak(conn, syntheticSpeech(0.3), { words: [word] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === word, 10_000, mark);
}

t.test('frames the Gemini SDK would throw on do not stop the server', async (t) => {
  // Sent before the SDK has even sent its setup (its session object does not exist yet).
  fake.onConnect = (c) => {
    c.send({ setupComplete: {} });
    c.send({ serverContent: { inputTranscription: { text: 'Early words', finished: true } } });
  };
  const { client, conn } = await connect();
  fake.onConnect = null;
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user' && m.text === 'Early words');
  // `text` and `data` are getters of the SDK's message class: Object.assign onto it threw.
  conn.send('{"text":"hello"}');
  conn.send('{"data":1,"serverContent":{"turnComplete":true}}');
  conn.send('{"__proto__":{"serverContent":{"interrupted":true}}}');
  conn.send('{"toString":1,"constructor":{"prototype":{"x":1}}}');
  conn.send(`{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":${'['.repeat(100_000)}${']'.repeat(100_000)}}}]}}}`);
  await turnWorks(client, conn, 'Alive.');
  t.equal(server.proc.exitCode, null, 'server still running');
  t.equal(client.closed, null, 'session still open');
  await client.close();
});

t.test('wrongly typed or unusable fields are ignored: no noise, no unknown actions', async (t) => {
  const { client, conn } = await connect();
  // Not base64: Buffer.from would have decoded it into noise.
  conn.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: 'QUJD\nRA==!!' } }] } } });
  conn.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: { toString: 1 }, data: 'AAAA' } }] } } });
  conn.send({ toolCall: { functionCalls: [{ id: 'fx1', name: 'delete_everything', args: {} }, { id: { a: 1 }, name: ['trigger_confetti'] }] } });
  conn.send({ sessionResumptionUpdate: { newHandle: { toString: 1 }, resumable: 'yes' } });
  conn.send({ goAway: 'soon' });
  const pcm = syntheticSpeech(0.3);
  void fake.speak(conn, pcm, { words: ['Fine.'] });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000);
  const audio = frameAudio(syncFrames(client, 0, end));
  t.equal(audio.length, Math.ceil(pcm.length / 1600) * 1600, 'one turn, of the good audio only');
  t.ok(audio.subarray(0, pcm.length).equals(pcm), 'no noise from unusable audio');
  t.notOk(client.received.some((r) => r.msg.type === 'trigger_action'), 'no action for an undeclared tool');
  t.same(errors(client), []);
  await client.close();
});

t.test('goAway mid-response: the response plays out whole, then a resumed reconnect between turns', async (t) => {
  const { client, conn } = await connect();
  conn.send({ sessionResumptionUpdate: { newHandle: 'handle-go', resumable: true } });
  const pcm = syntheticSpeech(1.5);
  const first = pcm.subarray(0, 24_000);
  await fake.speak(conn, first, { words: ['Half'], noEnd: true });
  const before = fake.conns.length;
  fake.goAway(conn, '30s');
  await logLine('goAway');
  await fake.speak(conn, pcm.subarray(first.length), { words: ['way.'] });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 15_000);
  t.ok(frameAudio(syncFrames(client, 0, end)).subarray(0, pcm.length).equals(pcm), 'every byte of the response played');
  const again = await fake.waitFor(() => fake.conns[before], 10_000);
  await fake.waitFor(() => again.setup);
  t.match(again.setup, { sessionResumption: { handle: 'handle-go' } }, 'the conversation is resumed');
  t.not(conn.ws.readyState, conn.ws.OPEN, 'the old connection is closed');
  await turnWorks(client, again, 'Moved.');
  t.same(errors(client), [], 'the client is not bothered');
  await client.close();
});

t.test('goAway while idle: reconnect at once', async (t) => {
  const { client, conn } = await connect();
  const before = fake.conns.length;
  fake.goAway(conn);
  const again = await fake.waitFor(() => fake.conns[before], 10_000);
  await fake.waitFor(() => again.setup);
  await turnWorks(client, again, 'Here.');
  t.same(errors(client), []);
  await client.close();
});

t.test('an expired resumption handle is dropped after its first failure', async (t) => {
  const { client, conn } = await connect();
  conn.send({ sessionResumptionUpdate: { newHandle: 'handle-old', resumable: true } });
  fake.expiredHandles.add('handle-old');
  await turnWorks(client, conn, 'First.'); // the update was handled before this turn
  const before = fake.conns.length;
  conn.ws.close(1011, 'Internal error');
  const refused = await fake.waitFor(() => fake.conns[before], 10_000);
  await fake.waitFor(() => refused.setup);
  t.match(refused.setup, { sessionResumption: { handle: 'handle-old' } }, 'first tried with the handle');
  const fresh = await fake.waitFor(() => fake.conns[before + 1], 10_000);
  await fake.waitFor(() => fresh.setup);
  t.notOk((fresh.setup!.sessionResumption as Msg | undefined)?.handle, 'then a new conversation, without it');
  await turnWorks(client, fresh, 'Again.');
  t.equal(fake.conns.length, before + 2, 'no further attempts');
  t.equal(client.closed, null, 'the session survived');
  t.notOk(errors(client).some((e) => (e.message as string).includes('could not be restored')), 'no fatal error');
  await client.close();
});

t.test('generationComplete: later audio of that turn is dropped, late transcription still counts', async (t) => {
  const { client, conn } = await connect();
  const pcm = syntheticSpeech(0.6);
  await fake.speak(conn, pcm, { words: ['All'], noEnd: true });
  conn.send({ serverContent: { generationComplete: true } });
  conn.send({ serverContent: { modelTurn: { parts: [{ inlineData: { mimeType: 'audio/pcm;rate=24000', data: syntheticSpeech(0.4, { seed: 9 }).toString('base64') } }] } } });
  conn.send({ serverContent: { outputTranscription: { text: ' done.' } } });
  conn.send({ serverContent: { turnComplete: true } });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000);
  const audio = frameAudio(syncFrames(client, 0, end));
  t.equal(syncFrames(client, 0, end).length, Math.ceil(pcm.length / 1600), 'only the audio generated before generationComplete');
  t.ok(audio.subarray(0, pcm.length).equals(pcm));
  t.match(client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'assistant')!.msg, { text: 'All done.' });
  await client.close();
});

t.test('toolCallCancellation is logged; a cancelled call arriving late is not triggered', async (t) => {
  const { client, conn } = await connect();
  conn.send({ toolCall: { functionCalls: [{ id: 'fc9', name: 'trigger_confetti', args: { intensity: 'high' } }] } });
  await client.waitType('trigger_action');
  conn.send({ toolCallCancellation: { ids: ['fc9', 'fc10', 7, { x: 1 }] } });
  conn.send({ toolCallCancellation: { ids: 'fc9' } });
  conn.send({ toolCallCancellation: 5 });
  const line = await logLine('cancelled tool calls');
  t.same(line.ids, ['fc9', 'fc10']);
  conn.send({ toolCall: { functionCalls: [{ id: 'fc10', name: 'trigger_confetti', args: {} }] } }); // cancelled before it came
  conn.send({ toolCall: { functionCalls: [{ id: 'fc9', name: 'trigger_confetti', args: {} }] } }); // a repeat
  conn.send({ toolCall: { functionCalls: [{ id: 'fc11', name: 'trigger_confetti', args: { intensity: 'low' } }] } });
  await client.waitFor((m) => m.type === 'trigger_action' && (m.arguments as Msg).intensity === 'low');
  t.equal(client.received.filter((r) => r.msg.type === 'trigger_action').length, 2, 'fc9 once, fc10 never, fc11');
  await turnWorks(client, conn, 'Confetti.');
  await client.close();
});

t.test('the API key never appears in the server output', async (t) => {
  const out = server.output();
  t.ok(out.length > 0);
  t.notOk(out.includes(API_KEY), 'no key in logs');
  t.notOk(out.includes('SECRETgeminiKEY'));
});
