import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FromPacer, OutgoingFrame, PacingStats, PacingWorkerData, ToPacer } from './messages.js';
import type { WindowResult } from '../inference/tasks.js';

export interface PacerCallbacks {
  onFrames(frames: OutgoingFrame[]): void;
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
  stats: PacingStats | null = null;
  private stopped = false;

  constructor(leadFrames: number, callbacks: PacerCallbacks, private readonly logger: Logger) {
    const channel = new MessageChannel();
    const data: PacingWorkerData = { control: this.control, leadFrames, port: channel.port2 };
    this.worker = new Worker(new URL('../../workers/pacing.js', import.meta.url), {
      workerData: data,
      transferList: [channel.port2],
      name: 'pacing',
    });
    this.port = channel.port1;
    this.port.on('message', (data: unknown) => {
      const msg = data as FromPacer;
      if (msg.op === 'send') callbacks.onFrames(msg.frames);
      else if (msg.op === 'turnDone') callbacks.onTurnDone(msg.session, msg.turn);
      else this.stats = msg.stats;
    });
    this.worker.on('error', (err) => this.logger.fatal({ err }, 'pacing worker failed'));
    this.worker.on('exit', (code) => {
      if (!this.stopped) this.logger.fatal({ code }, 'pacing worker exited');
    });
  }

  private post(msg: ToPacer, transfer: ArrayBuffer[] = []): void {
    this.port.postMessage(msg, transfer);
    Atomics.add(this.ctrl, 0, 1);
    Atomics.notify(this.ctrl, 0);
  }

  pushFrames(session: number, turn: number, firstFrameIndex: number, r: WindowResult): void {
    const transfer = r.bytes.byteOffset === 0 && r.bytes.byteLength === r.bytes.buffer.byteLength ? [r.bytes.buffer as ArrayBuffer] : [];
    this.post({ op: 'frames', session, turn, firstFrameIndex, bytes: r.bytes, lengths: r.lengths, timestampOffsets: r.timestampOffsets }, transfer);
  }

  endTurn(session: number, turn: number, totalFrames: number): void {
    this.post({ op: 'end', session, turn, totalFrames });
  }

  drop(session: number, turn: number): void {
    this.post({ op: 'drop', session, turn });
  }

  closeSession(session: number): void {
    this.post({ op: 'close', session });
  }

  /** Resolves once the worker thread is up (the first stats report or a short grace). */
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
