import t from 'tap';
import { openAIRealtimeServer } from './helpers/fake-services.js';
import { WidgetClient, frameAudio, syncFrames } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { RealtimeConn } from './helpers/fake-openai-realtime.js';

const API_KEY = 'sk-test-0123456789abcdefSECRETopenaiKEY';
const { fake, server } = await openAIRealtimeServer(t, {
  OPENAI_API_KEY: API_KEY,
  OPENAI_MODEL: 'gpt-realtime-test',
  OPENAI_VOICE: 'marin',
  OPENAI_VOICE_SPEED: '1.2',
  OPENAI_TRANSCRIPTION_MODEL: 'gpt-4o-mini-transcribe',
  OPENAI_TRANSCRIPTION_LANGUAGE: 'en',
  OPENAI_TURN_DETECTION: 'server_vad',
  OPENAI_VAD_THRESHOLD: '0.7',
  OPENAI_VAD_SILENCE_DURATION_MS: '450',
  OPENAI_VAD_PREFIX_PADDING_MS: '250',
  OPENAI_NOISE_REDUCTION: 'far_field',
  ASSISTANT_INSTRUCTIONS: 'You are Nyx, a test avatar.',
});

const connect = (): Promise<{ client: WidgetClient; conn: RealtimeConn }> => fake.connectWidget(server.url());


t.test('session.update carries every configured setting', async (t) => {
  const { client, conn } = await connect();
  t.equal(conn.model, 'gpt-realtime-test', 'model in the URL');
  t.equal(conn.authorization, `Bearer ${API_KEY}`, 'key sent as a bearer token');
  t.equal(conn.betaHeader, undefined, 'GA interface (no OpenAI-Beta header)');
  const update = conn.received.find((e) => e.type === 'session.update')!;
  t.match(update.session, {
    type: 'realtime',
    instructions: 'You are Nyx, a test avatar.',
    output_modalities: ['audio'],
    audio: {
      input: {
        format: { type: 'audio/pcm', rate: 24000 },
        transcription: { model: 'gpt-4o-mini-transcribe', language: 'en' },
        noise_reduction: { type: 'far_field' },
        turn_detection: { type: 'server_vad', threshold: 0.7, silence_duration_ms: 450, prefix_padding_ms: 250, interrupt_response: true, create_response: true },
      },
      output: { format: { type: 'audio/pcm', rate: 24000 }, voice: 'marin', speed: 1.2 },
    },
    tool_choice: 'auto',
  });
  const tools = (update.session as { tools: Array<Record<string, unknown>> }).tools;
  t.match(tools, [{ type: 'function', name: 'trigger_confetti', parameters: { type: 'object' } }]);
  t.same(client.received[0]!.msg, { type: 'config', audio: { inputSampleRate: 24000, outputSampleRate: 24000 } });
  await client.close();
});

t.test('a spoken turn: exactly the provider audio, transcripts both ways, mic audio upstream', async (t) => {
  const { client, conn } = await connect();
  const pcm = Buffer.concat([syntheticSpeech(1.3), Buffer.alloc(77 * 2)]);
  const mic = syntheticSpeech(0.1, { seed: 7 });
  client.send({ type: 'audio_stream_start' });
  client.send({ type: 'audio', data: mic.toString('base64') });
  const append = await fake.waitEvent(conn, 'input_audio_buffer.append');
  t.equal(append.audio, mic.toString('base64'), 'microphone PCM forwarded as is');

  conn.send({ type: 'input_audio_buffer.speech_started', event_id: 'v1', audio_start_ms: 0, item_id: 'item_user1' });
  conn.send({ type: 'input_audio_buffer.speech_stopped', event_id: 'v2', audio_end_ms: 900, item_id: 'item_user1' });
  conn.send({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'v3', item_id: 'item_user1', content_index: 0, transcript: 'Hello avatar' });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user');
  t.match(client.received.find((r) => r.msg.type === 'transcript_done')!.msg, { text: 'Hello avatar', role: 'user', turnId: /^user_\d+$/ });

  void fake.speak(conn, pcm, { words: ['Hi', 'there,', 'friend.'] });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 15_000);
  const got = syncFrames(client, 0, end);
  t.equal(got.length, Math.ceil(pcm.length / 1600), 'one frame per 1/30 s');
  const audio = frameAudio(got);
  t.ok(audio.subarray(0, pcm.length).equals(pcm), 'frames carry exactly the provider audio');
  t.ok(audio.subarray(pcm.length).every((b) => b === 0), 'then zero padding only');
  const done = client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'assistant')!.msg;
  t.equal(done.text, 'Hi there, friend.');
  const words = client.received.filter((r) => r.msg.type === 'transcript_delta').map((r) => r.msg.text);
  t.same(words, ['Hi', 'there,', 'friend.']);
  await client.close();
});

t.test('beta event names are understood too', async (t) => {
  const { client, conn } = await connect();
  const pcm = syntheticSpeech(0.5);
  client.send({ type: 'text', data: 'hello' });
  const item = await fake.waitEvent(conn, 'conversation.item.create');
  t.match(item.item, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] });
  await fake.waitEvent(conn, 'response.create');
  void fake.speak(conn, pcm, { words: ['Beta', 'works.'], beta: true });
  const end = await client.waitFor((m) => m.type === 'audio_end', 10_000);
  t.ok(frameAudio(syncFrames(client, 0, end)).subarray(0, pcm.length).equals(pcm));
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Beta works.');
  await client.close();
});

t.test('barge-in: interrupt, response.cancel and truncate to the audio the client got', async (t) => {
  const { client, conn } = await connect();
  client.send({ type: 'text', data: 'talk' });
  await fake.waitEvent(conn, 'response.create');
  const from = conn.received.length;
  void fake.speak(conn, syntheticSpeech(3), { responseId: 'resp_long', itemId: 'item_long', words: ['one', 'two', 'three'], noDone: true });
  await client.waitFor(() => syncFrames(client).length >= 12, 10_000);
  conn.send({ type: 'input_audio_buffer.speech_started', event_id: 'v9', audio_start_ms: 3000, item_id: 'item_user2' });
  const i = await client.waitType('interrupt', 5000);
  const interrupt = client.received[i]!.msg;
  t.ok((interrupt.offsetMs as number) >= 12 * (1000 / 30) - 1, `offsetMs ${interrupt.offsetMs}`);
  const cancel = await fake.waitEvent(conn, 'response.cancel', from);
  t.equal(cancel.response_id, 'resp_long');
  const truncate = await fake.waitEvent(conn, 'conversation.item.truncate', from);
  t.match(truncate, { item_id: 'item_long', content_index: 0 });
  t.ok(Math.abs((truncate.audio_end_ms as number) - (interrupt.offsetMs as number)) <= 1, `audio_end_ms ${truncate.audio_end_ms} = offsetMs ${interrupt.offsetMs}`);
  // Audio the service still had in flight for the cancelled response never reaches the client.
  conn.send({ type: 'response.output_audio.delta', event_id: 'late', response_id: 'resp_long', item_id: 'item_long', output_index: 0, content_index: 0, delta: syntheticSpeech(0.5).toString('base64') });
  conn.send({ type: 'response.done', event_id: 'late2', response: { id: 'resp_long', status: 'cancelled', output: [] } });
  // A fresh response after the late events, on the same upstream socket: once it has played, the
  // late events have been handled too (no fixed wait); it must be the only turn after the interrupt.
  void fake.speak(conn, syntheticSpeech(0.3), { words: ['Next.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Next.', 10_000, i + 1);
  t.equal(client.received.slice(i + 1).filter((r) => r.msg.type === 'audio_start').length, 1, 'no new turn from the cancelled response');
  await client.close();
});

t.test('client interrupt after response.done: truncate only, capped to the audio received', async (t) => {
  const { client, conn } = await connect();
  client.send({ type: 'text', data: 'talk' });
  await fake.waitEvent(conn, 'response.create');
  const from = conn.received.length;
  await fake.speak(conn, syntheticSpeech(2), { itemId: 'item_done' });
  await client.waitFor(() => syncFrames(client).length >= 10, 10_000);
  client.send({ type: 'interrupt' });
  const i = await client.waitType('interrupt', 5000);
  const truncate = await fake.waitEvent(conn, 'conversation.item.truncate', from);
  t.match(truncate, { item_id: 'item_done', content_index: 0 });
  t.ok(Math.abs((truncate.audio_end_ms as number) - (client.received[i]!.msg.offsetMs as number)) <= 1);
  // A cancel would leave before the truncate on the same socket (cancelResponse sends it first),
  // so having the truncate means having seen everything: no wait needed.
  t.notOk(conn.received.slice(from).some((e) => e.type === 'response.cancel'), 'no cancel for a finished response');
  await client.close();
});

t.test('tool calls reach the client as trigger_action; the output goes back and the model continues', async (t) => {
  const { client, conn } = await connect();
  const from = conn.received.length;
  const callId = fake.callFunction(conn, 'trigger_confetti', '{"intensity":"high"}');
  const i = await client.waitType('trigger_action');
  t.match(client.received[i]!.msg, { type: 'trigger_action', function_name: 'trigger_confetti', arguments: { intensity: 'high' }, timestamp: Number });
  const output = await fake.waitEvent(conn, 'conversation.item.create', from);
  t.match(output.item, { type: 'function_call_output', call_id: callId });
  t.match(JSON.parse((output.item as { output: string }).output), { status: 'triggered' });
  await fake.waitEvent(conn, 'response.create', from);
  // The follow-up response speaks. It comes after the call's done events on the same socket, so
  // once it has played those were all handled (no fixed wait).
  const pcm = syntheticSpeech(0.4);
  void fake.speak(conn, pcm, { words: ['Confetti!'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Confetti!', 10_000);
  t.equal(client.received.filter((r) => r.msg.type === 'trigger_action').length, 1, 'one action per call (done + item.done + response.done deduplicated)');
  t.equal(client.received.filter((r) => r.msg.type === 'avatar_state' && r.msg.state === 'Responding').length, 1, 'a call without speech is no turn (only the follow-up is)');
  await client.close();
});

t.test('bad and unknown upstream events are ignored; upstream errors reach the client without secrets', async (t) => {
  const { client, conn } = await connect();
  for (const raw of ['not json', '{}', 'null', '[1,2]', '42', '{"type":7}', '{"type":"totally.unknown","x":1}',
    '{"type":"response.output_audio.delta","delta":123}', '{"type":"response.done","response":"nope"}',
    '{"type":"response.function_call_arguments.done","call_id":"c1"}', '{"type":"response.created"}',
    '{"type":"conversation.item.input_audio_transcription.completed","transcript":{}}']) {
    conn.send(raw);
  }
  conn.ws.send(Buffer.from([1, 2, 3]), { binary: true });
  conn.send({ type: 'error', event_id: 'err1', error: { type: 'invalid_request_error', code: 'invalid_api_key', message: `Incorrect API key provided: ${API_KEY}. Check it.` } });
  const i = await client.waitType('error');
  const err = client.received[i]!.msg;
  t.equal(err.code, 'AGENT_ERROR');
  t.match(err.message, /Incorrect API key provided/);
  t.notMatch(err.message, API_KEY, 'the key is not echoed to the client');
  t.notMatch(err.message, /SECRET/);
  // Still fully working.
  client.send({ type: 'text', data: 'still there?' });
  await fake.waitEvent(conn, 'response.create');
  const pcm = syntheticSpeech(0.4);
  void fake.speak(conn, pcm, { words: ['Yes.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Yes.', 10_000);
  t.equal(client.closed, null, 'session still open');
  await client.close();
});

t.test('upstream disconnect: error to the client, reconnect, configured again, next turn works', async (t) => {
  const { client, conn } = await connect();
  const before = fake.conns.length;
  conn.ws.terminate();
  const i = await client.waitType('error', 5000);
  t.match(client.received[i]!.msg, { code: 'AGENT_DISCONNECTED', message: /reconnecting/ });
  const again = await fake.waitFor(() => fake.conns[before], 10_000);
  await fake.waitEvent(again, 'session.update');
  client.send({ type: 'text', data: 'are you back?' });
  await fake.waitEvent(again, 'response.create');
  const pcm = syntheticSpeech(0.5);
  void fake.speak(again, pcm, { words: ['Back.'] });
  const end = await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Back.', 10_000);
  t.ok(frameAudio(syncFrames(client, i, end)).subarray(0, pcm.length).equals(pcm), 'the new connection\'s audio plays');
  t.equal(client.closed, null);
  await client.close();
});

t.test('a refused connection: AGENT_UNAVAILABLE and the session closes', async (t) => {
  fake.rejectNext = 401;
  const client = await WidgetClient.connect(server.url());
  await client.waitFor((m) => m.type === 'error' && m.code === 'AGENT_UNAVAILABLE', 10_000);
  await new Promise<void>((resolve) => (client.closed ? resolve() : client.ws.once('close', () => resolve())));
  t.equal(client.closed?.code, 1011);
});

t.test('the API key never appears in the server output', async (t) => {
  await server.stop(); // the whole output, shutdown included (teardown's stop is then a no-op)
  const out = server.output();
  t.ok(out.length > 0);
  t.notOk(out.includes(API_KEY), 'no key in logs');
  t.notOk(out.includes('SECRETopenaiKEY'), 'no part of it either');
});
