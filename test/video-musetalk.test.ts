import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { startServer, type ServerProcess } from './helpers/server-process.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';
import { JsonWsClient } from './helpers/json-ws-client.js';
import { Waiters } from './helpers/waiters.js';
import { isKeyframe } from '../src/video/annexb.js';

// Real servers, ONNX and ffmpeg on a shared 2-core machine: under load this file may take
// minutes. Every wait below is for a positive signal; this only bounds a hang.
t.setTimeout(600_000);

const FFMPEG = (createRequire(import.meta.url)('@ffmpeg-installer/ffmpeg') as { path: string }).path;
/** A loaded machine may take long to start a server (model load); this only bounds a failure. */
const START_MS = 180_000;
const server = await startServer({ LOG_LEVEL: 'debug', MUSETALK_PING_INTERVAL_S: '1', VIDEO_MAX_SESSIONS: '50' }, START_MS);
// One video session at a time: the cap is tested here too.
const shortIdle = await startServer({ MUSETALK_IDLE_TIMEOUT_S: '3', VIDEO_MAX_SESSIONS: '1' }, START_MS);
/** Waits are for positive signals; the long timeouts only bound a failure on a loaded machine. */
const SLOW_MS = 60_000;
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
/** Running (not a zombie). A process reaped between any two looks at /proc is gone, not an error. */
function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

async function waitGone(pids: number[], ms = SLOW_MS): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    if (pids.every((p) => !alive(p))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** Activity (PONG) every 300 ms so a short idle timeout cannot fire while a slow machine starts up. */
function keepAlive(client: JsonWsClient, sid: string): () => void {
  const timer = setInterval(() => {
    if (client.closeCode === null) client.send({ type: 'PONG', session_id: sid, data: {} });
  }, 300);
  return () => clearInterval(timer);
}

async function init(s: ServerProcess, user = 'user_1', opts: { keepAlive?: boolean } = {}): Promise<{ client: JsonWsClient; sid: string; stopKeepAlive: () => void }> {
  const client = await JsonWsClient.connect(`ws://127.0.0.1:${s.port}/musetalk/v1/ws/${user}`);
  client.send({ type: 'INIT', session_id: 'client-chosen', data: { user_id: user, video_config: { resolution: '512x512', fps: 25 } } });
  const i = await client.waitType('INIT_SUCCESS', SLOW_MS);
  const m = client.received[i]!.msg;
  const sid = m.session_id as string;
  const stopKeepAlive = keepAlive(client, sid);
  // The encoder is up once the first frame arrives.
  try {
    await client.waitType('VIDEO_FRAME', SLOW_MS, i);
  } finally {
    if (!opts.keepAlive) stopKeepAlive();
  }
  return { client, sid, stopKeepAlive };
}

/** Polls /proc (a positive signal: the process appears) until the server has an ffmpeg not in `before`. */
async function newEncoder(s: ServerProcess, before: ReadonlySet<number>, ms = SLOW_MS): Promise<number[]> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const added = ffmpegChildren(s).filter((p) => !before.has(p));
    if (added.length > 0) return added;
    await new Promise((r) => setTimeout(r, 50));
  }
  return [];
}

const silence40ms = Buffer.alloc(1280).toString('base64');
const generate = (sid: string, data = silence40ms) => ({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { format: 'pcm_s16le', sample_rate: 16000, channels: 1, duration_ms: 40, data } } });

/** GENERATE audio: the session needs pictures of its own, so its worker and encoder start. Returns the encoder's pid(s). */
async function ownEncoder(s: ServerProcess, c: { client: JsonWsClient; sid: string }): Promise<number[]> {
  const before = new Set(ffmpegChildren(s));
  c.client.send(generate(c.sid));
  return newEncoder(s, before);
}

function serverThreads(s: ServerProcess): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${s.proc.pid}/status`, 'utf8'))![1]);
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
  await client.waitFor(() => frames(client).length >= 60, SLOW_MS);
  const f = frames(client);
  t.equal(f[0]!.frame_timestamp, 0, 'frame 0 at 0 ms');
  const steps = f.slice(1).map((x, k) => x.frame_timestamp - f[k]!.frame_timestamp);
  t.ok(steps.every((d) => d > 0 && d % 40 === 0), 'frame_timestamp = frame number × 40, increasing');
  // A busy machine skips idle frames by design (gaps in frame_timestamp): how many is a timing
  // figure (bench/video-idle-cost.ts reports the FPS a client gets), not a property to assert.
  t.comment(`${steps.filter((d) => d !== 40).length} gaps (idle frames skipped under load) in ${steps.length} steps`);
  t.equal(client.binaryMessages, 0, 'every message, VIDEO_FRAME included, is a JSON text frame (PROTOCOL.md)');
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

t.test('idle sessions stream the shared idle loop: no thread, no encoder of their own until GENERATE', async (t) => {
  await new Waiters('idle loop encoded').waitFor(() => server.logs.find((l) => l.msg === 'musetalk idle loop encoded'), SLOW_MS);
  const threadsBefore = serverThreads(server);
  const encodersBefore = new Set(ffmpegChildren(server));
  const sessions = [await init(server, 'idle_a'), await init(server, 'idle_b'), await init(server, 'idle_c')];
  await Promise.all(sessions.map((x) => x.client.waitFor(() => frames(x.client).length >= 30, SLOW_MS)));
  t.same(ffmpegChildren(server).filter((p) => !encodersBefore.has(p)), [], '3 idle sessions streaming: no new ffmpeg');
  t.ok(serverThreads(server) - threadsBefore < 3, `and ${serverThreads(server) - threadsBefore} more threads (one worker each before)`);
  const workerFor = (sid: string) => server.logs.some((l) => l.msg === 'musetalk video worker started' && l.sessionId === sid);
  t.notOk(sessions.some((x) => workerFor(x.sid)), 'no video worker for an idle session');
  const a = sessions[0]!;
  const idle = frames(a.client).length;
  const pids = await ownEncoder(server, a);
  t.equal(pids.length, 1, 'the first GENERATE starts its own encoder');
  t.ok(workerFor(a.sid), 'and its video worker');
  await a.client.waitFor(() => frames(a.client).length >= idle + 50, SLOW_MS);
  const f = frames(a.client);
  t.equal(f[0]!.frame_timestamp, 0, 'frame 0 at 0 ms');
  t.ok(f.slice(1).every((x, k) => x.frame_timestamp > f[k]!.frame_timestamp && x.frame_timestamp % 40 === 0), 'frame_timestamp increases across the hand-over');
  const aus = f.map((x) => Buffer.from(x.frame_data, 'base64'));
  t.ok(isKeyframe(aus[0]!), 'the loop starts at a keyframe');
  t.equal(decode(Buffer.concat(aus)).frames.length, aus.length, 'loop frames then the own encoder\'s: every access unit decodes');
  t.equal(a.client.binaryMessages, 0, 'all text frames');
  t.notOk(sessions.slice(1).some((x) => workerFor(x.sid)), 'the other sessions still have none');
  // Idle again: after 10 s the worker and its ffmpeg are released, the shared loop resumes.
  await new Waiters('worker released').waitFor(() => server.logs.find((l) => l.msg === 'musetalk video worker released' && l.sessionId === a.sid), SLOW_MS);
  t.ok(await waitGone(pids), 'released: its ffmpeg is gone');
  const before = frames(a.client).length;
  await a.client.waitFor(() => frames(a.client).length >= before + 30, SLOW_MS);
  const g = frames(a.client);
  t.ok(g.slice(1).every((x, k) => x.frame_timestamp > g[k]!.frame_timestamp), 'frame_timestamp still increases after the loop resumed');
  t.equal(decode(Buffer.concat(g.map((x) => Buffer.from(x.frame_data, 'base64')))).frames.length, g.length, 'loop, own encoder, loop again: every access unit decodes');
  await Promise.all(sessions.map((x) => x.client.close()));
});

t.test('a GENERATE burst of N chunks yields N lip-synced frames', async (t) => {
  const { client, sid } = await init(server);
  await client.waitFor(() => frames(client).length >= 10, SLOW_MS);
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
    client.send(generate(sid, data));
  }
  const played = await new Waiters('speech segment played').waitFor(() => server.logs.slice(logFrom).find((l) => l.msg === 'musetalk speech segment played'), SLOW_MS);
  t.equal(played.frames, N, `${N} chunks → ${N} frames`);
  const first = played.firstFrame as number;
  const last = played.lastFrame as number;
  t.equal(last - first + 1, N, 'consecutive frames');
  // Windows leave as soon as their audio is in, with whatever of the next 100 ms had arrived
  // (INFERENCE_RIGHT_CONTEXT_MS): the first one, after the sixth chunk, already has 38 ms of it.
  const windows = server.logs.slice(logFrom).filter((l) => l.msg === 'window inferred' && typeof l.rightMs === 'number');
  t.ok(windows.length >= 2 && windows.some((w) => (w.rightMs as number) > 0) && windows.every((w) => (w.rightMs as number) <= 100), `windows' right context: ${windows.map((w) => w.rightMs).join(', ')} ms`);
  // Frames are found by their number (frame_timestamp / 40), not by their position: under load
  // idle frames are skipped, speech frames never.
  const at = (frame: number) => frames(client).findIndex((x) => x.frame_timestamp === frame * 40);
  await client.waitFor(() => at(last) >= 0 && frames(client).length > at(last) + 15, SLOW_MS);
  const aus = frames(client).map((x) => Buffer.from(x.frame_data, 'base64'));
  const dec = decode(Buffer.concat(aus)).frames;
  t.equal(dec.length, aus.length, 'every access unit decodes');
  t.ok([first, first + 4, first + 8, first + 12, first + 16, last].every((k) => at(k) >= 0), 'every speech frame was sent');
  // Open mouth = dark pixels (the mouth's inside) in the mouth region; idle frames keep it shut.
  const dark = (f: Float32Array) => f.reduce((n, v) => n + (v < 70 ? 1 : 0), 0);
  const idle = Math.max(dark(mouth(dec[Math.max(0, at(first) - 3)]!)), dark(mouth(dec[at(last) + 12]!)));
  const speech = Math.max(...[first + 4, first + 8, first + 12, first + 16].map((k) => dark(mouth(dec[at(k)]!))));
  t.ok(speech > idle * 2 + 100, `mouth opens with speech (${speech} dark pixels vs ${idle} idle)`);
  await client.close();
});

t.test('ERROR codes, STATE_CHANGE, ACTION', async (t) => {
  const early = await JsonWsClient.connect(`ws://127.0.0.1:${server.port}/musetalk/v1/ws/u2`);
  early.send({ type: 'GENERATE', session_id: 'x', data: { audio_chunk: { data: 'AAAAAA==' } } });
  let i = await early.waitType('ERROR', SLOW_MS);
  t.equal((early.received[i]!.msg.data as { code: string }).code, 'INVALID_SESSION', 'GENERATE before INIT');
  await early.close();

  const { client, sid } = await init(server, 'u3');
  const expect = async (msg: unknown, code: string, what: string) => {
    const from = client.received.length;
    client.send(msg);
    const at = await client.waitType('ERROR', SLOW_MS, from);
    t.equal((client.received[at]!.msg.data as { code: string }).code, code, what);
    return client.received[at]!.msg.data as { code: string; message: string; details?: Record<string, unknown> };
  };
  await expect('{not json', 'INVALID_MESSAGE', 'invalid JSON');
  await expect({ type: 'DANCE', session_id: sid, data: {} }, 'INVALID_MESSAGE', 'unknown type');
  await expect({ type: 'ACTION', session_id: 'someone-else', data: { action_index: 1 } }, 'INVALID_SESSION', 'wrong session_id');
  await expect({ type: 'ACTION', session_id: sid, data: { action_index: 3 } }, 'INVALID_MESSAGE', 'bad action_index');
  await expect({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { data: '%%%%' } } }, 'INVALID_MESSAGE', 'bad base64');
  await expect({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { sample_rate: 44100, data: 'AAAA' } } }, 'INVALID_MESSAGE', 'wrong sample rate');
  await expect({ type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'speaking', base_video: 'nope' } }, 'MODEL_NOT_FOUND', 'unknown video');
  // Audio outside the one format: INVALID_MESSAGE (the contract's closed set) with details.reason INVALID_AUDIO.
  const chunk40 = Buffer.alloc(1280).toString('base64');
  const badAudio: Array<[string, Record<string, unknown>, string]> = [
    ['duration_ms does not match the data', { duration_ms: 40, data: Buffer.alloc(640).toString('base64') }, 'duration_ms'],
    ['duration_ms negative', { duration_ms: -5, data: chunk40 }, 'duration_ms'],
    ['duration_ms a string', { duration_ms: '40', data: chunk40 }, 'duration_ms'],
    ['duration_ms huge', { duration_ms: 1e12, data: chunk40 }, 'duration_ms'],
    ['two channels', { channels: 2, data: chunk40 }, 'channels'],
    ['channels as a string', { channels: '1', data: chunk40 }, 'channels'],
    ['sample_rate 1 Hz', { sample_rate: 1, data: chunk40 }, 'sample_rate'],
    ['sample_rate 4 GHz', { sample_rate: 4e9, data: chunk40 }, 'sample_rate'],
    ['float samples', { format: 'pcm_f32le', data: chunk40 }, 'format'],
    ['odd byte count', { data: Buffer.alloc(3).toString('base64') }, 'data'],
    ['over 10 s in one chunk', { data: Buffer.alloc(320_002).toString('base64') }, 'data'],
  ];
  for (const [what, audio, field] of badAudio) {
    const e = await expect({ type: 'GENERATE', session_id: sid, data: { audio_chunk: { format: 'pcm_s16le', sample_rate: 16000, channels: 1, ...audio } } }, 'INVALID_MESSAGE', what);
    t.same(e.details, { reason: 'INVALID_AUDIO', field }, `${what}: ${e.message}`);
  }
  await expect({ type: 'INIT', session_id: sid, data: { user_id: 'u3' } }, 'INVALID_MESSAGE', 'second INIT');
  let from = client.received.length;
  client.send({ type: 'STATE_CHANGE', session_id: sid, data: { target_state: 'action', base_video: 'default' } });
  i = await client.waitType('STATE_CHANGED', SLOW_MS, from);
  t.same(client.received[i]!.msg.data, { current_state: 'action', current_video: 'default' });
  from = client.received.length;
  client.send({ type: 'ACTION', session_id: sid, data: { action_index: 2 } });
  i = await client.waitType('ACTION_TRIGGERED', SLOW_MS, from);
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

t.test('VIDEO_MAX_SESSIONS: a video session over the cap gets a coded error and close 1013', async (t) => {
  // shortIdle admits one video session; a frame-stream connection holds the slot (it needs no INIT).
  const holder = await JsonWsClient.connect(`ws://127.0.0.1:${shortIdle.port}/`);
  await holder.waitType('connection_established', SLOW_MS);
  const frameStream = await JsonWsClient.connect(`ws://127.0.0.1:${shortIdle.port}/`);
  t.equal(await frameStream.closed, 1013, 'frame-stream: close 1013');
  const fsError = frameStream.received.find((r) => r.msg.type === 'error')?.msg;
  t.equal(fsError?.code, 'SERVER_BUSY', 'frame-stream: error SERVER_BUSY');
  t.match(fsError?.message, /video session limit \(1\)/);
  const museTalk = await JsonWsClient.connect(`ws://127.0.0.1:${shortIdle.port}/musetalk/v1/ws/over_cap`);
  t.equal(await museTalk.closed, 1013, 'MuseTalk: close 1013');
  const mtError = museTalk.received.find((r) => r.msg.type === 'ERROR')?.msg;
  t.equal((mtError?.data as { code?: string } | undefined)?.code, 'RATE_LIMIT_EXCEEDED', 'MuseTalk: ERROR RATE_LIMIT_EXCEEDED');
  t.match(mtError?.session_id, /^[0-9a-f-]{36}$/, 'in a valid envelope');
  await holder.close();
  // The slot is free once the holder's close was handled (its close handshake has completed).
  const again = await init(shortIdle, 'after_cap', { keepAlive: true });
  again.client.send({ type: 'CLOSE', session_id: again.sid, data: {} });
  await again.client.closed;
  again.stopKeepAlive();
  t.pass('a new session is admitted after one closed');
});

t.test('CLOSE, disconnect and idle timeout leave no ffmpeg behind', async (t) => {
  const a = await init(server, 'closer');
  const pidsA = await ownEncoder(server, a);
  t.equal(pidsA.length, 1, 'an encoder runs per session that needs one');
  a.client.send({ type: 'CLOSE', session_id: a.sid, data: {} });
  const i = await a.client.waitType('CLOSE_ACK', SLOW_MS);
  t.same(a.client.received[i]!.msg.data, { reason: 'client_request' });
  await a.client.closed;
  t.ok(await waitGone(pidsA), 'CLOSE: encoder gone');

  const b = await init(server, 'dropper');
  const pidsB = await ownEncoder(server, b);
  b.client.ws.terminate();
  t.ok(await waitGone(pidsB), 'disconnect: encoder gone');

  const c = await init(shortIdle, 'sleeper'); // then silent: the idle timeout closes it
  const pidsC = await ownEncoder(shortIdle, c);
  const at = await c.client.waitType('CLOSE_ACK', SLOW_MS);
  t.same(c.client.received[at]!.msg.data, { reason: 'timeout' });
  await c.client.closed;
  t.ok(await waitGone(pidsC), 'timeout: encoder gone');

  const d = await init(shortIdle, 'shutdown', { keepAlive: true });
  const pidsD = await ownEncoder(shortIdle, d);
  t.equal(pidsD.length, 1);
  await shortIdle.stop();
  await d.client.closed;
  d.stopKeepAlive();
  t.ok(d.client.received.some((r) => r.msg.type === 'CLOSE_ACK' && (r.msg.data as { reason: string }).reason === 'server_shutdown'), 'CLOSE_ACK server_shutdown');
  t.ok(await waitGone(pidsD), 'server shutdown: encoder gone');
});
