/**
 * The pacing worker: the media clock of every session. One thread, a blocking loop: take new
 * work from the main thread synchronously (receiveMessageOnPort), hand every due frame back in
 * one batch, then sleep with Atomics.wait until the next deadline or until the main thread
 * notifies the control word. Never setInterval: deadlines are absolute per turn.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import { patchTimestamp } from '../src/inference/frame-encoder.js';
import { TurnClock } from '../src/pacing/turn-clock.js';
import { Histogram } from '../src/metrics/histogram.js';
import { FRAME_META_INTS, type FromPacer, type PacingWorkerData, type ToPacer } from '../src/pacing/messages.js';
import { currentThreadId } from '../src/server/realtime-priority.js';

const { control, wake, leadFrames, port, batchMs = 0 } = workerData as PacingWorkerData;
const ctrl = new Int32Array(control);
const wakeAt = new BigInt64Array(wake);

interface QueuedFrame {
  frameIndex: number;
  bytes: Uint8Array;
  timestampOffset: number;
  arrivedAt: number;
  /** When its window's agent audio was all in (this thread's clock); undefined when not known. */
  audioReadyAt: number | undefined;
}

interface TurnQueue {
  turn: number;
  clock: TurnClock;
  frames: QueuedFrame[];
  head: number;
  sent: number;
  totalFrames: number; // −1 until known
}

const sessions = new Map<number, TurnQueue>();
const lateness = new Histogram([0.1, 0.25, 0.5, 1, 2, 5, 10, 20, 50]);
let framesSinceReport = 0;
let underruns = 0;
let reanchors = 0;
let lastReport = performance.now();
const REPORT_EVERY_MS = 1000;

function post(msg: FromPacer, transfer: ArrayBuffer[] = []): void {
  port.postMessage(msg, transfer);
}

/** Tell the main thread where the turn's clock now stands (it times inference deadlines on it). */
function reportClock(session: number, q: TurnQueue): void {
  post({ op: 'clock', session, turn: q.turn, originEpochMs: performance.timeOrigin + q.clock.originMs });
}

function queueFor(session: number, turn: number): TurnQueue {
  let q = sessions.get(session);
  if (!q || q.turn !== turn) {
    q = { turn, clock: new TurnClock(leadFrames), frames: [], head: 0, sent: 0, totalFrames: -1 };
    sessions.set(session, q);
  }
  return q;
}

function handle(msg: ToPacer, now: number): boolean {
  switch (msg.op) {
    case 'frames': {
      const q = queueFor(msg.session, msg.turn);
      const audioReadyAt = msg.audioReadyEpochMs === undefined ? undefined : msg.audioReadyEpochMs - performance.timeOrigin;
      let at = 0;
      for (let i = 0; i < msg.lengths.length; i++) {
        const len = msg.lengths[i]!;
        q.frames.push({ frameIndex: msg.firstFrameIndex + i, bytes: msg.bytes.subarray(at, at + len), timestampOffset: msg.timestampOffsets[i]!, arrivedAt: now, audioReadyAt });
        at += len;
      }
      if (!q.clock.started) {
        q.clock.start(now);
        reportClock(msg.session, q);
      }
      return true;
    }
    case 'end':
      queueFor(msg.session, msg.turn).totalFrames = msg.totalFrames;
      return true;
    case 'drop': {
      const q = sessions.get(msg.session);
      if (q && q.turn === msg.turn) sessions.delete(msg.session);
      return true;
    }
    case 'close':
      sessions.delete(msg.session);
      return true;
    case 'stop':
      return false;
  }
}

function drainInbox(now: number): boolean {
  for (;;) {
    const m = receiveMessageOnPort(port);
    if (!m) return true;
    if (!handle(m.message as ToPacer, now)) return false;
  }
}

/** Frames due before this go out now: the next point of the PACING_BATCH_MS grid, or exactly now. */
function horizon(now: number): number {
  return batchMs > 0 ? (Math.floor(now / batchMs) + 1) * batchMs : now;
}

/** When to wake for a frame due at `due`: its grid point (at most batchMs early), or its deadline. */
function wakeFor(due: number): number {
  return batchMs > 0 ? Math.floor(due / batchMs) * batchMs : due;
}

/** Frames due in this pass, before they are packed into one batch. */
const due: QueuedFrame[] = [];
const dueSession: number[] = [];
const dueTurn: number[] = [];

/** Send every frame due by the horizon; return when to wake next (or Infinity). */
function sendDue(now: number): number {
  let next = Number.POSITIVE_INFINITY;
  const until = horizon(now);
  const finished: Array<{ session: number; turn: number }> = [];
  let bytes = 0;
  for (const [session, q] of sessions) {
    while (q.head < q.frames.length) {
      const f = q.frames[q.head]!;
      const deadline = q.clock.deadline(f.frameIndex);
      if (batchMs > 0 ? deadline >= until : deadline > now) {
        next = Math.min(next, wakeFor(deadline));
        break;
      }
      if (q.clock.isLead(f.frameIndex)) {
        // Sent on arrival by design; not a measure of the clock.
      } else if (f.arrivedAt > deadline + 1) {
        // Late: it goes out now. An inference tail leaves the clock alone (the frames after it
        // keep their schedule); a source behind real time re-anchors it (TurnClock.late).
        underruns++;
        if (q.clock.late(f.frameIndex, now, f.audioReadyAt)) {
          reanchors++;
          reportClock(session, q);
        }
      } else {
        lateness.observe(Math.max(0, now - Math.max(deadline, f.arrivedAt))); // a batch sends up to batchMs early: 0
      }
      due.push(f);
      dueSession.push(session);
      dueTurn.push(q.turn);
      bytes += f.bytes.byteLength;
      q.frames[q.head] = undefined as unknown as QueuedFrame;
      q.head++;
      q.sent++;
    }
    if (q.head === q.frames.length && q.head > 0) {
      q.frames = [];
      q.head = 0;
    }
    if (q.totalFrames >= 0 && q.sent >= q.totalFrames) finished.push({ session, turn: q.turn });
  }
  if (due.length > 0) {
    // One buffer and one index for the whole batch (FrameBatch), each frame's timestamp set now.
    const out = new Uint8Array(bytes);
    const meta = new Int32Array(due.length * FRAME_META_INTS);
    const wall = Date.now();
    let at = 0;
    for (let i = 0; i < due.length; i++) {
      const f = due[i]!;
      out.set(f.bytes, at);
      patchTimestamp(out, at + f.timestampOffset, wall);
      const m = i * FRAME_META_INTS;
      meta[m] = dueSession[i]!;
      meta[m + 1] = dueTurn[i]!;
      meta[m + 2] = f.frameIndex;
      meta[m + 3] = f.bytes.byteLength;
      at += f.bytes.byteLength;
    }
    framesSinceReport += due.length;
    due.length = 0;
    dueSession.length = 0;
    dueTurn.length = 0;
    post({ op: 'send', batch: { bytes: out.buffer, meta } }, [out.buffer, meta.buffer]);
  }
  for (const f of finished) {
    sessions.delete(f.session);
    post({ op: 'turnDone', session: f.session, turn: f.turn });
  }
  return next;
}

function report(now: number): void {
  let queued = 0;
  for (const q of sessions.values()) queued += q.frames.length - q.head;
  post({
    op: 'stats',
    stats: {
      latenessP50: lateness.quantile(0.5), latenessP99: lateness.quantile(0.99), latenessMax: lateness.max,
      frames: framesSinceReport, underruns, reanchors, queuedFrames: queued,
      latenessBuckets: lateness.counts.slice(), latenessBounds: lateness.bounds, latenessSum: lateness.sum, latenessCount: lateness.count,
    },
  });
  framesSinceReport = 0;
  lastReport = now;
}

post({ op: 'thread', tid: currentThreadId() });
for (;;) {
  const seq = Atomics.load(ctrl, 0);
  let now = performance.now();
  if (!drainInbox(now)) break;
  now = performance.now();
  const next = sendDue(now);
  if (now - lastReport >= REPORT_EVERY_MS) report(now);
  const until = Math.min(next, lastReport + REPORT_EVERY_MS);
  const timeout = until - performance.now();
  if (timeout > 0) {
    // Published before sleeping: the main thread notifies only for what is due before this.
    // Whatever it posts after `seq` was read ends the wait at once (the word has changed).
    Atomics.store(wakeAt, 0, BigInt(Math.ceil((performance.timeOrigin + until) * 1000)));
    Atomics.wait(ctrl, 0, seq, timeout);
    Atomics.store(wakeAt, 0, 0n);
  }
}
port.close();
