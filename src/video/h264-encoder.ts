import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { AccessUnitSplitter } from './annexb.js';
import { VIDEO_FPS } from './video-clock.js';

/**
 * One persistent ffmpeg/libx264 process per MuseTalk session: raw RGBA frames in on stdin,
 * H.264 Annex-B out on stdout, one access unit per frame (no B-frames, no look-ahead:
 * `-tune zerolatency`). An IDR with SPS/PPS in-band starts every second (keyint = min-keyint =
 * FPS, repeat-headers), so a decoder can join at any keyframe. Lives in the session's video worker.
 */
export interface EncodedFrame {
  au: Buffer;
  /** The frame number the caller gave when it wrote the frame. */
  frame: number;
  speech: boolean;
}

export interface H264EncoderOptions {
  ffmpegPath: string;
  width: number;
  height: number;
  onFrame(frame: EncodedFrame): void;
  /** The process ended before `close()` was called, or could not start. */
  onFailure(err: Error): void;
}

export function ffmpegArgs(width: number, height: number): string[] {
  return [
    '-hide_banner', '-loglevel', 'error', '-nostdin',
    '-f', 'rawvideo', '-pix_fmt', 'rgba', '-s', `${width}x${height}`, '-r', String(VIDEO_FPS), '-i', 'pipe:0',
    '-an', '-vsync', 'passthrough',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-profile:v', 'baseline', '-pix_fmt', 'yuv420p',
    '-threads', '1', '-g', String(VIDEO_FPS), '-bf', '0',
    '-x264-params', `keyint=${VIDEO_FPS}:min-keyint=${VIDEO_FPS}:scenecut=0:repeat-headers=1:aud=1`,
    '-flush_packets', '1', '-f', 'h264', 'pipe:1',
  ];
}

export class H264Encoder {
  private readonly proc: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly splitter = new AccessUnitSplitter();
  /** Frames written whose access unit has not come out yet, oldest first. */
  private readonly pending: Array<{ frame: number; speech: boolean }> = [];
  private closing = false;
  private exited = false;
  private readonly exitPromise: Promise<void>;
  private stderr = '';
  /** stdin said "slow down": the encoder is behind real time. */
  private stdinFull = false;
  private started = false;

  constructor(private readonly opts: H264EncoderOptions) {
    this.proc = spawn(opts.ffmpegPath, ffmpegArgs(opts.width, opts.height), { stdio: ['pipe', 'pipe', 'pipe'] });
    this.exitPromise = new Promise((resolve) => this.proc.once('close', () => resolve()));
    this.proc.once('error', (err) => this.fail(err));
    this.proc.once('exit', (code, signal) => {
      this.exited = true;
      if (!this.closing) this.fail(new Error(`ffmpeg exited (code ${code}, signal ${signal}): ${this.stderr.trim().slice(-500)}`));
    });
    this.proc.stdin.on('error', () => {}); // EPIPE after an exit: reported by 'exit'
    this.proc.stdin.on('drain', () => (this.stdinFull = false));
    this.proc.stderr.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
    this.proc.stdout.on('data', (chunk: Buffer) => {
      for (const au of this.splitter.push(chunk)) this.emit(au);
    });
    this.proc.stdout.on('end', () => {
      const last = this.splitter.flush();
      if (last) this.emit(last);
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Frames in the encoder (written, not yet out). */
  get backlog(): number {
    return this.pending.length;
  }

  /** True when the encoder cannot take a frame without queueing behind real time. */
  get behind(): boolean {
    // Until the first access unit, a backlog is ffmpeg starting up, not falling behind.
    return this.started && (this.stdinFull || this.pending.length > 6);
  }

  private emit(au: Buffer): void {
    this.started = true;
    const meta = this.pending.shift();
    // More AUs than frames cannot happen with this configuration; never invent a frame number.
    if (!meta) return;
    this.opts.onFrame({ au, frame: meta.frame, speech: meta.speech });
  }

  private fail(err: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.opts.onFailure(err);
    this.kill();
  }

  write(rgba: Uint8ClampedArray | Uint8Array, frame: number, speech: boolean): void {
    if (this.closing || this.exited) return;
    this.pending.push({ frame, speech });
    // The renderer hands out a fresh pixel buffer per frame, so the pipe may keep this one.
    if (!this.proc.stdin.write(Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength))) this.stdinFull = true;
  }

  /**
   * Finish: end stdin so the last frames come out, wait up to `graceMs`, then SIGKILL. Resolves
   * when the process is gone.
   */
  async close(graceMs = 1000): Promise<void> {
    this.closing = true;
    if (!this.exited) this.proc.stdin.end();
    const timer = setTimeout(() => this.kill(), graceMs);
    await this.exitPromise;
    clearTimeout(timer);
  }

  /** Immediate kill (errors, shutdown). */
  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}
