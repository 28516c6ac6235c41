import t, { type Test } from 'tap';
import { openAIRealtimeServer } from './helpers/fake-services.js';
import { WidgetClient, frameAudio, syncFrames, type Msg } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { RealtimeConn } from './helpers/fake-openai-realtime.js';

/**
 * OpenAI Realtime as untrusted upstream (issue 13 item 1) and the behaviours reference users rely
 * on (issue 16): typed text during a silent response, failed / incomplete responses, failed user
 * transcription, item ids in transcripts.
 */
const API_KEY = 'sk-test-upstream0123456789SECRETopenaiKEY';
const { fake, server } = await openAIRealtimeServer(t, {
  OPENAI_API_KEY: API_KEY,
  OPENAI_MODEL: 'gpt-realtime-test',
});

const connect = (): Promise<{ client: WidgetClient; conn: RealtimeConn }> => fake.connectWidget(server.url());

const errors = (client: WidgetClient, from = 0): Msg[] => client.received.slice(from).map((r) => r.msg).filter((m) => m.type === 'error');

/** The client asks something and the fake answers it with `words` as soon as the create is accepted. */
async function answerNextCreate(t: Test, client: WidgetClient, conn: RealtimeConn, text: string, words: string[]): Promise<number> {
  const from = conn.received.length;
  const mark = client.received.length;
  client.send({ type: 'text', data: text });
  const create = await fake.waitFor(() => conn.received.slice(from).find((e) => e.type === 'response.create' && !e.refused), 10_000);
  t.ok(create, 'an accepted response.create');
  void fake.speak(conn, syntheticSpeech(0.3), { words });
  return client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === words.join(' '), 10_000, mark);
}

t.test('events the openai client library would throw on do not stop the server', async (t) => {
  const { client, conn } = await connect();
  // Each of these threw inside the library's socket handler (template string of an error object,
  // dispatch through a plain object keyed by `type`), an uncaught exception: every client got 1006.
  conn.send({ type: 'error', event_id: 'e1', error: { type: 'server_error', message: { toString: 1 } } });
  conn.send('{"type":"toString"}');
  conn.send('{"type":"__proto__","x":1}');
  conn.send('{"type":"constructor"}');
  conn.send({ type: 'error', event_id: 'e2', error: { code: { toString: 1 }, message: { valueOf: 1 }, type: [] } });
  conn.send({ type: 'error', event_id: 'e3', error: 'just a string' });
  const i = await client.waitType('error', 10_000);
  t.match(client.received[i]!.msg, { code: 'AGENT_ERROR', message: 'OpenAI Realtime: unknown error' }, 'an error object with an unusable message is still reported');
  await client.waitFor(() => errors(client).length >= 3, 10_000);
  t.same(errors(client).map((e) => e.message), ['OpenAI Realtime: unknown error', 'OpenAI Realtime: unknown error', 'OpenAI Realtime: just a string']);
  t.equal(server.proc.exitCode, null, 'server still running');
  t.equal(client.closed, null, 'session still open');
  await answerNextCreate(t, client, conn, 'still there?', ['Yes.']);
  await client.close();
});

t.test('wrongly typed or unusable fields are ignored: no noise, no unknown actions', async (t) => {
  const { client, conn } = await connect();
  conn.send({ type: 'response.created', event_id: 'b1', response: { id: 'resp_bad', status: 'in_progress', output: [] } });
  // Not base64: Buffer.from would have decoded it into noise.
  conn.send({ type: 'response.output_audio.delta', event_id: 'b2', response_id: 'resp_bad', item_id: 'item_bad', delta: 'QUJD\nRA==!!' });
  conn.send({ type: 'response.output_audio.delta', event_id: 'b3', response_id: { id: 1 }, item_id: 7, delta: ['AAAA'] });
  conn.send({ type: 'response.output_audio_transcript.delta', event_id: 'b4', response_id: 'resp_bad', delta: { toString: 1 } });
  // A tool we never declared, and a declared one with absurd arguments.
  conn.send({ type: 'response.function_call_arguments.done', event_id: 'b5', response_id: 'resp_bad', call_id: 'call_x', name: 'delete_everything', arguments: '{}' });
  conn.send({ type: 'response.function_call_arguments.done', event_id: 'b6', response_id: 'resp_bad', call_id: 'call_y', name: 'x'.repeat(100_000), arguments: '{}' });
  conn.send({ type: 'response.function_call_arguments.done', event_id: 'b7', response_id: 'resp_bad', call_id: 'call_z', name: 'trigger_confetti', arguments: `${'['.repeat(50_000)}${']'.repeat(50_000)}` });
  conn.send({ type: 'response.done', event_id: 'b8', response: { id: 'resp_bad', status: 'completed', output: [] } });
  const i = await client.waitType('trigger_action', 10_000);
  t.same(client.received[i]!.msg.function_name, 'trigger_confetti', 'only the declared tool reaches the client');
  t.same(client.received[i]!.msg.arguments, {}, 'arguments that are not an object become {}');
  // The model goes on after the tool output (the follow-up response.create), and speaks.
  await fake.waitEvent(conn, 'response.create');
  const mark = client.received.length;
  void fake.speak(conn, syntheticSpeech(0.3), { words: ['Hello.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Hello.', 10_000);
  t.equal(client.received.filter((r) => r.msg.type === 'trigger_action').length, 1, 'one action in all');
  t.notOk(client.received.slice(0, mark).some((r) => r.msg.type === 'audio_start' || r.msg.type === 'avatar_state'), 'no turn from unusable audio');
  await client.close();
});

t.test('typed text while a response exists but has no audio yet: cancelled first, the user gets an answer', async (t) => {
  const { client, conn } = await connect();
  // Server VAD started a response for something the user said; it has produced nothing yet.
  conn.send({ type: 'response.created', event_id: 'v1', response: { id: 'resp_vad', status: 'in_progress', output: [] } });
  // Events are handled in order: once the client has the user's transcript, the server knows the response.
  conn.send({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'v2', item_id: 'item_u', content_index: 0, transcript: 'Hmm' });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user');
  const from = conn.received.length;
  const done = await answerNextCreate(t, client, conn, 'what time is it?', ['Noon.']);
  const events = conn.received.slice(from);
  const cancel = events.findIndex((e) => e.type === 'response.cancel');
  t.match(events[cancel], { type: 'response.cancel', response_id: 'resp_vad' }, 'the silent response is cancelled');
  t.ok(cancel < events.findIndex((e) => e.type === 'response.create'), 'before the new response.create');
  t.notOk(events.some((e) => e.refused), 'OpenAI never had to refuse a response.create');
  t.same(errors(client), [], 'no AGENT_ERROR');
  t.ok(done > 0);
  await client.close();
});

t.test('a response.create refused because a response became active meanwhile is sent again, silently', async (t) => {
  const { client, conn } = await connect();
  let raced = false;
  fake.onEvent = (c, ev) => {
    if (c !== conn || ev.type !== 'response.create' || raced) return;
    // Server VAD created a response just before our create arrived: the service refuses ours.
    raced = true;
    ev.refused = true;
    c.send({ type: 'response.created', event_id: 'r1', response: { id: 'resp_race', status: 'in_progress', output: [] } });
    c.send({ type: 'error', event_id: 'r2', error: { type: 'invalid_request_error', code: 'conversation_already_has_active_response', message: 'Conversation already has an active response in progress: resp_race.', param: null, event_id: null } });
  };
  t.teardown(() => {
    fake.onEvent = null;
  });
  await answerNextCreate(t, client, conn, 'tell me a joke', ['Knock', 'knock.']);
  t.ok(raced);
  t.match(conn.received.find((e) => e.type === 'response.cancel'), { response_id: 'resp_race' }, 'the silent racing response is cancelled');
  t.same(errors(client), [], 'the refusal never reaches the client');
  await client.close();
});

t.test('response.done failed: the client is told why, and the next turn works', async (t) => {
  const { client, conn } = await connect();
  client.send({ type: 'text', data: 'hello' });
  await fake.waitEvent(conn, 'response.create');
  fake.failResponse(conn, 'failed', { type: 'failed', error: { type: 'insufficient_quota', code: 'insufficient_quota', message: 'You exceeded your current quota, please check your plan and billing details.' } });
  const i = await client.waitType('error', 10_000);
  t.match(client.received[i]!.msg, { code: 'AGENT_ERROR', message: /response failed: You exceeded your current quota/ });
  await answerNextCreate(t, client, conn, 'again?', ['Fine.']);
  await client.close();
});

t.test('response.done incomplete: what arrived plays out, the turn ends, the client is told why', async (t) => {
  const { client, conn } = await connect();
  client.send({ type: 'text', data: 'say something risky' });
  await fake.waitEvent(conn, 'response.create');
  const pcm = syntheticSpeech(0.6);
  void fake.speak(conn, pcm, { words: ['Well,'], status: 'incomplete', statusDetails: { type: 'incomplete', reason: 'content_filter' } });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 10_000);
  t.ok(frameAudio(syncFrames(client, 0, end)).subarray(0, pcm.length).equals(pcm), 'the audio received plays');
  const done = client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'assistant');
  t.equal(done?.msg.text, 'Well,');
  await client.waitFor((m) => m.type === 'error', 10_000);
  t.match(errors(client)[0], { code: 'AGENT_ERROR', message: 'OpenAI Realtime response incomplete: content_filter' });
  await answerNextCreate(t, client, conn, 'ok', ['Sure.']);
  await client.close();
});

t.test('failed user transcription is logged, without secrets', async (t) => {
  const { client, conn } = await connect();
  conn.send({ type: 'conversation.item.input_audio_transcription.failed', event_id: 'tf1', item_id: 'item_user9', content_index: 0, error: { type: 'transcription_error', code: 'audio_unintelligible', message: `Audio could not be transcribed (key ${API_KEY})` } });
  const line = await fake.waitFor(() => server.logs.find((l) => typeof l.msg === 'string' && l.msg.includes('could not transcribe the user')), 10_000);
  t.match(line, { itemId: 'item_user9', code: 'audio_unintelligible', msg: /Audio could not be transcribed/ });
  t.notMatch(String(line.msg), API_KEY);
  t.same(errors(client), [], 'not an error for the client');
  await client.close();
});

t.test('item ids reach the client in transcripts', async (t) => {
  const { client, conn } = await connect();
  conn.send({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'u1', item_id: 'item_user1', content_index: 0, transcript: 'Hi there' });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user');
  t.match(client.received.find((r) => r.msg.role === 'user')!.msg, { text: 'Hi there', itemId: 'item_user1' });
  void fake.speak(conn, syntheticSpeech(0.5), { itemId: 'item_reply1', previousItemId: 'item_user1', words: ['Hello', 'you.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant', 10_000);
  const deltas = client.received.filter((r) => r.msg.type === 'transcript_delta').map((r) => r.msg);
  t.equal(deltas.length, 2);
  for (const d of deltas) t.match(d, { itemId: 'item_reply1', previousItemId: 'item_user1' });
  t.match(client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'assistant')!.msg, { text: 'Hello you.', itemId: 'item_reply1' });
  await client.close();
});

t.test('the API key never appears in the server output', async (t) => {
  const out = server.output();
  t.ok(out.length > 0);
  t.notOk(out.includes(API_KEY), 'no key in logs');
  t.notOk(out.includes('SECRETopenaiKEY'), 'no part of it either');
});
