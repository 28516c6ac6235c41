/**
 * The floor of the main thread's cost per frame on this host (a dev probe, not part of `npm run
 * bench`): a bare uWS process whose main thread only sends finished sync_frame bytes, handed over
 * by a worker in PACING_BATCH_MS batches exactly as the pacing worker does (one transferred buffer
 * and an index per batch), to N loopback WebSocket clients in another process, each at 30 FPS on
 * its own phase. No agents, no inference, no turns: what is left of the server's per-frame cost
 * above this is its own work (windows, agent messages, turn events).
 *
 *   node dist/bench/send-floor.js [clients=50] [seconds=6]   → one JSON line (SendFloor)
 *
 * Roles by argv[2]: a number (the sender, the default) or `clients <port> <n>` (the receivers,
 * forked by the sender; they count the messages and answer `count` over IPC). The batch
 * worker is this file again as a worker thread.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker, isMainThread, workerData, type MessagePort } from 'node:worker_threads';
import WebSocket from 'ws';
import type { WebSocket as UwsSocket, us_listen_socket } from 'uWebSockets.js';
import { uWS } from '../src/server/uws.js';
import { SendStatus } from '../src/server/socket-limits.js';
import { FRAME_META_INTS } from '../src/pacing/messages.js';
import { eachFrame } from '../src/pacing/pacer.js';
import { cpuDelta, sampleCpu } from './proc-cpu.js';
import { frameObjects } from './ablations/frame-fixtures.js';

export interface SendFloor {
  clients: number;
  seconds: number;
  framesPerS: number;
  /** The sender's main-thread CPU (utime + stime) per frame sent, µs. */
  mainThreadUsPerFrame: number;
  mainThreadKernelUsPerFrame: number;
  mainThreadWakeupsPerS: number;
  frameBytes: number;
  sent: number;
  /** Frames the clients had received when asked, after the last send (all of them, on a sound run). */
  received: number;
}

const FRAME_MS = 1000 / 30;
const BATCH_MS = 5;
const self = fileURLToPath(import.meta.url);

interface BatcherData {
  clients: number;
  frames: Uint8Array[];
  port: MessagePort;
}

/** The pacer's part: every BATCH_MS, one buffer with every frame due before the next grid point. */
function batcher({ clients, frames, port }: BatcherData): void {
  const wake = new Int32Array(new SharedArrayBuffer(4));
  const t0 = performance.now();
  const next = new Array<number>(clients).fill(0);
  const phase = Array.from({ length: clients }, (_, c) => (c * FRAME_MS) / clients);
  const due: number[] = [];
  for (;;) {
    const until = (Math.floor((performance.now() - t0) / BATCH_MS) + 1) * BATCH_MS;
    for (let c = 0; c < clients; c++) {
      while (phase[c]! + next[c]! * FRAME_MS < until) due.push(c, next[c]!++);
    }
    if (due.length > 0) {
      let bytes = 0;
      for (let i = 1; i < due.length; i += 2) bytes += frames[due[i]! % frames.length]!.byteLength;
      const out = new Uint8Array(bytes);
      const meta = new Int32Array((due.length / 2) * FRAME_META_INTS);
      let at = 0;
      for (let i = 0; i < due.length; i += 2) {
        const f = frames[due[i + 1]! % frames.length]!;
        out.set(f, at);
        at += f.byteLength;
        const m = (i / 2) * FRAME_META_INTS;
        meta[m] = due[i]!;
        meta[m + 2] = due[i + 1]!;
        meta[m + 3] = f.byteLength;
      }
      due.length = 0;
      port.postMessage({ bytes: out.buffer, meta }, [out.buffer, meta.buffer]);
    }
    const wait = t0 + until - performance.now();
    if (wait > 0) Atomics.wait(wake, 0, 0, wait);
  }
}

async function receivers(port: number, n: number): Promise<void> {
  let received = 0;
  await Promise.all(Array.from({ length: n }, () => new Promise<void>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.on('message', () => received++);
    ws.once('open', () => resolve());
    ws.once('error', reject);
  })));
  process.send!({ op: 'open' });
  process.on('message', () => process.send!({ op: 'count', received }));
}

export async function sendFloor(clients: number, seconds: number): Promise<SendFloor> {
  const frames = frameObjects(64).map((f) => new Uint8Array(Buffer.from(JSON.stringify({ ...f, timestamp: Date.now() }))));
  const sockets: Array<UwsSocket<unknown>> = [];
  const app = uWS.App().ws('/*', { open: (ws) => void sockets.push(ws) });
  const listenSocket = await new Promise<us_listen_socket>((resolve, reject) => app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed')))));
  const port = uWS.us_socket_local_port(listenSocket);
  const child = fork(self, ['clients', String(port), String(clients)], { stdio: 'inherit' });
  // One exit listener for the whole run (one per question would pile up while the count is polled).
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`clients exited (${code})`))));
  exited.catch(() => undefined); // observed by the race below; a normal kill at the end is not an error
  const fromChild = <T>() => Promise.race([new Promise<T>((resolve) => child.once('message', (m) => resolve(m as T))), exited]);
  let worker: Worker | undefined;
  try {
    await fromChild();
    if (sockets.length !== clients) throw new Error(`${sockets.length} of ${clients} clients connected`);
    let sent = 0;
    let firstBatch: () => void = () => {};
    const started = new Promise<void>((resolve) => (firstBatch = resolve));
    const channel = new MessageChannel();
    // As the server's sendFrame: cork, the buffered-amount check, send.
    channel.port1.on('message', (batch: { bytes: ArrayBuffer; meta: Int32Array }) => (firstBatch(), eachFrame(batch, (c, _turn, _i, bytes) => {
      const ws = sockets[c]!;
      ws.cork(() => {
        if (ws.getBufferedAmount() < 1 << 20 && ws.send(bytes, false) !== SendStatus.DROPPED) sent++;
      });
    })));
    worker = new Worker(self, { workerData: { clients, frames, port: channel.port2 } satisfies BatcherData, transferList: [channel.port2] });
    await started; // the worker is up (it loads this module again)
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: JIT, TCP windows
    const from = sampleCpu(process.pid);
    const sentBefore = sent;
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const d = cpuDelta(from, sampleCpu(process.pid));
    const frameCount = sent - sentBefore;
    await worker.terminate();
    worker = undefined;
    channel.port1.close();
    // The last frames may still be in flight: ask until all have arrived (at most 5 s).
    let received = 0;
    for (const giveUpAt = performance.now() + 5000; received < sent && performance.now() < giveUpAt;) {
      child.send({ op: 'count' });
      ({ received } = await fromChild<{ received: number }>());
    }
    return {
      clients, seconds, framesPerS: frameCount / (d.wallMs / 1000),
      mainThreadUsPerFrame: (d.mainThreadMs * 1000) / frameCount,
      mainThreadKernelUsPerFrame: (d.mainThreadKernelMs * 1000) / frameCount,
      mainThreadWakeupsPerS: d.mainThreadWakeupsPerS,
      frameBytes: frames[0]!.byteLength, sent, received,
    };
  } finally {
    await worker?.terminate();
    child.kill();
    uWS.us_listen_socket_close(listenSocket);
    for (const ws of sockets) ws.close();
  }
}

if (!isMainThread) {
  batcher(workerData as BatcherData);
} else if (process.argv[1] === self) {
  if (process.argv[2] === 'clients') {
    await receivers(Number(process.argv[3]), Number(process.argv[4]));
  } else {
    const result = await sendFloor(Number(process.argv[2] ?? 50), Number(process.argv[3] ?? 6));
    process.stdout.write(JSON.stringify(result) + '\n');
    process.exit(0);
  }
}
