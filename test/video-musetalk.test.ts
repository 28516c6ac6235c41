import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import { JsonWsClient } from './helpers/json-ws-client.js';
import { isKeyframe } from '../src/video/annexb.js';

const FFMPEG = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
const server = await startServer({ LOG_LEVEL: 'debug', MUSETALK_PING_INTERVAL_S: '1' });
const shortIdle = await startServer({ MUSETALK_IDLE_TIMEOUT_S: '2' });
t.teardown(async () => {
  await server.stop();
  await shortIdle.stop();
});

/** ffmpeg processes whose parent is the server process. */
function ffmpegChildren(s: ServerProcess): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === s.proc.pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('ffmpeg')) pids.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}
const alive = (pid: number) => existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

async function waitGone(pids: number[], ms = 5000): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (pids.every((p) => !alive(p))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function init(s: ServerProcess, user = 'user_1'): Promise<{ client: JsonWsClient; sid: string }> {
  const client = await JsonWsClient.connect(`ws://127.0.0.1:${s.port}/musetalk/v1/ws/${user}`);
  client.send({ type: 'INIT', session_id: 'client-chosen', data: { user_id: user, video_config: { resolution: '512x512', fps: 25 } } });
  const i = await client.waitType('INIT_SUCCESS');
  const m = client.received[i]!.msg;
  // The encoder is up once the first frame arrives.
  await client.waitType('VIDEO_FRAME', 10_000, i);
  return { client, sid: m.session_id as string };
}

const frames = (c: JsonWsClient) => c.received.filter((r) => r.msg.type === 'VIDEO_FRAME').map((r) => r.msg.data as { frame_data: string; frame_timestamp: number });

/** Decode Annex-B with ffmpeg to 512×512 gray frames. */
function decode(stream: Buffer): { frames: Buffer[]; info: string } {
  const r = spawnSync(FFMPEG, ['-hide_banner', '-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], { input: stream, maxBuffer: 512 << 20 });
  const size = 512 * 512;
  const out: Buffer[] = [];
  for (let at = 0; at + size <= r.stdout.length; at += size) out.push(r.stdout.subarray(at, at + size));
  return { frames: out, info: r.stderr.toString() };
}

function mouth(frame: Buffer): Float32Array {
  // The built-in face's mouth at 512×512 (face units × 1.28).
  const out: number[] = [];
  for (let y = 340; y < 430; y++) for (let x = 196; x < 316; x++) out.push(frame[y * 512 + x]!);
  return Float32Array.from(out);
}

t.test('INIT → INIT_SUCCESS and a continuous 25 FPS H.264 512×512 stream; a decoder can join at a keyframe', async (t) => {
  const { client, sid } = await init(server);
  const ok = client.received.find((r) => r.msg.type === 'INIT_SUCCESS')!.msg;
  t.match(sid, /^[0-9a-f-]{36}$/);
  t.same(ok.data, { model_loaded: true, available_videos: ['default'], default_video: 'default', streaming_started: true });
  const stats = (await (await fetch(`http://127.0.0.1:${server.port}/stats`)).json()) as { videoSessions: { museTalk: number } };
  t.ok(stats.videoSessions.museTalk >= 1, 'video sessions are counted in /stats');
  t.match(await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text(), /^avatar_video_sessions_musetalk [1-9]/m, 'and in /metrics');
  await client.waitFor(() => frames(client).length >= 60, 10_000);
  const f = frames(client);
  t.equal(f[0]!.frame_timestamp, 0, 'frame 0 at 0 ms');
  const steps = f.slice(1).map((x, k) => x.frame_timestamp - f[k]!.frame_timestamp);
  t.ok(steps.every((d) => d > 0 && d % 40 === 0), 'frame_timestamp = frame number × 40, increasing');
  const gaps = steps.filter((d) => d !== 40).length;
  t.comment(`${gaps} gaps (idle frames dropped under load) in ${steps.length} steps`);
  t.ok(gaps <= steps.length * 0.05, 'timestamps advance by 40 ms');
  const aus = f.map((x) => Buffer.from(x.frame_data, 'base64'));
  t.ok(isKeyframe(aus[0]!), 'first frame is an IDR');
  t.ok(isKeyframe(aus[25]!) && !isKeyframe(aus[24]!), 'one IDR per second');
  const all = decode(Buffer.concat(aus));
  t.match(all.info, /Video: h264.*512x512/, 'ffmpeg sees H.264 512x512');
  t.equal(all.frames.length, aus.length, 'every access unit decodes to a frame');
  const joined = decode(Buffer.concat(aus.slice(25)));
  t.equal(joined.frames.length, aus.length - 25, 'decoding from the second keyframe works');
  t.ok(client.received.some((r) => r.msg.type === 'PING' && r.msg.session_id === sid), 'PING');
  await client.close();
});

t.test('a GENERATE burst of N chunks yields N lip-synced frames', async (t) => {
  const { client, sid } = await init(server);
  await client.waitFor(() => frames(client).length >= 10);
  // 24 kHz test speech → 16 kHz by taking 2 of every 3 samples (good enough for a test signal).
  const s24 = syntheticSpeech(1.2);
  const s16 = Buffer.alloc(Math.floor(s24.length / 3) * 2);
  for (let i = 0, j = 0; j + 1 < s16.length / 2; i += 3, j += 2) {
    s16.writeInt16LE(s24.readInt16LE(i * 2), j * 2);
    s16.writeInt16LE(s24.readInt16LE((i + 1) * 2), (j + 1) * 2);
  }
  const N = 25;
  const logFrom = server.logs.length;
  for (let k = 0; k < N; k++) {
    const data = s16.subarray(k * 1280, (k + 1) * 1280).toString('base64');
    client.send({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { format: 'pcm_s16le', sample_rate: 16000, channels: 1, duration_ms: 40, data } } });
  }
  let played: Record<string, unknown> | undefined;
  const deadline = performance.now() + 10_000;
  while (!played && performance.now() < deadline) {
    played = server.logs.slice(logFrom).find((l) => l.msg === 'musetalk speech segment played');
    await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(played, 'speech segment played');
  t.equal(played!.frames, N, `${N} chunks → ${N} frames`);
  const first = played!.firstFrame as number;
  const last = played!.lastFrame as number;
  t.equal(last - first + 1, N, 'consecutive frames');
  await client.waitFor(() => frames(client).length > last + 15, 10_000);
  const aus = frames(client).map((x) => Buffer.from(x.frame_data, 'base64'));
  const dec = decode(Buffer.concat(aus)).frames;
  // Open mouth = dark pixels (the mouth's inside) in the mouth region; idle frames keep it shut.
  const dark = (f: Float32Array) => f.reduce((n, v) => n + (v < 70 ? 1 : 0), 0);
  const idle = Math.max(dark(mouth(dec[first - 3]!)), dark(mouth(dec[last + 12]!)));
  const speech = Math.max(...[first + 4, first + 8, first + 12, first + 16].map((k) => dark(mouth(dec[k]!))));
  t.ok(speech > idle * 2 + 100, `mouth opens with speech (${speech} dark pixels vs ${idle} idle)`);
  await client.close();
});

t.test('ERROR codes, STATE_CHANGE, ACTION', async (t) => {
  const early = await JsonWsClient.connect(`ws://127.0.0.1:${server.port}/musetalk/v1/ws/u2`);
  early.send({ type: 'GENERATE', session_id: 'x', data: { audio_chunk: { data: 'AAAAAA==' } } });
  let i = await early.waitType('ERROR');
  t.equal((early.received[i]!.msg.data as { code: string }).code, 'INVALID_SESSION', 'GENERATE before INIT');
  await early.close();

  const { client, sid } = await init(server, 'u3');
  const expect = async (msg: unknown, code: string, what: string) => {
    const from = client.received.length;
    client.send(msg);
    const at = await client.waitType('ERROR', 5000, from);
    t.equal((client.received[at]!.msg.data as { code: string }).code, code, what);
  };
  await expect('{not json', 'INVALID_MESSAGE', 'invalid JSON');
  await expect({ type: 'DANCE', session_id: sid, data: {} }, 'INVALID_MESSAGE', 'unknown type');
  await expect({ type: 'ACTION', session_id: 'someone-else', data: { action_index: 1 } }, 'INVALID_SESSION', 'wrong session_id');
  await expect({ type: 'ACTION', session_id: sid, data: { action_index: 3 } }, 'INVALID_MESSAGE', 'bad action_index');
  await expect({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { data: '%%%%' } } }, 'INVALID_MESSAGE', 'bad base64');
  await expect({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { sample_rate: 44100, data: 'AAAA' } } }, 'INVALID_MESSAGE', 'wrong sample rate');
  await expect({ type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'speaking', base_video: 'nope' } }, 'MODEL_NOT_FOUND', 'unknown video');
  await expect({ type: 'INIT', session_id: sid, data: { user_id: 'u3' } }, 'INVALID_MESSAGE', 'second INIT');
  let from = client.received.length;
  client.send({ type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'action', base_video: 'default' } });
  i = await client.waitType('STATE_CHANGED', 5000, from);
  t.same(client.received[i]!.msg.data, { current_state: 'action', current_video: 'default' });
  from = client.received.length;
  client.send({ type: 'ACTION', session_id: sid, data: { action_index: 2 } });
  i = await client.waitType('ACTION_TRIGGERED', 5000, from);
  t.same(client.received[i]!.msg.data, { action_index: 2, inserted: true });
  t.equal(client.closeCode, null, 'errors never close the session');
  await client.close();
});

t.test('a bad user_id is closed with 1003', async (t) => {
  for (const id of ['bad$id', 'a'.repeat(65), 'a/b']) {
    const c = await JsonWsClient.connect(`ws://127.0.0.1:${server.port}/musetalk/v1/ws/${id}`);
    t.equal(await c.closed, 1003, id);
  }
});

t.test('CLOSE, disconnect and idle timeout leave no ffmpeg behind', async (t) => {
  const a = await init(server, 'closer');
  const pidsA = ffmpegChildren(server);
  t.ok(pidsA.length >= 1, 'an encoder runs per session');
  a.client.send({ type: 'CLOSE', session_id: a.sid, data: {} });
  const i = await a.client.waitType('CLOSE_ACK');
  t.same(a.client.received[i]!.msg.data, { reason: 'client_request' });
  await a.client.closed;
  t.ok(await waitGone(pidsA), 'CLOSE: encoder gone');

  const b = await init(server, 'dropper');
  const pidsB = ffmpegChildren(server);
  b.client.ws.terminate();
  t.ok(await waitGone(pidsB), 'disconnect: encoder gone');

  const c = await init(shortIdle, 'sleeper');
  const pidsC = ffmpegChildren(shortIdle);
  const at = await c.client.waitType('CLOSE_ACK', 8000);
  t.same(c.client.received[at]!.msg.data, { reason: 'timeout' });
  await c.client.closed;
  t.ok(await waitGone(pidsC), 'timeout: encoder gone');

  const d = await init(shortIdle, 'shutdown');
  const pidsD = ffmpegChildren(shortIdle);
  t.ok(pidsD.length >= 1);
  await shortIdle.stop();
  t.ok(d.client.received.some((r) => r.msg.type === 'CLOSE_ACK' && (r.msg.data as { reason: string }).reason === 'server_shutdown'), 'CLOSE_ACK server_shutdown');
  t.ok(await waitGone(pidsD), 'server shutdown: encoder gone');
});
