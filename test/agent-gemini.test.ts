import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { geminiLiveServer } from './helpers/fake-services.js';
import { WidgetClient, frameAudio, syncFrames, type Msg } from './helpers/widget-client.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import type { LiveConn } from './helpers/fake-gemini-live.js';

const API_KEY = 'AIzaTEST0123456789SECRETgeminiKEY';
const dir = mkdtempSync(join(tmpdir(), 'gemini-test-'));
const kbFile = join(dir, 'kb.md');
writeFileSync(kbFile, 'Opening hours: the museum opens at 9 am.\n');
const toolsFile = join(dir, 'tools.json');
writeFileSync(toolsFile, JSON.stringify([{ name: 'show_map', description: 'Show the museum map', parameters: { type: 'object', properties: { floor: { type: 'integer' } }, required: ['floor'] } }]));

t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const { fake, server } = await geminiLiveServer(t, {
  GEMINI_API_KEY: API_KEY,
  GEMINI_VOICE: 'Kore',
  GEMINI_THINKING_BUDGET: '0',
  GEMINI_CONTEXT_WINDOW_COMPRESSION: 'true',
  GEMINI_CONTEXT_WINDOW_TRIGGER_TOKENS: '25000',
  GEMINI_CONTEXT_WINDOW_TARGET_TOKENS: '12000',
  GEMINI_VAD_START_SENSITIVITY: 'high',
  GEMINI_VAD_END_SENSITIVITY: 'END_SENSITIVITY_LOW',
  GEMINI_VAD_PREFIX_PADDING_MS: '120',
  GEMINI_VAD_SILENCE_DURATION_MS: '600',
  GEMINI_PROACTIVE_AUDIO: 'true',
  GEMINI_ENABLE_SEARCH: 'true',
  AGENT_TOOLS_FILE: toolsFile,
  KNOWLEDGE_BASE_SOURCE: kbFile,
  ASSISTANT_INSTRUCTIONS: 'You are Nyx, a museum guide.',
});

const connect = (): Promise<{ client: WidgetClient; conn: LiveConn }> => fake.connectWidget(server.url());


t.test('setup carries every configured setting; the widget is told 16 kHz', async (t) => {
  const { client, conn } = await connect();
  t.same(client.received[0]!.msg, { type: 'config', audio: { inputSampleRate: 16000, outputSampleRate: 24000 } });
  t.equal(conn.key, API_KEY, 'key sent the way the SDK sends it');
  t.equal(conn.apiVersion, 'v1alpha', 'proactive audio selects v1alpha');
  const setup = conn.setup!;
  t.match(setup, {
    model: 'models/gemini-live-test',
    generationConfig: {
      responseModalities: ['AUDIO'],
      speechConfig: { voiceConfig: { prebuiltVoiceConfig: { voiceName: 'Kore' } } },
      thinkingConfig: { thinkingBudget: 0 },
    },
    realtimeInputConfig: {
      automaticActivityDetection: {
        disabled: false, startOfSpeechSensitivity: 'START_SENSITIVITY_HIGH', endOfSpeechSensitivity: 'END_SENSITIVITY_LOW',
        prefixPaddingMs: 120, silenceDurationMs: 600,
      },
    },
    contextWindowCompression: { triggerTokens: '25000', slidingWindow: { targetTokens: '12000' } },
    proactivity: { proactiveAudio: true },
    inputAudioTranscription: {},
    outputAudioTranscription: {},
    sessionResumption: {},
  });
  const instructions = JSON.stringify(setup.systemInstruction);
  t.match(instructions, 'You are Nyx, a museum guide.');
  t.match(instructions, 'the museum opens at 9 am', 'knowledge base appended to the instructions');
  const tools = setup.tools as Array<Record<string, unknown>>;
  const names = (tools.find((x) => x.functionDeclarations)!.functionDeclarations as Array<{ name: string }>).map((d) => d.name);
  t.same(names, ['trigger_confetti', 'show_map'], 'built-in tool plus the tools file');
  t.ok(tools.some((x) => x.googleSearch), 'search grounding');
  await client.close();
});

t.test('a spoken turn: exactly the provider audio, 16 kHz mic upstream, transcripts both ways', async (t) => {
  const { client, conn } = await connect();
  const mic = syntheticSpeech(0.1, { seed: 3 }).subarray(0, 3200);
  client.send({ type: 'audio_stream_start' });
  client.send({ type: 'audio', data: mic.toString('base64') });
  const input = await fake.waitMessage(conn, 'realtimeInput');
  t.same(input.realtimeInput, { audio: { data: mic.toString('base64'), mimeType: 'audio/pcm;rate=16000' } });

  conn.send({ serverContent: { inputTranscription: { text: 'When do' } } });
  conn.send({ serverContent: { inputTranscription: { text: ' you open?' } } }, true);
  const pcm = Buffer.concat([syntheticSpeech(1.2), Buffer.alloc(51 * 2)]);
  void fake.speak(conn, pcm, { words: ['At', 'nine.'] });
  const end = await client.waitFor((m) => m.type === 'avatar_state' && m.state === 'Listening', 15_000);
  const user = client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'user');
  t.equal(user?.msg.text, 'When do you open?', 'user transcript, before the answer');
  const audio = frameAudio(syncFrames(client, 0, end));
  t.equal(syncFrames(client, 0, end).length, Math.ceil(pcm.length / 1600));
  t.ok(audio.subarray(0, pcm.length).equals(pcm), 'frames carry exactly the provider audio');
  t.ok(audio.subarray(pcm.length).every((b) => b === 0));
  const done = client.received.find((r) => r.msg.type === 'transcript_done' && r.msg.role === 'assistant')!.msg;
  t.equal(done.text, 'At nine.');

  client.send({ type: 'audio_stream_end' });
  const flush = await fake.waitFor(() => conn.received.find((m) => (m.realtimeInput as Msg | undefined)?.audioStreamEnd === true));
  t.ok(flush, 'mic close → audioStreamEnd');
  await client.close();
});

t.test('text input goes as client content', async (t) => {
  const { client, conn } = await connect();
  client.send({ type: 'text', data: 'hello' });
  const m = await fake.waitMessage(conn, 'clientContent');
  t.same(m.clientContent, { turns: [{ role: 'user', parts: [{ text: 'hello' }] }], turnComplete: true });
  await client.close();
});

t.test('serverContent.interrupted interrupts at once, not behind queued playback', async (t) => {
  const { client, conn } = await connect();
  await fake.speak(conn, syntheticSpeech(4), { words: ['one', 'two', 'three'], noEnd: true });
  await client.waitFor(() => syncFrames(client).length >= 10, 10_000);
  const sentAt = performance.now();
  conn.send({ serverContent: { interrupted: true } });
  const i = await client.waitType('interrupt', 5000);
  // Structure, not timing: the interrupt overtook the queued playback (4 s = 120 frames).
  const framesBefore = syncFrames(client, 0, i).length;
  t.ok(framesBefore < 90, `interrupt after ${framesBefore} of 120 frames (${(client.received[i]!.at - sentAt).toFixed(0)} ms), with most of the audio still queued`);
  await client.waitFor((m) => m.type === 'transcript_done' && m.interrupted === true, 2000, i);
  const after = client.received.slice(i).map((r) => r.msg).filter((m) => m.type !== 'sync_frame');
  t.match(after[1], { type: 'avatar_state', state: 'Listening' });
  t.match(after[2], { type: 'transcript_done', role: 'assistant', interrupted: true });
  conn.send({ serverContent: { turnComplete: true } });
  // The next turn plays normally.
  const pcm = syntheticSpeech(0.5);
  void fake.speak(conn, pcm, { words: ['Yes?'] });
  const end = await client.waitFor((m) => m.type === 'audio_end', 10_000, i);
  t.ok(frameAudio(syncFrames(client, i, end)).subarray(0, pcm.length).equals(pcm));
  await client.close();
});

t.test('client interrupt: the rest of the generating turn is dropped until Gemini ends it', async (t) => {
  const { client, conn } = await connect();
  await fake.speak(conn, syntheticSpeech(2), { noEnd: true });
  await client.waitFor(() => syncFrames(client).length >= 6, 10_000);
  client.send({ type: 'interrupt' });
  const i = await client.waitType('interrupt', 5000);
  await fake.speak(conn, syntheticSpeech(1), { words: ['stale'] }); // rest of the old turn, then turnComplete
  const pcm = syntheticSpeech(0.5);
  void fake.speak(conn, pcm, { words: ['Fresh.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Fresh.', 10_000, i + 1);
  // The fresh turn came after the stale audio on the same socket: once it played, the stale audio
  // was handled too, and it must not have made a turn of its own.
  t.equal(client.received.slice(i + 1).filter((r) => r.msg.type === 'audio_start').length, 1, 'no turn from the cancelled generation');
  await client.close();
});

t.test('tool calls reach the client as trigger_action and get a tool response', async (t) => {
  const { client, conn } = await connect();
  conn.send({ toolCall: { functionCalls: [{ id: 'fc1', name: 'trigger_confetti', args: { intensity: 'low' } }, { id: 'fc2', name: 'show_map', args: { floor: 2 } }] } });
  await client.waitFor(() => client.received.filter((r) => r.msg.type === 'trigger_action').length === 2);
  const actions = client.received.filter((r) => r.msg.type === 'trigger_action').map((r) => r.msg);
  t.match(actions, [{ function_name: 'trigger_confetti', arguments: { intensity: 'low' } }, { function_name: 'show_map', arguments: { floor: 2 } }]);
  const res = await fake.waitMessage(conn, 'toolResponse');
  t.match(res.toolResponse, { functionResponses: [{ id: 'fc1', name: 'trigger_confetti', response: { status: 'triggered' } }, { id: 'fc2', name: 'show_map' }] });
  await client.close();
});

t.test('bad and unknown upstream messages are ignored safely', async (t) => {
  const { client, conn } = await connect();
  for (const raw of ['not json', '[1]', 'null', '7', '{}', '{"unknownField":{"a":1}}', '{"serverContent":5}',
    '{"serverContent":{"modelTurn":{"parts":"x"}}}', '{"serverContent":{"modelTurn":{"parts":[{"inlineData":{"data":5}}]}}}',
    '{"toolCall":{"functionCalls":[{"args":{}}]}}', '{"serverContent":{"outputTranscription":{"text":7}}}']) {
    conn.send(raw, false);
  }
  conn.ws.send(Buffer.from([0xff, 0xfe, 0x00]), { binary: true });
  const pcm = syntheticSpeech(0.4);
  void fake.speak(conn, pcm, { words: ['Fine.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Fine.', 10_000);
  // The good turn came after the bad messages on the same socket, so they were all handled by now.
  t.notOk(client.received.some((r) => r.msg.type === 'trigger_action'), 'no action from the bad messages');
  t.equal(client.received.filter((r) => r.msg.type === 'avatar_state' && r.msg.state === 'Responding').length, 1, 'no turn from the bad messages (only the good one)');
  t.equal(client.closed, null);
  await client.close();
});

t.test('upstream disconnect: error to the client, resumed reconnect, next turn works', async (t) => {
  const { client, conn } = await connect();
  conn.send({ sessionResumptionUpdate: { newHandle: 'handle-123', resumable: true } });
  // A tool call after the update on the same socket: its trigger_action proves the update was handled.
  conn.send({ toolCall: { functionCalls: [{ id: 'fc-barrier', name: 'trigger_confetti', args: {} }] } });
  await client.waitType('trigger_action', 5000);
  const before = fake.conns.length;
  conn.ws.close(1011, `Internal error (key=${API_KEY})`);
  const i = await client.waitType('error', 5000);
  const err = client.received[i]!.msg;
  t.match(err, { code: 'AGENT_DISCONNECTED', message: /reconnecting/ });
  t.notMatch(err.message, API_KEY, 'no key in the client error');
  const again = await fake.waitFor(() => fake.conns[before], 10_000);
  await fake.waitFor(() => again.setup);
  t.match(again.setup, { sessionResumption: { handle: 'handle-123' } }, 'the conversation is resumed');
  const pcm = syntheticSpeech(0.5);
  void fake.speak(again, pcm, { words: ['Back.'] });
  await client.waitFor((m) => m.type === 'transcript_done' && m.role === 'assistant' && m.text === 'Back.', 10_000);
  t.equal(client.closed, null);
  await client.close();
});

t.test('the API key never appears in the server output', async (t) => {
  await server.stop(); // the whole output, shutdown included (teardown's stop is then a no-op)
  const out = server.output();
  t.ok(out.length > 0);
  t.notOk(out.includes(API_KEY), 'no key in logs');
  t.notOk(out.includes('SECRETgeminiKEY'));
});
