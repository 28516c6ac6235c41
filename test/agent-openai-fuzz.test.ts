import t from 'tap';
import { checkErrorsCoded, expectExactAudio, openAIRealtimeServer, pingPong } from './helpers/fake-services.js';
import { WidgetClient } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { RealtimeConn } from './helpers/fake-openai-realtime.js';
import { fuzzMessages } from './helpers/message-fuzz.js';

/**
 * Agent-message fuzzer for OpenAI Realtime (issue 13): thousands of well-formed and mutated server
 * events over the fake's TLS WebSocket into a real server with a real ONNX pool. The server never
 * exits, the session stays open, every error the client gets is coded and free of the key, and
 * the next turn plays exactly.
 */
const API_KEY = 'sk-fuzz-0123456789abcdefSECRETopenaiKEY';
const MESSAGES = 2000;
const BATCH = 250;
const { fake, server } = await openAIRealtimeServer(t, {
  OPENAI_API_KEY: API_KEY,
});

const pcm = syntheticSpeech(0.1, { seed: 5 }).toString('base64');
const ids = { response_id: 'resp_f1', item_id: 'item_f1', output_index: 0, content_index: 0 };
const call = { id: 'item_fc', type: 'function_call', status: 'completed', call_id: 'call_f1', name: 'trigger_confetti', arguments: '{"intensity":"low"}' };
/** One of each server event the agent acts on, as the service sends them. */
const samples = [
  { type: 'response.created', event_id: 'e1', response: { id: 'resp_f1', object: 'realtime.response', status: 'in_progress', output: [] } },
  { type: 'response.output_audio.delta', event_id: 'e2', ...ids, delta: pcm },
  { type: 'response.audio.delta', event_id: 'e3', ...ids, delta: pcm },
  { type: 'response.output_audio_transcript.delta', event_id: 'e4', ...ids, delta: 'Hello ' },
  { type: 'conversation.item.added', event_id: 'e5', previous_item_id: 'item_u1', item: { id: 'item_f1', type: 'message', role: 'assistant' } },
  { type: 'response.output_item.added', event_id: 'e6', response_id: 'resp_f1', output_index: 1, item: { ...call, status: 'in_progress', arguments: '' } },
  { type: 'response.function_call_arguments.done', event_id: 'e7', response_id: 'resp_f1', item_id: 'item_fc', output_index: 1, call_id: 'call_f1', name: 'trigger_confetti', arguments: '{"intensity":"low"}' },
  { type: 'response.done', event_id: 'e8', response: { id: 'resp_f1', object: 'realtime.response', status: 'completed', output: [call] } },
  { type: 'response.done', event_id: 'e9', response: { id: 'resp_f2', status: 'failed', status_details: { type: 'failed', error: { type: 'server_error', code: 'server_error', message: 'The server had an error' } }, output: [] } },
  { type: 'response.done', event_id: 'e10', response: { id: 'resp_f3', status: 'incomplete', status_details: { type: 'incomplete', reason: 'max_output_tokens' }, output: [] } },
  { type: 'input_audio_buffer.speech_started', event_id: 'e11', audio_start_ms: 100, item_id: 'item_u2' },
  { type: 'conversation.item.input_audio_transcription.delta', event_id: 'e12', item_id: 'item_u2', content_index: 0, delta: 'Hi' },
  { type: 'conversation.item.input_audio_transcription.completed', event_id: 'e13', item_id: 'item_u2', content_index: 0, transcript: 'Hi there' },
  { type: 'conversation.item.input_audio_transcription.failed', event_id: 'e14', item_id: 'item_u3', content_index: 0, error: { type: 'transcription_error', code: 'audio_unintelligible', message: 'Audio could not be transcribed' } },
  { type: 'error', event_id: 'e15', error: { type: 'invalid_request_error', code: 'invalid_value', message: 'Something was wrong', param: null, event_id: null } },
  { type: 'rate_limits.updated', event_id: 'e16', rate_limits: [{ name: 'tokens', limit: 1000, remaining: 900, reset_seconds: 1.5 }] },
];

const connect = (): Promise<{ client: WidgetClient; conn: RealtimeConn }> => fake.connectWidget(server.url());


t.test(`${MESSAGES} fuzzed server events: the server stays up, errors are coded, the next turn works`, async (t) => {
  const t0 = performance.now();
  const { client, conn } = await connect();
  let batch = 0;
  for (const m of fuzzMessages(samples, { seed: 13, count: MESSAGES, maxStringBytes: 16 * 1024 })) {
    if (typeof m.data === 'string') conn.send(m.data);
    else conn.ws.send(m.data, { binary: true });
    if (++batch % BATCH === 0) {
      // The session's thread still answers, and the upstream socket is still the same one.
      await pingPong(client);
      t.equal(server.proc.exitCode, null, `server up after ${batch} events`);
    }
  }
  // Upstream events are handled in order: once this one reaches the client, all of the above were handled.
  conn.send({ type: 'conversation.item.input_audio_transcription.completed', event_id: 'barrier', item_id: 'item_b', content_index: 0, transcript: 'fuzz barrier' });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'user' && m.text === 'fuzz barrier', 20_000);
  t.equal(client.closed, null, 'session still open');
  t.equal(fake.conns.length, 1, 'never reconnected: the upstream socket was never dropped');

  const errs = checkErrorsCoded(t, client, ['AGENT_ERROR'], API_KEY);
  t.ok(errs.some((e) => e.code === 'AGENT_ERROR'), 'upstream errors and failed responses reached the client');

  t.comment(`${MESSAGES} events handled in ${Math.round(performance.now() - t0)} ms`);
  // The next turn: typed text, answered by a clean response, played exactly.
  const mark = client.received.length;
  const from = conn.received.length;
  client.send({ type: 'text', data: 'are you all right?' });
  await fake.waitFor(() => conn.received.slice(from).find((e) => e.type === 'response.create' && !e.refused), 15_000);
  const answer = syntheticSpeech(0.5, { seed: 21 });
  const start = client.received.length;
  void fake.speak(conn, answer, { words: ['Perfectly', 'fine.'] });
  await expectExactAudio(t, client, start, answer);
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Perfectly fine.', 10_000, mark);
  await client.close();

  // And a new session works too.
  const second = await connect();
  void fake.speak(second.conn, syntheticSpeech(0.2), { words: ['Hi.'] });
  await second.client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Hi.', 10_000);
  await second.client.close();
  t.notOk(server.output().includes(API_KEY), 'no key in the server output');
});
