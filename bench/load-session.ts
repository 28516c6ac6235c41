import WebSocket from 'ws';
import { FRAME_DURATION_MS } from '../src/audio/constants.js';
import type { LoadStep } from './load-protocol.js';

/** A playing turn with no message for this long is stuck (frames come every 33 ms). */
const STALL_MS = 3000;

/** base64 length of one frame's 1600 bytes of PCM: a cheap check that no audio was cut. */
const FRAME_AUDIO_BASE64_CHARS = 4 * Math.ceil(1600 / 3);

/** One agent response as the load generator saw it, on its own clock (performance.now()). */
export interface TurnRecord {
  turnNo: number;
  measured: boolean;
  interruptPlanned: boolean;
  audioSamples: number;
  agentFirstAudioAt: number;
  turnId: string | null;
  arrivals: number[];
  broken: string | null;
  interruptAt: number | null;
  ackAt: number | null;
  framesAfterInterrupt: number;
  lastFrameAt: number;
  audioEnded: boolean;
  finished: boolean;
}

type Msg = { type: string } & Record<string, unknown>;

/**
 * A lean widget client for load: parses every message like the widget does, but keeps only
 * arrival times and checks (frame order, audio length), so hundreds of sessions fit in memory.
 * Turns run back to back: `text` → frames → `audio_end` → `avatar_state Listening` → next.
 */
export class LoadSession {
  readonly turns: TurnRecord[] = [];
  readonly errors: string[] = [];
  private ws: WebSocket | null = null;
  private current: TurnRecord | null = null;
  private readonly byTurnId = new Map<string, TurnRecord>();
  private wake: (() => void) | null = null;
  private lastMessageAt = 0;
  closed = false;

  constructor(readonly index: number, private readonly step: LoadStep, private readonly audioSamples: number) {}

  connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.step.serverUrl, { perMessageDeflate: false });
      this.ws = ws;
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(err));
      ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
      ws.on('close', (code) => {
        this.closed = true;
        if (this.current && !this.current.finished) this.errors.push(`socket closed (${code}) mid-turn`);
        this.notify();
      });
    });
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    const now = performance.now();
    this.lastMessageAt = now;
    if (isBinary) {
      this.errors.push('binary frame from server');
      return;
    }
    const msg = JSON.parse(data.toString('utf8')) as Msg;
    const turn = this.current;
    switch (msg.type) {
      case 'audio_start':
        if (turn && !turn.turnId) {
          turn.turnId = msg.turnId as string;
          this.byTurnId.set(turn.turnId, turn);
        }
        break;
      case 'sync_frame': {
        const t = this.byTurnId.get(msg.turnId as string);
        if (!t) {
          this.errors.push('sync_frame of an unknown turn');
          break;
        }
        if (t.interruptAt !== null) t.framesAfterInterrupt++;
        if (msg.frameIndex !== t.arrivals.length && !t.broken) t.broken = `frameIndex ${String(msg.frameIndex)} after ${t.arrivals.length} frames`;
        if ((msg.audio as string).length !== FRAME_AUDIO_BASE64_CHARS && !t.broken) t.broken = 'frame audio is not 1600 bytes';
        t.arrivals.push(now);
        t.lastFrameAt = now;
        if (t.interruptPlanned && t.interruptAt === null && now - t.arrivals[0]! >= this.step.interruptAfterMs) {
          t.interruptAt = performance.now();
          this.ws!.send('{"type":"interrupt"}');
        }
        break;
      }
      case 'audio_end':
        if (turn && msg.turnId === turn.turnId) turn.audioEnded = true;
        break;
      case 'interrupt':
        if (turn && msg.turnId === turn.turnId) turn.ackAt = now;
        break;
      case 'avatar_state':
        if (msg.state === 'Listening' && turn && (turn.audioEnded || turn.ackAt !== null)) {
          turn.finished = true;
          this.notify();
        }
        break;
      case 'error':
        this.errors.push(`${String(msg.code)}: ${String(msg.message)}`);
        break;
      default:
        break;
    }
  }

  /** Run every turn of this session; `onWarm` after the first (warm-up) turn. */
  async run(deadline: number, onWarm: () => void): Promise<void> {
    for (let turnNo = 0; turnNo < this.step.turns; turnNo++) {
      const turn: TurnRecord = {
        turnNo, measured: turnNo > 0, interruptPlanned: this.step.interruptAfterMs > 0 && turnNo === this.step.turns - 1 && turnNo > 0,
        audioSamples: this.audioSamples, agentFirstAudioAt: Number.NaN, turnId: null, arrivals: [], broken: null,
        interruptAt: null, ackAt: null, framesAfterInterrupt: 0, lastFrameAt: Number.NaN, audioEnded: false, finished: false,
      };
      this.turns.push(turn);
      this.current = turn;
      if (this.closed) {
        turn.broken = 'socket closed';
        break;
      }
      this.ws!.send(JSON.stringify({ type: 'text', data: `${this.index}:${turnNo}` }));
      this.lastMessageAt = performance.now();
      let stalled = false;
      while (!turn.finished && !this.closed && performance.now() < deadline) {
        if (performance.now() - this.lastMessageAt > STALL_MS) {
          stalled = true;
          break;
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(1, Math.min(deadline, this.lastMessageAt + STALL_MS + 1) - performance.now()));
          this.wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
      if (!turn.finished) {
        turn.broken ??= this.closed ? 'socket closed' : stalled ? `stalled: no message for ${STALL_MS / 1000} s` : 'timed out';
        if (turnNo === 0) onWarm();
        break;
      }
      // An interrupted turn may still have one frame in flight: give it time to show up.
      if (turn.interruptAt !== null) await new Promise((r) => setTimeout(r, 300));
      if (turnNo === 0) onWarm();
    }
    this.current = null;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      const ws = this.ws;
      if (!ws || this.closed) return resolve();
      const t = setTimeout(() => {
        ws.terminate();
        resolve();
      }, 2000);
      ws.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      ws.close();
    });
  }
}

/** Per-frame lateness against the ideal media clock: frame k due at t0 + max(0, k − lead) · 33.3 ms. */
export function frameLateness(arrivals: number[], leadFrames: number): number[] {
  const ideal = (k: number) => Math.max(0, k - leadFrames) * FRAME_DURATION_MS;
  // Anchor on the frame that makes every lateness ≥ 0: the clock's origin as best observed.
  let t0 = Number.POSITIVE_INFINITY;
  for (let k = 0; k < arrivals.length; k++) t0 = Math.min(t0, arrivals[k]! - ideal(k));
  return arrivals.map((at, k) => at - t0 - ideal(k));
}
