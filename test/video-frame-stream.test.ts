import t from 'tap';
import { readFileSync } from 'node:fs';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { startServer } from './helpers/server-process.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { JsonWsClient } from './helpers/json-ws-client.js';

// Real servers, ONNX and ffmpeg on a shared 2-core machine: under load this file may take
// minutes. Every wait below is for a positive signal; this only bounds a hang.
t.setTimeout(600_000);

const agent = await FakeRemoteAgent.start();
const MAX_AUDIO_S = 5;
const server = await startServer({
  AGENT_TYPE: 'remote', AGENT_URL: agent.url, FRAME_STREAM_MAX_AUDIO_S: String(MAX_AUDIO_S), VIDEO_MAX_SESSIONS: '50',
  LOG_LEVEL: 'debug', // 'window inferred' lines: what each inference window read
}, 180_000); // a loaded machine may take long to load the model; this only bounds a failure
t.teardown(async () => {
  await server.stop();
  await agent.close();
});
const url = `ws://127.0.0.1:${server.port}/`;

async function grayMouth(b64: string): Promise<Float32Array> {
  const img = await loadImage(Buffer.from(b64, 'base64'));
  const c = createCanvas(img.width, img.height);
  const ctx = c.getContext('2d');
  ctx.drawImage(img, 0, 0);
  // The mouth of the built-in face at 640×480: face square 480 px wide from x = 80.
  const d = ctx.getImageData(250, 320, 140, 100).data;
  const out = new Float32Array(140 * 100);
  for (let i = 0; i < out.length; i++) out[i] = (d[i * 4]! + d[i * 4 + 1]! + d[i * 4 + 2]!) / 3;
  return out;
}
const diff = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;
/** Waits here are for positive signals; the long timeouts only bound a failure on a loaded machine. */
const SLOW_MS = 60_000;

function serverThreads(): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${server.proc.pid}/status`, 'utf8'))![1]);
}
const workerStarted = (sessionId: unknown) => server.logs.some((l) => l.msg === 'frame-stream video worker started' && l.sessionId === sessionId);

function wav(dataBytes: number, h: { rate?: number; channels?: number; bits?: number; declared?: number } = {}): Buffer {
  const channels = h.channels ?? 1;
  const rate = h.rate ?? 16_000;
  const bits = h.bits ?? 16;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0); b.writeUInt32LE(36 + dataBytes, 4); b.write('WAVE', 8); b.write('fmt ', 12);
  b.writeUInt32LE(16, 16); b.writeUInt16LE(1, 20); b.writeUInt16LE(channels, 22); b.writeUInt32LE(rate >>> 0, 24);
  b.writeUInt32LE((rate * channels * (bits / 8)) >>> 0, 28); b.writeUInt16LE((channels * bits) / 8, 32); b.writeUInt16LE(bits, 34);
  b.write('data', 36); b.writeUInt32LE((h.declared ?? dataBytes) >>> 0, 40);
  return b;
}

/** text in → a whole stream out: the session works. */
async function streamsAResponse(client: JsonWsClient): Promise<number> {
  agent.onText = (up) => void agent.speak(up, syntheticSpeech(0.4));
  const from = client.received.length;
  client.send({ type: 'text_input', text: 'are you still there' });
  const start = await client.waitType('stream_start', SLOW_MS, from);
  const end = await client.waitType('stream_end', SLOW_MS, start);
  agent.onText = null;
  return client.received.slice(start, end).filter((r) => r.msg.type === 'frame').length;
}

// First in the file: no other session's worker is starting or stopping while threads are counted.
t.test('an idle connection holds no thread and no agent connection; the first input starts them', async (t) => {
  const threadsBefore = serverThreads();
  const upstreamBefore = agent.sessions.length;
  const clients = await Promise.all(Array.from({ length: 5 }, () => JsonWsClient.connect(url)));
  await Promise.all(clients.map((c) => c.waitType('connection_established', SLOW_MS)));
  const ids = clients.map((c) => c.received[0]!.msg.session_id);
  t.ok(serverThreads() - threadsBefore < 5, `5 idle connections: ${serverThreads() - threadsBefore} more server threads (a worker each before)`);
  t.equal(agent.sessions.length, upstreamBefore, 'no agent connection for an idle client');
  t.notOk(ids.some(workerStarted), 'no video worker for an idle client');
  t.ok((await streamsAResponse(clients[0]!)) > 0, 'the first input streams');
  t.ok(workerStarted(ids[0]), 'its worker started on demand');
  t.equal(agent.sessions.length, upstreamBefore + 1, 'and its agent connection');
  t.notOk(ids.slice(1).some(workerStarted), 'the others still have none');
  await Promise.all(clients.map((c) => c.close()));
});

t.test('hostile audio_input gets INVALID_AUDIO before any work; the session keeps working', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established', SLOW_MS);
  const id = client.received[0]!.msg.session_id;
  const upstreamBefore = agent.sessions.length;
  // The report's 1,161-byte WAV claiming 1 Hz (old code: 9.6 M samples of resampling).
  const hostile: Array<[string, Buffer]> = [
    ['1 Hz', wav(1117, { rate: 1 })],
    ['4 GHz', wav(640, { rate: 4_000_000_000 })],
    ['0 Hz', wav(640, { rate: 0 })],
    ['255 channels', wav(1020, { channels: 255 })],
    ['8-bit', wav(640, { bits: 8 })],
    ['32-bit', wav(640, { bits: 32 })],
    ['size lie', wav(640, { declared: 1 << 30 })],
    ['truncated', wav(640).subarray(0, 30)],
    [`raw PCM over ${MAX_AUDIO_S} s`, Buffer.alloc(16_000 * 2 * (MAX_AUDIO_S + 1))],
    [`WAV over ${MAX_AUDIO_S} s`, wav(8000 * 2 * (MAX_AUDIO_S + 1), { rate: 8000 })],
  ];
  for (const [what, bytes] of hostile) {
    const from = client.received.length;
    client.send({ type: 'audio_input', audio: bytes.toString('base64') });
    const i = await client.waitType('error', SLOW_MS, from);
    const e = client.received[i]!.msg;
    t.equal(e.code, 'INVALID_AUDIO', `${what}: ${e.message}`);
    t.match(e.message, /audio/);
  }
  t.equal(agent.sessions.length, upstreamBefore, 'nothing reached the agent: it was not even connected');
  t.notOk(workerStarted(id), 'no video worker was started for refused audio');
  t.ok((await streamsAResponse(client)) > 0, 'the session still streams a response');
  t.equal(client.closeCode, null, 'still open');
  await client.close();
});

t.test('plain GET / still serves the demo page', async (t) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/html/);
});

t.test('text in → stream_start, 25 FPS JPEG frames with the spoken audio once, stream_end', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established', SLOW_MS);
  const hello = client.received[0]!.msg;
  t.same(hello.stream_config, { frame_rate: 25, width: 640, height: 480, audio_sample_rate: 16000, frame_format: 'jpeg' });
  t.match(hello.session_id, /^[0-9a-f-]{36}$/);
  // 0.9 s of speech, then 0.6 s of silence: 1.5 s of agent audio at 24 kHz.
  const pcm = syntheticSpeech(1.5, { pauseAt: [0.9, 1.5] });
  agent.onText = (up) => void agent.speak(up, pcm, { words: ['hello', 'there'] });
  client.send({ type: 'text_input', text: 'hi avatar' });
  const startIdx = await client.waitType('stream_start', SLOW_MS);
  const endIdx = await client.waitType('stream_end', SLOW_MS, startIdx);
  const start = client.received[startIdx]!.msg;
  t.equal(start.total_frames, 38, '1.5 s at 25 FPS, rounded up');
  t.equal(start.frame_rate, 25);
  t.equal(start.original_input, 'hi avatar');
  t.equal(start.estimated_duration, 38 / 25);
  const frames = client.received.slice(startIdx + 1, endIdx).filter((r) => r.msg.type === 'frame');
  t.equal(frames.length, 38);
  t.equal(client.binaryMessages, 0, 'every message, frames included, is a JSON text frame (PROTOCOL.md)');
  t.ok(frames.every((f, k) => f.msg.frame_index === k && (f.msg.progress as { total_frames: number }).total_frames === 38), 'contiguous frames');
  t.ok(frames.every((f, k) => (k % 5 === 0) === (f.msg.audio_data !== null)), 'audio on every 5th frame');
  const audio = Buffer.concat(frames.filter((f) => f.msg.audio_data).map((f) => Buffer.from(f.msg.audio_data as string, 'base64')));
  t.ok(Math.abs(audio.length - 1.5 * 16000 * 2) <= 4, `audio totals the spoken 1.5 s (${audio.length} bytes)`);
  t.equal(Buffer.from(frames[0]!.msg.audio_data as string, 'base64').length, 6400, '200 ms chunks');
  // Pacing (25 FPS on the wall clock) is a timing property: measured in bench/, not asserted here.
  t.comment(`frames span ${(frames[37]!.at - frames[0]!.at).toFixed(0)} ms for 37 intervals`);
  const end = client.received[endIdx]!.msg;
  t.equal(end.total_frames, 38);
  t.ok((end.actual_duration as number) >= 38 / 25, `actual_duration ${end.actual_duration} covers the frames as played`);
  const first = await loadImage(Buffer.from(frames[0]!.msg.frame_data as string, 'base64'));
  t.equal(first.width, 640);
  t.equal(first.height, 480);
  // Mouth: speech frames move it; frames in the pause look like each other.
  const speech = await Promise.all([8, 10, 12, 14, 16].map((k) => grayMouth(frames[k]!.msg.frame_data as string)));
  const silent = await Promise.all([32, 35].map((k) => grayMouth(frames[k]!.msg.frame_data as string)));
  const silentSpread = diff(silent[0]!, silent[1]!);
  const speechVsSilent = Math.max(...speech.map((s) => diff(s, silent[0]!)));
  t.ok(speechVsSilent > silentSpread + 2, `mouth region differs: speech ${speechVsSilent.toFixed(2)} vs silence ${silentSpread.toFixed(2)}`);
  // The whole answer was in before the first window: every window but the last read the 100 ms
  // after it (INFERENCE_RIGHT_CONTEXT_MS), so its last frames are not computed against silence.
  const windows = server.logs.filter((l) => l.msg === 'window inferred' && l.sessionId === hello.session_id);
  t.same(windows.map((w) => w.rightMs), [...Array<number>(windows.length - 1).fill(100), 0], `${windows.length} windows: right context ${windows.map((w) => w.rightMs).join(', ')} ms`);
  t.ok(windows.length >= 3, 'several windows');
  agent.onText = null;
  await client.close();
});

t.test('audio_input (raw 16 kHz PCM and a WAV file) reaches the agent at its input rate', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established', SLOW_MS);
  const before = agent.sessions.length;
  const pcm16 = Buffer.alloc(16000 * 2 * 0.5); // 0.5 s
  client.send({ type: 'audio_input', audio: pcm16.toString('base64') });
  const up = await agent.waitFor(() => agent.sessions.length > before && agent.sessions[agent.sessions.length - 1], SLOW_MS);
  await agent.waitFor(() => up.received.some((m) => m.type === 'audio_commit'), SLOW_MS);
  const sent = up.received.filter((m) => m.type === 'audio').reduce((n, m) => n + Buffer.from(m.data as string, 'base64').length, 0);
  t.ok(Math.abs(sent - 24000 * 2 * 0.5) <= 8, `0.5 s resampled to 24 kHz (${sent} bytes)`);
  // WAV at 8 kHz.
  const wav8k = wav(8000 * 2 * 0.25, { rate: 8000 });
  const commits = up.received.filter((m) => m.type === 'audio_commit').length;
  client.send({ type: 'audio_input', audio: wav8k.toString('base64') });
  await agent.waitFor(() => up.received.filter((m) => m.type === 'audio_commit').length > commits, SLOW_MS);
  const sentAfter = up.received.filter((m) => m.type === 'audio').reduce((n, m) => n + Buffer.from(m.data as string, 'base64').length, 0);
  t.ok(Math.abs(sentAfter - sent - 24000 * 2 * 0.25) <= 8, `0.25 s of 8 kHz WAV resampled to 24 kHz (${sentAfter - sent} bytes)`);
  // Stereo 48 kHz WAV: downmixed and resampled.
  const stereo = wav(48_000 * 4 * 0.5, { rate: 48_000, channels: 2 });
  const commits2 = up.received.filter((m) => m.type === 'audio_commit').length;
  client.send({ type: 'audio_input', audio: stereo.toString('base64') });
  await agent.waitFor(() => up.received.filter((m) => m.type === 'audio_commit').length > commits2, SLOW_MS);
  const sentStereo = up.received.filter((m) => m.type === 'audio').reduce((n, m) => n + Buffer.from(m.data as string, 'base64').length, 0) - sentAfter;
  t.ok(Math.abs(sentStereo - 24000 * 2 * 0.5) <= 8, `0.5 s of stereo 48 kHz → mono 24 kHz (${sentStereo} bytes)`);
  await client.close();
});

t.test('bad input gets error {message, timestamp}; the connection stays', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established', SLOW_MS);
  const bad: unknown[] = ['not json', { type: 'nope' }, { type: 'text_input' }, { type: 'audio_input', audio: '***' }, { type: 'audio_input', audio: Buffer.from([1, 2, 3]).toString('base64') }];
  let from = 1;
  for (const b of bad) {
    client.send(b);
    const i = await client.waitType('error', SLOW_MS, from);
    const e = client.received[i]!.msg;
    t.type(e.message, 'string');
    t.type(e.code, 'string', `coded: ${e.code}`);
    t.match(e.timestamp, /^\d{4}-\d\d-\d\dT/);
    from = i + 1;
  }
  t.equal(client.closeCode, null, 'still open');
  await client.close();
});

t.test('a silent client (no messages, no pongs) is closed after the idle timeout', async (t) => {
  // Its own server with a short idle timeout: on the shared one, a client starved of CPU for
  // 8 s (a loaded machine) would miss a pong and be closed in the middle of another test.
  const quick = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, FRAME_STREAM_IDLE_TIMEOUT_S: '8' }, 180_000);
  t.teardown(() => quick.stop());
  const client = await JsonWsClient.connect(`ws://127.0.0.1:${quick.port}/`, { autoPong: false });
  await client.waitType('connection_established', SLOW_MS);
  const code = await Promise.race([client.closed, new Promise<string>((r) => setTimeout(() => r('still open'), SLOW_MS))]);
  t.not(code, 'still open', `closed with ${code}`);
});
