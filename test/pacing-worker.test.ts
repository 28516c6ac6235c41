import t, { type Test } from 'tap';
import { MessageChannel, Worker } from 'node:worker_threads';
import { SyncFrameEncoder } from '../src/inference/frame-encoder.js';
import { ARKIT_COUNT } from '../src/protocol/arkit.js';
import type { FromPacer, PacingWorkerData, ToPacer } from '../src/pacing/messages.js';
import { eachFrame } from '../src/pacing/pacer.js';
import { Waiters } from './helpers/waiters.js';

/**
 * The pacing worker (workers/pacing.ts) as a real thread, driven through its message protocol
 * exactly as src/pacing/pacer.ts drives it: the media clock, re-anchoring, drop and close.
 * Frames are real sync_frame bytes; times are compared on the time base every thread shares
 * (performance.timeOrigin + now()), 1 ms allowed for the two threads' origins.
 */

const T = 1000 / 30;
const LEAD = 2;
const encoder = new SyncFrameEncoder();

/** A worker message as the test keeps it: a batch of frames unpacked into its frames' ids. */
type GotMessage = Exclude<FromPacer, { op: 'send' }> | { op: 'send'; frames: Array<{ session: number; turn: number; frameIndex: number }> };

interface Got {
  msg: GotMessage;
  /** Epoch ms at which this thread received it (after the worker sent it). */
  at: number;
}

interface SentFrame {
  session: number;
  turn: number;
  frameIndex: number;
  json: Record<string, unknown>;
  at: number;
}

function startPacer(t: Test, batchMs = 0) {
  const control = new SharedArrayBuffer(4);
  const ctrl = new Int32Array(control);
  const channel = new MessageChannel();
  const data: PacingWorkerData = { control, wake: new SharedArrayBuffer(8), leadFrames: LEAD, batchMs, port: channel.port2 };
  const worker = new Worker(new URL('../workers/pacing.js', import.meta.url), { workerData: data, transferList: [channel.port2] });
  const got: Got[] = [];
  const frames: SentFrame[] = [];
  const waiters = new Waiters('pacing worker');
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  channel.port1.on('message', (msg: FromPacer) => {
    const at = performance.timeOrigin + performance.now();
    if (msg.op === 'send') {
      const ids: Array<{ session: number; turn: number; frameIndex: number }> = [];
      eachFrame(msg.batch, (session, turn, frameIndex, bytes) => {
        ids.push({ session, turn, frameIndex });
        frames.push({ session, turn, frameIndex, json: JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Record<string, unknown>, at });
      });
      got.push({ msg: { op: 'send', frames: ids }, at });
    } else got.push({ msg, at });
    waiters.wake();
  });
  const post = (msg: ToPacer): number => {
    channel.port1.postMessage(msg);
    Atomics.add(ctrl, 0, 1);
    Atomics.notify(ctrl, 0);
    return performance.timeOrigin + performance.now();
  };
  t.teardown(async () => {
    post({ op: 'stop' });
    await exited;
    channel.port1.close();
  });
  return {
    got, frames, post, exited,
    /** The thread is up once it reports stats (a new thread can take seconds to load on a busy host). */
    ready: () => waiters.waitFor(() => got.some((g) => g.msg.op === 'stats')),
    waitFor: <V>(probe: () => V | undefined | false | null) => waiters.waitFor(probe, 20_000),
    /**
     * Frames [first, first + pcm/800) of a turn, carrying `pcm` (PCM16 bytes); `audioReadyEpochMs`:
     * when their agent audio was in, as the session reports it.
     */
    pushFrames(session: number, turn: number, firstFrameIndex: number, pcm: Buffer, audioReadyEpochMs?: number): number {
      const samples = new Int16Array(pcm.buffer.slice(pcm.byteOffset, pcm.byteOffset + pcm.length));
      const count = Math.ceil(samples.length / 800);
      const enc = encoder.encode({ sessionId: `s${session}`, turnId: `t${turn}` }, firstFrameIndex, new Float32Array(count * ARKIT_COUNT), samples, count);
      return post({ op: 'frames', session, turn, firstFrameIndex, bytes: enc.bytes, lengths: enc.lengths, timestampOffsets: enc.timestampOffsets, audioReadyEpochMs });
    },
    clocks: (session: number, turn: number) => got.filter((g) => g.msg.op === 'clock' && g.msg.session === session && g.msg.turn === turn).map((g) => ({ origin: (g.msg as { originEpochMs: number }).originEpochMs, at: g.at, index: got.indexOf(g) })),
    turnDone: (session: number, turn: number) => got.findIndex((g) => g.msg.op === 'turnDone' && g.msg.session === session && g.msg.turn === turn),
  };
}

function pcmOf(frames: number, seed: number): Buffer {
  const b = Buffer.alloc(frames * 1600);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + seed * 7) & 0xff;
  return b;
}

const audioOf = (frames: SentFrame[]) => Buffer.concat(frames.map((f) => Buffer.from(f.json.audio as string, 'base64')));

t.test('30 FPS from the turn origin: every frame at or after origin + (k − lead)/30 s, count = seconds × 30, in order, exact audio', async (t) => {
  const p = startPacer(t);
  await p.ready();
  const pcm = pcmOf(45, 1); // 1.5 s
  // Three windows, as the pool hands them over; the first covers the other two's hand-off by 0.4 s.
  const pushedAt = p.pushFrames(1, 1, 0, pcm.subarray(0, 15 * 1600));
  p.pushFrames(1, 1, 15, pcm.subarray(15 * 1600, 30 * 1600));
  p.pushFrames(1, 1, 30, pcm.subarray(30 * 1600));
  p.post({ op: 'end', session: 1, turn: 1, totalFrames: 45 });
  await p.waitFor(() => p.turnDone(1, 1) >= 0);
  const clocks = p.clocks(1, 1);
  t.equal(clocks.length, 1, 'one clock start, no re-anchor: frames were there before their time');
  const origin = clocks[0]!.origin;
  t.ok(origin >= pushedAt - 1, 'the clock starts when the first frames reach the worker');
  const frames = p.frames.filter((f) => f.turn === 1);
  t.equal(frames.length, 1.5 * 30, 'audio length × 30 frames: none lost, none added');
  t.ok(frames.every((f, i) => f.frameIndex === i && f.json.frameIndex === i), 'in order');
  const early = frames.filter((f) => f.frameIndex > LEAD && f.at < origin + (f.frameIndex - LEAD) * T - 1);
  t.same(early.map((f) => f.frameIndex), [], 'no frame before its absolute deadline');
  t.ok(frames.at(-1)!.at >= origin + (44 - LEAD) * T - 1, 'the turn spans its audio length');
  t.ok(audioOf(frames).equals(pcm), 'frames carry their audio untouched');
  t.ok(frames.every((f) => typeof f.json.timestamp === 'number' && Math.abs((f.json.timestamp as number) - f.at) < 1000), 'the timestamp is patched at send time');
  t.ok(p.turnDone(1, 1) > p.got.findIndex((g) => g.msg.op === 'send' && g.msg.frames.some((f) => f.frameIndex === 44)), 'turnDone after the last frame');
  const stats = await p.waitFor(() => p.got.find((g) => g.msg.op === 'stats' && g.at > frames.at(-1)!.at)?.msg);
  t.match(stats, { op: 'stats', stats: { underruns: 0 } }, 'no underrun counted');
});

t.test('source behind real time: a late frame whose audio came late re-anchors the clock with slack; later frames keep 30 FPS spacing from it, no burst', async (t) => {
  const p = startPacer(t);
  await p.ready();
  const pcm = pcmOf(21, 2);
  p.pushFrames(1, 1, 0, pcm.subarray(0, 9 * 1600), performance.timeOrigin + performance.now());
  await p.waitFor(() => p.frames.some((f) => f.frameIndex === 8));
  const origin = p.clocks(1, 1)[0]!.origin;
  // The rest arrives after frame 12 was due, and so did its audio (the agent is behind): frames 9–12 are late.
  const lateBy = origin + (12 - LEAD) * T + 5 - (performance.timeOrigin + performance.now());
  await new Promise((r) => setTimeout(r, Math.max(0, lateBy)));
  const pushedAt = p.pushFrames(1, 1, 9, pcm.subarray(9 * 1600), performance.timeOrigin + performance.now());
  p.post({ op: 'end', session: 1, turn: 1, totalFrames: 21 });
  await p.waitFor(() => p.turnDone(1, 1) >= 0);
  const clocks = p.clocks(1, 1);
  t.equal(clocks.length, 2, 'one re-anchor');
  const anchored = clocks[1]!.origin;
  const slack = 2000 / 30;
  t.ok(anchored + (9 - LEAD) * T >= pushedAt + slack - 1, 'frame 9 is re-anchored at its arrival plus slack');
  const frames = p.frames.filter((f) => f.turn === 1);
  t.equal(frames.length, 21, 'every frame');
  t.ok(frames.every((f, i) => f.frameIndex === i), 'in order');
  const after = frames.filter((f) => f.frameIndex > 9);
  const early = after.filter((f) => f.at < anchored + (f.frameIndex - LEAD) * T - 1);
  t.same(early.map((f) => f.frameIndex), [], 'frames after it keep their spacing from the new origin');
  t.ok(audioOf(frames).equals(pcm), 'exact audio');
  const stats = await p.waitFor(() => p.got.find((g) => g.msg.op === 'stats' && g.msg.stats.underruns > 0)?.msg);
  t.match(stats, { stats: { underruns: 1, reanchors: 1 } }, 'one underrun counted (the frames after the re-anchored one are not late), one re-anchor');
});

t.test('inference tail: a window 150 ms late whose audio was in goes out at once; the clock does not move, the frames after it keep their schedule', async (t) => {
  const p = startPacer(t);
  await p.ready();
  const pcm = pcmOf(60, 8); // 2 s
  // The agent sent the whole turn at once: every window's audio was in from the start.
  const audioReady = performance.timeOrigin + performance.now();
  p.pushFrames(1, 1, 0, pcm.subarray(0, 9 * 1600), audioReady);
  const origin = (await p.waitFor(() => p.clocks(1, 1)[0]))!.origin;
  const due = (k: number): number => origin + (k - LEAD) * T;
  // Window 2 (frames 9–59) comes back from inference 150 ms after frame 9 was due.
  const wait = due(9) + 150 - (performance.timeOrigin + performance.now());
  await new Promise((r) => setTimeout(r, Math.max(0, wait)));
  const pushedAt = p.pushFrames(1, 1, 9, pcm.subarray(9 * 1600), audioReady);
  p.post({ op: 'end', session: 1, turn: 1, totalFrames: 60 });
  await p.waitFor(() => p.turnDone(1, 1) >= 0);
  t.equal(p.clocks(1, 1).length, 1, 'no re-anchor: the clock (and the main thread\'s mirror of it) did not move');
  const frames = p.frames.filter((f) => f.turn === 1);
  t.ok(frames.length === 60 && frames.every((f, i) => f.frameIndex === i), 'every frame, in order');
  t.ok(audioOf(frames).equals(pcm), 'exact audio');
  const late = frames.filter((f) => f.frameIndex >= 9 && due(f.frameIndex) + 1 < pushedAt);
  t.ok(late.length >= 5, `the window's frames due before it came are late (${late.length})`);
  const batch = p.got.find((g) => g.msg.op === 'send' && g.msg.frames.some((f) => f.turn === 1 && f.frameIndex === 9))!.msg as { frames: Array<{ frameIndex: number }> };
  const burst = frames.filter((f) => batch.frames.some((b) => b.frameIndex === f.frameIndex));
  t.ok(late.every((f) => burst.includes(f)), 'the late frames go out at once, in one batch');
  const after = frames.filter((f) => f.frameIndex > burst.at(-1)!.frameIndex);
  t.ok(after.length >= 20, `frames after the burst (${after.length})`);
  t.same(after.filter((f) => f.at < due(f.frameIndex) - 1).map((f) => f.frameIndex), [], 'none of them before its original deadline');
  // A re-anchor would have sent each of them at least this long after its original deadline.
  const shift = pushedAt - due(9) + 2 * T;
  const delays = after.map((f) => f.at - due(f.frameIndex)).sort((a, b) => a - b);
  const median = delays[Math.floor(delays.length / 2)]!;
  t.ok(median < shift / 2, `they keep the original schedule: median ${median.toFixed(1)} ms after it, where a re-anchor would put them ≥ ${shift.toFixed(0)} ms after`);
  const stats = await p.waitFor(() => p.got.find((g) => g.msg.op === 'stats' && g.at > frames.at(-1)!.at)?.msg);
  if (stats?.op !== 'stats') throw new Error('no stats');
  t.ok(stats.stats.underruns >= late.length && stats.stats.underruns <= burst.length, `every late frame is an underrun (${stats.stats.underruns}; ${late.length}–${burst.length})`);
  t.equal(stats.stats.reanchors, 0, 'no re-anchor counted');
});

t.test('PACING_BATCH_MS: sessions whose clocks started apart share wake-ups; no frame goes out more than the grid early; every frame, exact audio', async (t) => {
  const BATCH = 4;
  const p = startPacer(t, BATCH);
  await p.ready();
  const SESSIONS = 24;
  const pcms = Array.from({ length: SESSIONS }, (_, s) => pcmOf(30, 10 + s));
  // Clocks start about 1.4 ms apart: exact deadlines would be ~24 wake-ups per 33 ms.
  for (let s = 0; s < SESSIONS; s++) {
    const until = performance.now() + T / SESSIONS;
    p.pushFrames(s + 1, 1, 0, pcms[s]!);
    p.post({ op: 'end', session: s + 1, turn: 1, totalFrames: 30 });
    while (performance.now() < until); // a precise stagger; setTimeout rounds to whole ms
  }
  await p.waitFor(() => Array.from({ length: SESSIONS }, (_, s) => p.turnDone(s + 1, 1)).every((i) => i >= 0));
  for (let s = 0; s < SESSIONS; s++) {
    const frames = p.frames.filter((f) => f.session === s + 1);
    if (frames.length !== 30 || !frames.every((f, i) => f.frameIndex === i) || !audioOf(frames).equals(pcms[s]!)) t.fail(`session ${s + 1}: every frame in order with its audio`);
  }
  const early: string[] = [];
  for (let s = 0; s < SESSIONS; s++) {
    const origin = p.clocks(s + 1, 1)[0]!.origin;
    for (const f of p.frames.filter((x) => x.session === s + 1 && x.frameIndex > LEAD)) {
      if (f.at < origin + (f.frameIndex - LEAD) * T - BATCH - 1) early.push(`${s + 1}:${f.frameIndex}`);
    }
  }
  t.same(early, [], `no frame more than ${BATCH} ms before its deadline`);
  const sends = p.got.filter((g) => g.msg.op === 'send' && g.msg.frames.some((f) => f.frameIndex > LEAD));
  const paced = p.frames.filter((f) => f.frameIndex > LEAD).length;
  t.equal(paced, SESSIONS * (30 - LEAD - 1));
  t.ok(paced / sends.length >= 2, `frames share hand-overs: ${paced} paced frames in ${sends.length} messages (one per deadline would be ~1 each)`);
});

t.test('drop (interrupt): the turn\'s queued frames are forgotten at once, no turnDone; the next turn plays from frame 0', async (t) => {
  const p = startPacer(t);
  await p.ready();
  p.pushFrames(1, 1, 0, pcmOf(60, 3)); // 2 s
  p.post({ op: 'end', session: 1, turn: 1, totalFrames: 60 });
  await p.waitFor(() => p.frames.some((f) => f.frameIndex === 5));
  p.post({ op: 'drop', session: 1, turn: 1 });
  const next = pcmOf(10, 4);
  p.pushFrames(1, 2, 0, next);
  p.post({ op: 'end', session: 1, turn: 2, totalFrames: 10 });
  await p.waitFor(() => p.turnDone(1, 2) >= 0);
  const started = p.clocks(1, 2)[0]!.index;
  const lateOld = p.got.slice(started).some((g) => g.msg.op === 'send' && g.msg.frames.some((f) => f.turn === 1));
  t.notOk(lateOld, 'no frame of the dropped turn after the drop was taken');
  t.ok(p.frames.filter((f) => f.turn === 1).length < 60, 'the dropped turn did not play out');
  t.equal(p.turnDone(1, 1), -1, 'no turnDone for a dropped turn');
  const frames = p.frames.filter((f) => f.turn === 2);
  t.ok(frames.length === 10 && frames.every((f, i) => f.frameIndex === i), 'the next turn: all of it, from 0');
  t.ok(audioOf(frames).equals(next), 'with its exact audio');
});

t.test('close ends one session\'s turn; others keep their clocks; end before frames; stop ends the thread', async (t) => {
  const p = startPacer(t);
  await p.ready();
  p.pushFrames(1, 1, 0, pcmOf(60, 5));
  p.post({ op: 'end', session: 2, turn: 7, totalFrames: 12 }); // the count may come first
  p.pushFrames(2, 7, 0, pcmOf(12, 6));
  await p.waitFor(() => p.frames.some((f) => f.session === 1 && f.frameIndex === 3));
  p.post({ op: 'close', session: 1 });
  await p.waitFor(() => p.turnDone(2, 7) >= 0);
  t.equal(p.frames.filter((f) => f.session === 2).length, 12, 'session 2 played out and ended');
  t.ok(p.frames.filter((f) => f.session === 1).length < 60, 'session 1 stopped');
  t.equal(p.turnDone(1, 1), -1, 'and got no turnDone');
  p.post({ op: 'stop' });
  t.equal(await p.exited, 0, 'stop: the thread exits cleanly');
});
