import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import { FRAME_META_INTS, type FrameBatch, type FromPacer, type PacingStats, type PacingWorkerData, type ToPacer } from './messages.js';
import type { WindowResult } from '../inference/tasks.js';
import { TurnClock } from './turn-clock.js';

export interface PacerCallbacks {
  /** A due frame, to send now: a view into its batch's buffer (one buffer per batch, never reused). */
  onFrame(session: number, turn: number, frameIndex: number, bytes: Uint8Array): void;
  onTurnDone(session: number, turn: number): void;
}

/**
 * Main-thread side of the pacing worker: posts work and wakes the worker's Atomics.wait; the
 * worker hands back finished frame bytes in batches, which the server only sends.
 */
export class Pacer {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private readonly control = new SharedArrayBuffer(4);
  private readonly ctrl = new Int32Array(this.control);
  private readonly wake = new SharedArrayBuffer(8);
  /** When the pacer wakes on its own (epoch µs; 0: it is awake), see PacingWorkerData.wake. */
  private readonly wakeAt = new BigInt64Array(this.wake);
  /** Wake-ups the main thread asked for, and posts that needed none (read by the tests). */
  notifies = 0;
  postsWithoutNotify = 0;
  stats: PacingStats | null = null;
  /** The pacing thread's kernel thread id, once it has started (null off Linux). */
  readonly kernelThreadId: Promise<number | null>;
  private stopped = false;
  /** A mirror of each session's current turn clock (the worker reports starts and re-anchors). */
  private readonly clocks = new Map<number, { turn: number; clock: TurnClock }>();
  /** A clock restarted at each `orderAtMs` call: the due times of a turn whose clock started now. */
  private readonly startingNow: TurnClock;

  constructor(private readonly leadFrames: number, private readonly batchMs: number, callbacks: PacerCallbacks, private readonly logger: Logger) {
    this.startingNow = new TurnClock(leadFrames);
    const channel = new MessageChannel();
    const data: PacingWorkerData = { control: this.control, wake: this.wake, leadFrames, batchMs, port: channel.port2 };
    this.worker = new Worker(new URL('../../workers/pacing.js', import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
      name: 'pacing',
    });
    this.port = channel.port1;
    let gotThreadId!: (tid: number | null) => void;
    this.kernelThreadId = new Promise((resolve) => (gotThreadId = resolve));
    this.port.on('message', (data: unknown) => {
      const msg = data as FromPacer;
      if (msg.op === 'send') eachFrame(msg.batch, callbacks.onFrame);
      else if (msg.op === 'turnDone') {
        this.forgetClock(msg.session, msg.turn);
        callbacks.onTurnDone(msg.session, msg.turn);
      } else if (msg.op === 'clock') this.mirrorClock(msg.session, msg.turn, msg.originEpochMs - performance.timeOrigin);
      else if (msg.op === 'thread') gotThreadId(msg.tid);
      else if (msg.op === 'stats') this.stats = msg.stats;
    });
    this.worker.on('error', (err) => this.logger.fatal({ err }, 'pacing worker failed'));
    this.worker.on('exit', (code) => {
      gotThreadId(null);
      if (!this.stopped) this.logger.fatal({ code }, 'pacing worker exited');
    });
  }

  /**
   * Hand `msg` to the pacer, which must have taken it by `needByMs` (this thread's
   * performance.now(); −∞: at once, +∞: whenever it next wakes). Atomics.notify is a futex
   * wake-up under V8's process-wide lock for Atomics.wait: ~75 µs on average on the main thread at
   * a hundred sessions and, when the sleeping side holds that lock, stalls of several ms. So the
   * pacer is woken only when it would otherwise sleep past `needByMs`: under load it wakes every
   * PACING_BATCH_MS for some session's frames anyway, and a turn's later windows come long before
   * their frames are due.
   */
  private post(msg: ToPacer, transfer: ArrayBuffer[] = [], needByMs = Number.NEGATIVE_INFINITY): void {
    this.port.postMessage(msg, transfer);
    Atomics.add(this.ctrl, 0, 1);
    const sleepsUntil = this.sleepsUntilEpochMs;
    if (sleepsUntil !== undefined && sleepsUntil > performance.timeOrigin + needByMs) {
      this.notifies++;
      Atomics.notify(this.ctrl, 0);
    } else {
      this.postsWithoutNotify++;
    }
  }

  /** When the pacer will next wake by itself (epoch ms), or undefined while it is awake. */
  get sleepsUntilEpochMs(): number | undefined {
    const v = Atomics.load(this.wakeAt, 0);
    return v === 0n ? undefined : Number(v) / 1000;
  }

  /**
   * A window's frames, in turn order. `audioReadyMs` (this thread's performance.now()): when the
   * window's agent audio was all in. Without it, frames that come late are taken for a source
   * behind real time (the clock is re-anchored); with it, the pacer can tell an inference tail.
   */
  pushFrames(session: number, turn: number, firstFrameIndex: number, r: WindowResult, audioReadyMs?: number): void {
    // The worker starts the turn's clock when these frames arrive, about now; its report refines it.
    const known = this.clocks.get(session);
    const starting = !known || known.turn < turn;
    // A turn's first frames start its clock when the pacer takes them: within one batch, as the
    // pacer's grid allows for every frame (a busy pacer wakes that often anyway; an idle one is
    // woken). Later frames are due on the mirrored clock, and the pacer must have them a batch
    // before (it sends a batch's frames early).
    const now = performance.now();
    const needBy = starting ? now + this.batchMs : known.clock.deadline(firstFrameIndex) - this.batchMs;
    if (starting) this.mirrorClock(session, turn, now);
    const transfer = r.bytes.byteOffset === 0 && r.bytes.byteLength === r.bytes.buffer.byteLength ? [r.bytes.buffer as ArrayBuffer] : [];
    this.post({
      op: 'frames', session, turn, firstFrameIndex, bytes: r.bytes, lengths: r.lengths, timestampOffsets: r.timestampOffsets,
      audioReadyEpochMs: audioReadyMs === undefined ? undefined : performance.timeOrigin + audioReadyMs,
    }, transfer, needBy);
  }

  /**
   * The pacer needs the end only to report `turnDone` after the turn's last frame. While that
   * frame is still to be sent, the pacer takes the end when it wakes for it (or when that frame's
   * window arrives, which wakes it if need be); once it is due — sent, or about to be — the end
   * must reach the pacer within a batch.
   */
  endTurn(session: number, turn: number, totalFrames: number): void {
    const last = this.dueAtMs(session, turn, totalFrames - 1);
    const needBy = last === undefined ? Number.POSITIVE_INFINITY : Math.max(performance.now() + this.batchMs, last - this.batchMs);
    this.post({ op: 'end', session, turn, totalFrames }, [], needBy);
  }

  /**
   * No wake-up: the pacer reads its inbox before it sends anything, so the dropped turn's frames
   * are forgotten before any of them could go (the server also ignores frames of a turn it
   * dropped); until then they only take memory.
   */
  drop(session: number, turn: number): void {
    this.forgetClock(session, turn);
    this.post({ op: 'drop', session, turn }, [], Number.POSITIVE_INFINITY);
  }

  closeSession(session: number): void {
    this.clocks.delete(session);
    this.post({ op: 'close', session }, [], Number.POSITIVE_INFINITY);
  }

  /**
   * When frame `frameIndex` of the turn is due, in this thread's performance.now() ms; undefined
   * before the turn's first frames reached the pacer. Later re-anchors (a source behind real time)
   * move it later, never earlier; an inference tail does not move it.
   */
  dueAtMs(session: number, turn: number, frameIndex: number): number | undefined {
    const c = this.clocks.get(session);
    return c && c.turn === turn ? c.clock.deadline(frameIndex) : undefined;
  }

  /**
   * Where a window whose first frame is `frameIndex` stands in the inference queue: its due time
   * once the turn's clock runs; before that, the earliest it can be due — as if the clock started
   * now, never before now. A turn's second window, sent to the pool beside its first, is then
   * ordered by when it can first be needed (the lead and the first window's frames later), not
   * as due at once, so other turns' first windows are not queued behind it.
   */
  orderAtMs(session: number, turn: number, frameIndex: number): number {
    const due = this.dueAtMs(session, turn, frameIndex);
    if (due !== undefined) return due;
    const now = performance.now();
    this.startingNow.start(now);
    return Math.max(now, this.startingNow.deadline(frameIndex));
  }

  private mirrorClock(session: number, turn: number, originMs: number): void {
    const known = this.clocks.get(session);
    if (known && known.turn > turn) return; // a report about a turn that is already over
    const clock = known && known.turn === turn ? known.clock : new TurnClock(this.leadFrames);
    clock.start(originMs);
    this.clocks.set(session, { turn, clock });
  }

  private forgetClock(session: number, turn: number): void {
    if (this.clocks.get(session)?.turn === turn) this.clocks.delete(session);
  }

  /** The pacing thread's id. (It is up once `stats` is set: the first report comes after 1 s.) */
  get threadId(): number {
    return this.worker.threadId;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.post({ op: 'stop' });
    await Promise.race([exited, new Promise((r) => setTimeout(r, 1000).unref())]);
    await this.worker.terminate();
  }
}

/** Every frame of a batch from the pacing worker, in order. */
export function eachFrame(batch: FrameBatch, fn: PacerCallbacks['onFrame']): void {
  const { meta } = batch;
  let at = 0;
  for (let i = 0; i < meta.length; i += FRAME_META_INTS) {
    const len = meta[i + 3]!;
    fn(meta[i]!, meta[i + 1]!, meta[i + 2]!, new Uint8Array(batch.bytes, at, len));
    at += len;
  }
}
