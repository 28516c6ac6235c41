/**
 * What an idle video session costs the server: `node dist/bench/video-idle-cost.js
 * [--sessions 5] [--window-s 10] [--only frame-stream|musetalk|musetalk-after-speech]`.
 *
 * Opens N frame-stream connections that send nothing, then N MuseTalk sessions that send INIT
 * and nothing else (the contract makes those stream idle video at 25 FPS: the shared idle loop),
 * then N MuseTalk sessions that send a 40 ms GENERATE chunk every 4 s (each keeps its own worker
 * and ffmpeg; a session idle for 10 s gives them back), each against a fresh server (offline agent). Per session it reports the growth of the server's RSS and thread
 * count, the CPU the server and its ffmpeg children used over an idle window, their RSS, and the
 * frames each MuseTalk client received per second. Figures feed the README ("hardening") and
 * the default of VIDEO_MAX_SESSIONS. Linux only (/proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startServer, type ServerProcess } from '../test/helpers/server-process.js';
import { JsonWsClient } from '../test/helpers/json-ws-client.js';
import { cpuDelta, sampleCpu } from './proc-cpu.js';
import { LOAD_TEST_LIMITS } from './server-under-test.js';

interface ProcFigures {
  rssBytes: number;
  threads: number;
}

function procStatus(pid: number): ProcFigures {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rssBytes: field('VmRSS') * 1024, threads: field('Threads') };
}

/** Direct children of `pid` whose command line mentions ffmpeg. */
function ffmpegChildren(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid && readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('ffmpeg')) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => +(bytes / 2 ** 20).toFixed(1);

interface DialectCost {
  dialect: 'frame-stream' | 'musetalk' | 'musetalk-after-speech';
  sessions: number;
  rssPerSessionMb: number;
  threadsPerSession: number;
  serverCpuPerSessionPct: number;
  ffmpegPerSession: number;
  ffmpegRssPerSessionMb: number;
  ffmpegCpuPerSessionPct: number;
  /** MuseTalk: frames per second each client received during the window (median). */
  clientFps: number | null;
  /**
   * MuseTalk: CPU per frame delivered (server, ffmpeg), ms. On a loaded machine the FPS drops
   * and so does the CPU per session; the cost per frame stays comparable between runs.
   */
  serverCpuMsPerFrame: number | null;
  ffmpegCpuMsPerFrame: number | null;
}

async function measure(dialect: DialectCost['dialect'], sessions: number, windowS: number): Promise<DialectCost> {
  const server: ServerProcess = await startServer({ ...LOAD_TEST_LIMITS, VIDEO_MAX_SESSIONS: '1000' });
  const pid = server.proc.pid!;
  try {
    // Warm the process (first connection loads modules) with one throw-away session.
    const warm = await open(server, dialect, 'warm');
    // MuseTalk: the shared idle loop is encoded once, on the first INIT.
    if (dialect !== 'frame-stream') await waitLog(server, 'musetalk idle loop encoded');
    await settle(1000);
    await warm.close();
    await settle(2000);
    const before = procStatus(pid);
    const clients: JsonWsClient[] = [];
    for (let i = 0; i < sessions; i++) clients.push(await open(server, dialect, `idle_${i}`));
    // Now and then a little speech keeps each session's own worker (it is released after 10 s idle).
    const keepWorkers = dialect === 'musetalk-after-speech' ? setInterval(() => clients.forEach(sendChunk), 4000) : null;
    await settle(3000);
    const after = procStatus(pid);
    const encoders = ffmpegChildren(pid);
    const cpu0 = sampleCpu(pid);
    const enc0 = encoders.map((p) => sampleCpu(p));
    const frames0 = clients.map((c) => c.received.length);
    await settle(windowS * 1000);
    const cpu1 = sampleCpu(pid);
    const enc1 = encoders.map((p) => sampleCpu(p));
    const fps = clients.map((c, i) => (c.received.length - frames0[i]!) / windowS).sort((a, b) => a - b);
    const framesDelivered = clients.reduce((n, c, i) => n + c.received.length - frames0[i]!, 0);
    const encCores = encoders.reduce((s, _p, i) => s + cpuDelta(enc0[i]!, enc1[i]!).processCores, 0);
    const encMs = encoders.reduce((s, _p, i) => s + cpuDelta(enc0[i]!, enc1[i]!).processMs, 0);
    const encRss = encoders.reduce((s, p) => s + procStatus(p).rssBytes, 0);
    if (keepWorkers) clearInterval(keepWorkers);
    await Promise.all(clients.map((c) => c.close()));
    return {
      dialect,
      sessions,
      rssPerSessionMb: mb((after.rssBytes - before.rssBytes) / sessions),
      threadsPerSession: +((after.threads - before.threads) / sessions).toFixed(2),
      serverCpuPerSessionPct: +((cpuDelta(cpu0, cpu1).processCores * 100) / sessions).toFixed(1),
      ffmpegPerSession: +(encoders.length / sessions).toFixed(2),
      ffmpegRssPerSessionMb: mb(encRss / sessions),
      ffmpegCpuPerSessionPct: +((encCores * 100) / sessions).toFixed(1),
      clientFps: dialect !== 'frame-stream' ? fps[Math.floor(fps.length / 2)]! : null,
      serverCpuMsPerFrame: dialect !== 'frame-stream' ? +(cpuDelta(cpu0, cpu1).processMs / framesDelivered).toFixed(2) : null,
      ffmpegCpuMsPerFrame: dialect !== 'frame-stream' ? +(encMs / framesDelivered).toFixed(2) : null,
    };
  } finally {
    await server.stop();
  }
}

async function open(server: ServerProcess, dialect: DialectCost['dialect'], user: string): Promise<JsonWsClient> {
  if (dialect === 'frame-stream') {
    const c = await JsonWsClient.connect(`ws://127.0.0.1:${server.port}/`);
    await c.waitType('connection_established', 30_000);
    return c;
  }
  const c = await JsonWsClient.connect(`ws://127.0.0.1:${server.port}/musetalk/v1/ws/${user}`);
  c.send({ type: 'INIT', session_id: 'bench', data: { user_id: user, video_config: { resolution: '512x512', fps: 25 } } });
  const ok = await c.waitType('INIT_SUCCESS', 30_000);
  await c.waitType('VIDEO_FRAME', 30_000);
  sessionIds.set(c, c.received[ok]!.msg.session_id as string);
  if (dialect === 'musetalk-after-speech') {
    const from = server.logs.length;
    sendChunk(c);
    await waitLog(server, 'musetalk video worker started', from);
  }
  return c;
}

const sessionIds = new Map<JsonWsClient, string>();
/** One 40 ms GENERATE chunk of silence. */
function sendChunk(c: JsonWsClient): void {
  const chunk = { format: 'pcm_s16le', sample_rate: 16000, channels: 1, duration_ms: 40, data: Buffer.alloc(1280).toString('base64') };
  c.send({ type: 'GENERATE', session_id: sessionIds.get(c), data: { audio_chunk: chunk } });
}

/** Waits for a server log line (at or after index `from`). */
async function waitLog(server: ServerProcess, msg: string, from = 0): Promise<void> {
  const deadline = performance.now() + 60_000;
  while (!server.logs.slice(from).some((l) => l.msg === msg)) {
    if (performance.now() > deadline) throw new Error(`no "${msg}" log line within 60 s`);
    await settle(50);
  }
}

const { values } = parseArgs({
  options: { sessions: { type: 'string', default: '5' }, 'window-s': { type: 'string', default: '10' }, only: { type: 'string' } },
});
const sessions = Number(values.sessions);
const windowS = Number(values['window-s']);
const results: DialectCost[] = [];
for (const dialect of ['frame-stream', 'musetalk', 'musetalk-after-speech'] as const) {
  if (values.only && values.only !== dialect) continue;
  results.push(await measure(dialect, sessions, windowS));
}
console.table(results);
console.log(JSON.stringify(results));
