import t from 'tap';
import { createCanvas, loadImage } from '@napi-rs/canvas';
import { startServer } from './helpers/server-process.js';
import { FakeRemoteAgent, syntheticSpeech } from './helpers/fake-remote-agent.js';
import { JsonWsClient } from './helpers/json-ws-client.js';

const agent = await FakeRemoteAgent.start();
const server = await startServer({ AGENT_TYPE: 'remote', AGENT_URL: agent.url, FRAME_STREAM_IDLE_TIMEOUT_S: '8' });
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

t.test('plain GET / still serves the demo page', async (t) => {
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type') ?? '', /text\/html/);
});

t.test('text in → stream_start, 25 FPS JPEG frames with the spoken audio once, stream_end', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established');
  const hello = client.received[0]!.msg;
  t.same(hello.stream_config, { frame_rate: 25, width: 640, height: 480, audio_sample_rate: 16000, frame_format: 'jpeg' });
  t.match(hello.session_id, /^[0-9a-f-]{36}$/);
  // 0.9 s of speech, then 0.6 s of silence: 1.5 s of agent audio at 24 kHz.
  const pcm = syntheticSpeech(1.5, { pauseAt: [0.9, 1.5] });
  agent.onText = (up) => void agent.speak(up, pcm, { words: ['hello', 'there'] });
  client.send({ type: 'text_input', text: 'hi avatar' });
  const startIdx = await client.waitType('stream_start', 15_000);
  const endIdx = await client.waitType('stream_end', 15_000, startIdx);
  const start = client.received[startIdx]!.msg;
  t.equal(start.total_frames, 38, '1.5 s at 25 FPS, rounded up');
  t.equal(start.frame_rate, 25);
  t.equal(start.original_input, 'hi avatar');
  t.equal(start.estimated_duration, 38 / 25);
  const frames = client.received.slice(startIdx + 1, endIdx).filter((r) => r.msg.type === 'frame');
  t.equal(frames.length, 38);
  t.ok(frames.every((f, k) => f.msg.frame_index === k && (f.msg.progress as { total_frames: number }).total_frames === 38), 'contiguous frames');
  t.ok(frames.every((f, k) => (k % 5 === 0) === (f.msg.audio_data !== null)), 'audio on every 5th frame');
  const audio = Buffer.concat(frames.filter((f) => f.msg.audio_data).map((f) => Buffer.from(f.msg.audio_data as string, 'base64')));
  t.ok(Math.abs(audio.length - 1.5 * 16000 * 2) <= 4, `audio totals the spoken 1.5 s (${audio.length} bytes)`);
  t.equal(Buffer.from(frames[0]!.msg.audio_data as string, 'base64').length, 6400, '200 ms chunks');
  const spanMs = frames[37]!.at - frames[0]!.at;
  t.ok(spanMs > 37 * 40 * 0.75 && spanMs < 37 * 40 * 1.5, `frames paced at 25 FPS (${spanMs.toFixed(0)} ms for 37 intervals)`);
  const end = client.received[endIdx]!.msg;
  t.equal(end.total_frames, 38);
  t.ok((end.actual_duration as number) >= 1.5 && (end.actual_duration as number) < 2.5, `actual_duration ${end.actual_duration}`);
  const first = await loadImage(Buffer.from(frames[0]!.msg.frame_data as string, 'base64'));
  t.equal(first.width, 640);
  t.equal(first.height, 480);
  // Mouth: speech frames move it; frames in the pause look like each other.
  const speech = await Promise.all([8, 10, 12, 14, 16].map((k) => grayMouth(frames[k]!.msg.frame_data as string)));
  const silent = await Promise.all([32, 35].map((k) => grayMouth(frames[k]!.msg.frame_data as string)));
  const silentSpread = diff(silent[0]!, silent[1]!);
  const speechVsSilent = Math.max(...speech.map((s) => diff(s, silent[0]!)));
  t.ok(speechVsSilent > silentSpread + 2, `mouth region differs: speech ${speechVsSilent.toFixed(2)} vs silence ${silentSpread.toFixed(2)}`);
  agent.onText = null;
  await client.close();
});

t.test('audio_input (raw 16 kHz PCM and a WAV file) reaches the agent at its input rate', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established');
  const before = agent.sessions.length;
  const pcm16 = Buffer.alloc(16000 * 2 * 0.5); // 0.5 s
  client.send({ type: 'audio_input', audio: pcm16.toString('base64') });
  const up = await agent.waitFor(() => agent.sessions.length > before && agent.sessions[agent.sessions.length - 1]);
  await agent.waitFor(() => up.received.some((m) => m.type === 'audio_commit'));
  const sent = up.received.filter((m) => m.type === 'audio').reduce((n, m) => n + Buffer.from(m.data as string, 'base64').length, 0);
  t.ok(Math.abs(sent - 24000 * 2 * 0.5) <= 8, `0.5 s resampled to 24 kHz (${sent} bytes)`);
  // WAV at 8 kHz.
  const data = Buffer.alloc(8000 * 2 * 0.25);
  const wav = Buffer.alloc(44 + data.length);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + data.length, 4); wav.write('WAVE', 8); wav.write('fmt ', 12);
  wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(1, 22); wav.writeUInt32LE(8000, 24);
  wav.writeUInt32LE(16000, 28); wav.writeUInt16LE(2, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(data.length, 40);
  data.copy(wav, 44);
  const commits = up.received.filter((m) => m.type === 'audio_commit').length;
  client.send({ type: 'audio_input', audio: wav.toString('base64') });
  await agent.waitFor(() => up.received.filter((m) => m.type === 'audio_commit').length > commits);
  await client.close();
});

t.test('bad input gets error {message, timestamp}; the connection stays', async (t) => {
  const client = await JsonWsClient.connect(url);
  await client.waitType('connection_established');
  const bad: unknown[] = ['not json', { type: 'nope' }, { type: 'text_input' }, { type: 'audio_input', audio: '***' }, { type: 'audio_input', audio: Buffer.from([1, 2, 3]).toString('base64') }];
  let from = 1;
  for (const b of bad) {
    client.send(b);
    const i = await client.waitType('error', 5000, from);
    const e = client.received[i]!.msg;
    t.type(e.message, 'string');
    t.match(e.timestamp, /^\d{4}-\d\d-\d\dT/);
    from = i + 1;
  }
  t.equal(client.closeCode, null, 'still open');
  await client.close();
});

t.test('a silent client (no messages, no pongs) is closed after the idle timeout', async (t) => {
  const client = await JsonWsClient.connect(url, { autoPong: false });
  await client.waitType('connection_established');
  const code = await Promise.race([client.closed, new Promise<string>((r) => setTimeout(() => r('still open'), 25_000))]);
  t.not(code, 'still open', `closed with ${code}`);
});
