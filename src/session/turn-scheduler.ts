import type { Logger } from 'pino';
import { PcmRing } from '../audio/pcm-ring.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import type { WindowResult, WindowTask } from '../inference/tasks.js';
import type { WindowDeadline } from '../inference/window-deadline.js';
import { SOURCE_HEADROOM_MS } from '../pacing/turn-clock.js';

/** What the scheduler needs from the inference pool (src/inference/pool.ts). */
export interface WindowRunner {
  runWindow(task: WindowTask, deadline: WindowDeadline): Promise<WindowResult>;
}

/** What the scheduler needs from the pacing worker's main-thread side (src/pacing/pacer.ts). */
export interface TurnPacer {
  /** `audioReadyMs` (performance.now()): when the window's agent audio was all in. */
  pushFrames(session: number, turn: number, firstFrameIndex: number, r: WindowResult, audioReadyMs?: number): void;
  endTurn(session: number, turn: number, totalFrames: number): void;
  drop(session: number, turn: number): void;
  closeSession(session: number): void;
  dueAtMs(session: number, turn: number, frameIndex: number): number | undefined;
  /** Inference queue order of a window: its due time, or before the clock runs the earliest it can be due. */
  orderAtMs(session: number, turn: number, frameIndex: number): number;
}

/** The one timer the scheduler runs (the window wait); injectable so tests drive it. */
export interface SchedulerTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: SchedulerTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** What the session says to the client when a turn moves through its states. */
export interface TurnEvents<T> {
  /** The turn becomes the playing one (`avatar_state` Responding). */
  promoted(turn: T): void;
  /** Its first audio is in: `audio_start`, once. */
  audioStarted(turn: T): void;
  /** Its last frame was handed over (or it had no audio): `audio_end` and the rest. */
  finished(turn: T): void;
  /** A paced frame of the playing turn, to send as it is. */
  frame(bytes: Uint8Array): void;
  /** The pool could not produce a window even with its fallbacks. */
  windowFailed(err: unknown): void;
}

/** The scheduler's part of one agent response. */
export interface ScheduledTurn {
  seq: number;
  turnId: string;
  /** Absolute ring position of the turn's first sample (set when it becomes the playing turn). */
  ringStart: number;
  /** Samples of this turn in the ring / handed to inference. */
  written: number;
  dispatched: number;
  /** Audio waiting for ring space or for the turn before it to finish. Never dropped. */
  pending: Buffer[];
  pendingSamples: number;
  /** An odd trailing byte of agent audio, kept until its partner arrives. */
  carry: Buffer | null;
  /**
   * When agent audio came in: the turn's sample count after each chunk, and performance.now()
   * then. Entries up to the last dispatched window's end are dropped; the one that completes a
   * window says when its audio was ready, which the pacer needs to tell a late inference result
   * (audio in time) from an agent behind real time (audio late) — see TurnClock.late.
   */
  arrivals: Array<{ endSample: number; atMs: number }>;
  /** Windows of this turn at the pool by first frame index: where each reads from, and what it would free. */
  inflight: Map<number, { contextStart: number; wanted: number }>;
  /** Windows dispatched so far (the next one's index in the turn). */
  windows: number;
  /** Results that came back before an earlier window's: held so the pacer gets frames in order. */
  early: Map<number, { result: WindowResult; audioReadyMs: number }>;
  /** First frame index of the next result the pacer must get. */
  nextFrameToPace: number;
  /** Furthest ring position a returned window would have freed (its next window's context start). */
  releaseWanted: number;
  agentDone: boolean;
  /** `audio_start` sent (its first audio arrived). */
  started: boolean;
  framesSent: number;
  /** Timer that releases a partial window (WINDOW_MAX_WAIT_MS). */
  waitTimer: unknown;
  /** The oldest undispatched audio has waited WINDOW_MAX_WAIT_MS. */
  windowDue: boolean;
  /** The ring was full at least once in this turn (logged once). */
  ringWasFull: boolean;
}

export function scheduledTurn(seq: number, turnId: string): ScheduledTurn {
  return {
    seq, turnId, ringStart: 0, written: 0, dispatched: 0, pending: [], pendingSamples: 0, carry: null, arrivals: [],
    inflight: new Map(), windows: 0, early: new Map(), nextFrameToPace: 0, releaseWanted: 0, agentDone: false, started: false, framesSent: 0, waitTimer: null, windowDue: false, ringWasFull: false,
  };
}

export interface TurnSchedulerOptions<T> {
  /** Numeric id of the session in the pacing worker's tables. */
  key: number;
  sessionId: string;
  pool: WindowRunner;
  pacer: TurnPacer;
  events: TurnEvents<T>;
  logger: Logger;
  /** A turn's first window (short: the viewer waits for its frames). */
  firstWindowSamples: number;
  /**
   * The longest later window. Later windows grow from the first: each at most twice the audio
   * already dispatched (see nextWindowSamples), so the second stays short and the rest are long.
   */
  windowSamples: number;
  contextSamples: number;
  /**
   * Audio after a window fed to the model with it when it is already in the ring (default 0): the
   * model reads ~100 ms ahead of each frame, and without what follows a window's last frames are
   * computed against silence. A window never waits for it.
   */
  rightContextSamples?: number;
  /** Ring capacity in samples at 24 kHz (default 4 s). */
  ringSamples?: number;
  /**
   * Windows of a turn at the pool at once (default 1). With more, the next window is computed
   * while the one before is still queued or running, so it is not dispatched only when the one
   * before is back, a few frames before it is due.
   */
  maxInflight?: number;
  /**
   * How far ahead of the frames already sent a window may start, in frames (default: unbounded).
   * An agent that streams faster than real time then cannot fill the pool with windows due
   * seconds later; the rest waits in the ring.
   */
  lookaheadFrames?: number;
  timers?: SchedulerTimers;
}

const MAX_TURN_AUDIO_SAMPLES = OUTPUT_SAMPLE_RATE * 600; // 10 minutes per response
/**
 * A window goes out when it is full, or when its oldest audio has waited this long (whole frames
 * only): an agent that streams in real time must not hold frames back until a window fills, or
 * the media clock overtakes them. Agents that stream faster than real time fill windows first.
 */
export const WINDOW_MAX_WAIT_MS = 60;
/**
 * A turn's first window waits longer before it goes out short: it starts the turn's media clock,
 * and the audio it holds is all the buffer playback starts with. Released after 60 ms, it held
 * 100 ms of an agent that sends 100 ms chunks at real time, so the next chunk arrived just after
 * its first frame was due (two underruns per turn). 100 ms lets that second chunk complete it.
 */
export const FIRST_WINDOW_MAX_WAIT_MS = 100;
/**
 * A turn's short window (not its first) goes out only when its first frame is due within this
 * long (else the max wait is stretched to that point): an agent streaming faster than real time is
 * then ahead of playback and its windows fill. Cut at WINDOW_MAX_WAIT_MS regardless, a 4× stream's
 * windows held ~240 ms instead of 500 (the longest window then), each with the same 500 ms of model context around it: at
 * 160 sessions streaming at 4× the pool ran 4,386 / 4,191 windows where this leaves 3,824 / 3,866, and
 * the late frames fell from 1,311 / 6,619 to 1 / 582 (paired runs). An agent at real time hands
 * over audio ~0–130 ms before its frames are due, well inside this horizon: its windows still go
 * out after WINDOW_MAX_WAIT_MS.
 */
export const PARTIAL_WINDOW_HORIZON_MS = 250;
/**
 * Once the turn's clock runs, a frame whose audio is in and which is due within this long goes
 * out now, in whole frames, without waiting for its window to fill or for WINDOW_MAX_WAIT_MS: an
 * agent at real time hands over each chunk about when its frames are needed. The pacer takes
 * audio that was in less than this long before its frame was due for an agent behind real time:
 * one horizon, defined beside the clock (the pacing worker imports that module, not this one).
 */
export const URGENT_WINDOW_MS = SOURCE_HEADROOM_MS;

/**
 * The turn scheduler of one widget session: agent PCM into the session's ring (what does not fit
 * waits in the turn's queue), one window at a time to the inference pool, finished frames to the
 * pacer, paced frames back to the client. turns[0] plays; later ones are responses that started
 * before it finished and wait their turn. Bookkeeping only: it runs on the main thread.
 */
export class TurnScheduler<T extends ScheduledTurn> {
  private readonly o: TurnSchedulerOptions<T>;
  private readonly ring: PcmRing;
  private readonly timers: SchedulerTimers;
  private turns: T[] = [];
  private writePos = 0;
  private closed = false;

  constructor(opts: TurnSchedulerOptions<T>) {
    this.o = opts;
    // 4 s holds context + window + in-flight audio; bursts beyond wait in the turn's pending queue.
    this.ring = PcmRing.create(opts.ringSamples ?? OUTPUT_SAMPLE_RATE * 4);
    this.timers = opts.timers ?? realTimers;
  }

  /** The turn that plays now, if any. */
  get playing(): T | undefined {
    return this.turns[0];
  }

  get isSpeaking(): boolean {
    return this.turns.length > 0;
  }

  /** A new agent response: it plays at once, or after the ones before it. */
  enqueue(turn: T): void {
    this.turns.push(turn);
    if (this.turns.length === 1) this.promote(turn);
  }

  append(turn: T, chunk: Buffer): void {
    let pcm = chunk;
    if (turn.carry) {
      pcm = Buffer.concat([turn.carry, chunk]);
      turn.carry = null;
    }
    if (pcm.length % 2 === 1) {
      turn.carry = Buffer.from(pcm.subarray(pcm.length - 1));
      pcm = pcm.subarray(0, pcm.length - 1);
    }
    if (pcm.length === 0) return;
    if (turn.written + turn.pendingSamples + pcm.length / 2 > MAX_TURN_AUDIO_SAMPLES) {
      this.o.logger.error('agent response exceeds 10 minutes of audio; rest ignored');
      return;
    }
    const playing = this.turns[0] === turn;
    if (playing) this.startAudio(turn);
    let rest = pcm;
    if (playing && turn.pending.length === 0) {
      // The common case: straight into the ring, no copy of the chunk.
      rest = pcm.subarray(this.toRing(turn, pcm) * 2);
    }
    if (rest.length > 0) {
      // Copy: agents may reuse their buffers, and pending audio must outlive the event.
      turn.pending.push(Buffer.from(rest));
      turn.pendingSamples += rest.length / 2;
      if (rest !== pcm) this.noteRingFull(turn);
    }
    turn.arrivals.push({ endSample: turn.written + turn.pendingSamples, atMs: performance.now() });
    if (playing) {
      this.fillRing(turn);
      this.schedule();
      this.armWaitTimer(turn);
    }
  }

  /** The agent ended the response: no more audio for it. */
  endOfAudio(turn: T): void {
    turn.agentDone = true;
    if (turn.carry) {
      this.o.logger.warn('agent audio ended on an odd byte; last byte dropped');
      turn.carry = null;
    }
    if (this.turns[0] === turn) this.announceEnd(turn);
    this.schedule();
  }

  /** `audio_start`, once, when the playing turn has its first audio. */
  private startAudio(turn: T): void {
    if (turn.started) return;
    turn.started = true;
    this.o.events.audioStarted(turn);
  }

  /** Move pending audio of the playing turn into the ring as far as space allows. */
  private fillRing(turn: T): void {
    while (turn.pending.length > 0) {
      const head = turn.pending[0]!;
      const n = this.toRing(turn, head);
      turn.pendingSamples -= n;
      if (n * 2 < head.length) {
        turn.pending[0] = head.subarray(n * 2);
        this.noteRingFull(turn);
        return; // ring full: the rest waits for the next released window
      }
      turn.pending.shift();
    }
  }

  /** `pcm` into the ring at the write position, as much as fits; returns the samples written. */
  private toRing(turn: T, pcm: Uint8Array): number {
    const n = this.ring.write(this.writePos, pcm);
    this.writePos += n;
    turn.written += n;
    return n;
  }

  private noteRingFull(turn: T): void {
    if (turn.ringWasFull) return;
    turn.ringWasFull = true;
    this.o.logger.debug({ turnId: turn.turnId, waitingSamples: turn.pendingSamples }, 'ring full; agent audio waits in the turn queue');
  }

  private promote(turn: T): void {
    turn.ringStart = this.writePos;
    this.o.events.promoted(turn);
    if (turn.pendingSamples > 0) {
      this.startAudio(turn);
      this.fillRing(turn);
    }
    if (turn.agentDone) this.announceEnd(turn);
    this.schedule();
  }

  /** Tell the pacer how many frames the playing turn has, once the agent has finished it. */
  private announceEnd(turn: T): void {
    const total = turn.written + turn.pendingSamples;
    if (total === 0) {
      this.finishTurn(turn);
      return;
    }
    this.o.pacer.endTurn(this.o.key, turn.seq, Math.ceil(total / SAMPLES_PER_FRAME));
  }

  /**
   * Start the max-wait clock for audio that is in the ring but not yet in a window: the max wait,
   * or until the next window's first frame is due within PARTIAL_WINDOW_HORIZON_MS if that is
   * later. Before the turn's clock runs, as if it started now (`orderAtMs`): the earliest the frame
   * can be due, since the clock starts when the first window reaches the pacer, not before.
   */
  private armWaitTimer(turn: T): void {
    if (turn.waitTimer || turn.windowDue || turn.written - turn.dispatched < SAMPLES_PER_FRAME) return;
    const waitMs = turn.dispatched === 0
      ? FIRST_WINDOW_MAX_WAIT_MS
      : Math.max(WINDOW_MAX_WAIT_MS, Math.ceil(this.o.pacer.orderAtMs(this.o.key, turn.seq, turn.dispatched / SAMPLES_PER_FRAME) - performance.now() - PARTIAL_WINDOW_HORIZON_MS));
    turn.waitTimer = this.timers.setTimeout(() => {
      turn.waitTimer = null;
      turn.windowDue = true;
      this.schedule();
    }, waitMs);
  }

  /** Hand the playing turn's next windows to the pool while they are ready and allowed. */
  private schedule(): void {
    const turn = this.turns[0];
    while (turn && !this.closed && this.dispatchNext(turn));
  }

  /**
   * How long the next window may be, `dispatched` samples into the turn: the first window's length,
   * then at most twice what is dispatched so far, up to windowSamples (200 ms, 400 ms, then
   * AUDIO_CHUNK_DURATION at the defaults). Each window costs the main thread the same hand-offs
   * whatever its length (~0.1–0.3 ms on a small VM: dispatch, the worker's wake-up, the result,
   * the frames to the pacer) and the worker its model context again, so later windows are long;
   * the second is due soonest after the first (its first frame is due a few frames after the
   * turn starts playing), so it grows only to twice the first.
   */
  private nextWindowSamples(dispatched: number): number {
    const first = this.o.firstWindowSamples;
    return dispatched === 0 ? first : Math.min(this.o.windowSamples, Math.max(first, 2 * dispatched));
  }

  /** One window of the playing turn to the pool, if one is ready and in bounds; false otherwise. */
  private dispatchNext(turn: T): boolean {
    if (turn.inflight.size >= (this.o.maxInflight ?? 1)) return false;
    if (turn.dispatched / SAMPLES_PER_FRAME > turn.framesSent + (this.o.lookaheadFrames ?? Infinity)) return false;
    const available = turn.written - turn.dispatched;
    const windowSamples = this.nextWindowSamples(turn.dispatched);
    const lastAudio = turn.agentDone && turn.pendingSamples === 0;
    let n: number;
    if (available >= windowSamples) n = windowSamples;
    else if (lastAudio && available > 0) n = available;
    else if ((turn.windowDue || this.dueSoon(turn)) && available >= SAMPLES_PER_FRAME) {
      n = available - (available % SAMPLES_PER_FRAME); // whole frames only: more audio follows
    } else return false;
    if (turn.waitTimer) this.timers.clearTimeout(turn.waitTimer);
    turn.waitTimer = null;
    turn.windowDue = false;
    const start = turn.ringStart + turn.dispatched;
    const end = start + n;
    const contextStart = Math.max(turn.ringStart, start - this.o.contextSamples);
    // What the worker may free once it has read the window: up to the next window's context, but
    // never audio that a window still at the pool reads (results can come back in any order).
    const wanted = Math.max(turn.ringStart, end - this.o.contextSamples);
    const releaseTo = Math.min(wanted, this.oldestRead(turn));
    const firstFrameIndex = turn.dispatched / SAMPLES_PER_FRAME;
    const audioReadyMs = this.audioReadyAt(turn, turn.dispatched + n);
    turn.dispatched += n;
    const final = lastAudio && turn.dispatched === turn.written;
    // What already follows the window in the ring (never released before this task has read it:
    // releaseTo stays ≤ end − context).
    const readEnd = final ? end : Math.min(turn.ringStart + turn.written, end + (this.o.rightContextSamples ?? 0));
    turn.inflight.set(firstFrameIndex, { contextStart, wanted });
    const windowIndex = turn.windows++;
    const task: WindowTask = { kind: 'window', ring: this.ring.sab, sessionId: this.o.sessionId, turnId: turn.turnId, contextStart, start, end, firstFrameIndex, final, releaseTo, windowIndex };
    // Set afterwards, not spread into the literal: a conditional spread builds the object through V8's slow path.
    if (readEnd > end) task.readEnd = readEnd;
    this.o.pool
      .runWindow(task, {
        // Needed by the pacer's due time of its first frame: a stuck worker is hedged or filled, never waited for.
        dueAtMs: () => this.o.pacer.dueAtMs(this.o.key, turn.seq, firstFrameIndex),
        orderAtMs: () => this.o.pacer.orderAtMs(this.o.key, turn.seq, firstFrameIndex),
        stillNeeded: () => !this.closed && this.turns[0] === turn,
      })
      .then(
        (result) => this.onWindow(turn, firstFrameIndex, result, audioReadyMs),
        (err) => {
          // The pool already retried and fell back to neutral weights; this is a broken pool.
          this.windowBack(turn, firstFrameIndex);
          this.o.events.windowFailed(err);
        },
      );
    return true;
  }

  /** The turn's next undispatched frame is due within URGENT_WINDOW_MS (its clock runs). */
  private dueSoon(turn: T): boolean {
    const due = this.o.pacer.dueAtMs(this.o.key, turn.seq, turn.dispatched / SAMPLES_PER_FRAME);
    return due !== undefined && due - performance.now() <= URGENT_WINDOW_MS;
  }

  /**
   * When the turn's audio up to sample `end` (turn-relative) had all come in: the arrival of the
   * chunk holding sample end − 1. Drops the arrivals that windows have now passed.
   */
  private audioReadyAt(turn: T, end: number): number {
    let i = 0;
    while (i < turn.arrivals.length - 1 && turn.arrivals[i]!.endSample < end) i++;
    const atMs = turn.arrivals[i]?.atMs ?? performance.now();
    turn.arrivals.splice(0, turn.arrivals[i] && turn.arrivals[i]!.endSample <= end ? i + 1 : i);
    return atMs;
  }

  /** Ring position no window still at the pool reads from (Infinity when none is out). */
  private oldestRead(turn: T): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const w of turn.inflight.values()) oldest = Math.min(oldest, w.contextStart);
    return oldest;
  }

  /**
   * A window is back: free what it would have freed had it been alone, unless a window still at
   * the pool reads it. The worker's own release was capped the same way at dispatch; this one
   * catches up once the windows ahead of it are back.
   */
  private windowBack(turn: T, firstFrameIndex: number): void {
    const w = turn.inflight.get(firstFrameIndex);
    turn.inflight.delete(firstFrameIndex);
    if (w) turn.releaseWanted = Math.max(turn.releaseWanted, w.wanted);
    if (this.turns[0] === turn && !this.closed) this.ring.release(Math.min(turn.releaseWanted, this.oldestRead(turn)));
  }

  private onWindow(turn: T, firstFrameIndex: number, result: WindowResult, audioReadyMs: number): void {
    this.windowBack(turn, firstFrameIndex);
    if (this.closed || this.turns[0] !== turn) return; // interrupted meanwhile: frames dropped
    // The pacer takes a turn's frames in order: a window back before the one ahead of it waits.
    turn.early.set(firstFrameIndex, { result, audioReadyMs });
    for (let w = turn.early.get(turn.nextFrameToPace); w; w = turn.early.get(turn.nextFrameToPace)) {
      turn.early.delete(turn.nextFrameToPace);
      this.o.pacer.pushFrames(this.o.key, turn.seq, turn.nextFrameToPace, w.result, w.audioReadyMs);
      turn.nextFrameToPace += w.result.frameCount;
    }
    this.fillRing(turn);
    this.schedule();
    this.armWaitTimer(turn);
  }

  /** A paced frame is due: send it as it is, unless its turn was interrupted meanwhile. */
  deliverFrame(turnSeq: number, bytes: Uint8Array): void {
    const turn = this.turns[0];
    if (!turn || turn.seq !== turnSeq || this.closed) return;
    this.o.events.frame(bytes);
    turn.framesSent++;
    // A window held back by the lookahead may go now (a few comparisons when none is).
    if (this.o.lookaheadFrames !== undefined) this.schedule();
  }

  /** The pacer handed over the turn's last frame. */
  onTurnDone(turnSeq: number): void {
    const turn = this.turns[0];
    if (turn && turn.seq === turnSeq) this.finishTurn(turn);
  }

  private finishTurn(turn: T): void {
    this.o.events.finished(turn);
    this.turns.shift();
    const next = this.turns[0];
    if (next) this.promote(next);
  }

  /** Interrupt: the playing turn's queued frames and every waiting turn are dropped. */
  dropAll(): void {
    const playing = this.turns[0];
    if (playing) this.o.pacer.drop(this.o.key, playing.seq);
    this.clearTimers();
    this.turns = [];
    // Their audio in the ring is never read again: free it for the next turn. Without this, a turn
    // interrupted while its first window (which keeps all of its context) was in flight leaves a
    // full ring behind, and the next turn never gets a sample in. A dropped window still in flight
    // releases its own (earlier) position later: release never moves back, and the one store race
    // with it can only cost the next turn that window's length of space, never all of it.
    this.ring.release(this.writePos);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearTimers();
    this.turns = [];
    this.o.pacer.closeSession(this.o.key);
  }

  private clearTimers(): void {
    for (const turn of this.turns) {
      if (turn.waitTimer) this.timers.clearTimeout(turn.waitTimer);
      turn.waitTimer = null;
    }
  }
}

/**
 * The scheduler's side of INFERENCE_SCHEDULER: `deadline` pipelines two windows of a turn, at
 * most INFERENCE_LOOKAHEAD_MS ahead of the frames already sent; `fifo` keeps one window of a turn
 * at the pool at a time, dispatched when the one before is back (the scheduler before issue 20).
 */
export function schedulingFor(c: { inferenceScheduler: 'deadline' | 'fifo'; inferenceLookaheadMs: number }): { maxInflight: number; lookaheadFrames?: number } {
  if (c.inferenceScheduler === 'fifo') return { maxInflight: 1 };
  return { maxInflight: 2, lookaheadFrames: Math.round((c.inferenceLookaheadMs * OUTPUT_SAMPLE_RATE) / 1000 / SAMPLES_PER_FRAME) };
}
