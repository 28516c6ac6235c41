import { PcmRing } from '../audio/pcm-ring.js';
import { PolyphaseResampler } from '../audio/resampler.js';
import { FRAME_RATE, OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME } from '../audio/constants.js';
import { ARKIT_COUNT } from '../protocol/arkit.js';
import type { WindowSpan } from '../inference/tasks.js';
import { VIDEO_AUDIO_SAMPLE_RATE, VIDEO_SAMPLES_PER_FRAME, weightsAt25Fps } from './video-clock.js';

/**
 * Speech for the video dialects, on its way from 16 kHz PCM to 25 FPS blendshape frames
 * (worker side). Audio is cut into segments (runs of speech without a pause); each segment is
 * upsampled to 24 kHz into the session's PcmRing in whole 200 ms blocks (6 frames at 30 FPS,
 * 5 at 25 FPS), the ONNX pool turns windows of it into 30 FPS weights, and those are
 * interpolated to the 25 FPS video frames: one frame per 40 ms (640 samples) of audio.
 */
export interface WindowRequest extends WindowSpan {
  id: number;
}

interface Segment {
  ringStart: number;
  pcm16: Int16Array;
  len16: number;
  closed: boolean;
  /** 24 kHz samples of this segment written to the ring and sent to inference. */
  dispatched24: number;
  /** 24 kHz samples of this segment in the ring: the dispatched ones and the right context read after them. */
  written24: number;
  weights30: Float32Array;
  frames30: number;
  /** 25 FPS frames of this segment already handed out. */
  taken25: number;
}

/** One 200 ms block: a whole number of frames at both 30 and 25 FPS, and of 3 (16 → 24 kHz). */
const BLOCK_24 = 4800;
/** Input samples the resampler looks ahead/behind at 16 kHz (its filter half-length, rounded up, even). */
const MARGIN_16 = 32;
/** A segment longer than this is cut (bounds its buffers); the cut costs one window of context. */
const MAX_SEGMENT_16 = VIDEO_AUDIO_SAMPLE_RATE * 60;

export interface SpeechTrackOptions {
  /** 24 kHz samples of earlier audio fed to the model as context (whole 30 FPS frames). */
  contextSamples?: number;
  /** Longest window, 24 kHz samples (whole blocks). */
  maxWindowSamples?: number;
  /**
   * Audio after a window fed to the model with it when the segment already has it (24 kHz
   * samples, default 0; the server passes INFERENCE_RIGHT_CONTEXT_MS): the model reads ~100 ms
   * ahead of each frame, and without it a window's last frames are computed against silence. A
   * window never waits for it.
   */
  rightContextSamples?: number;
}

export class SpeechTrack {
  readonly ring: PcmRing;
  private readonly resampler = new PolyphaseResampler(VIDEO_AUDIO_SAMPLE_RATE, OUTPUT_SAMPLE_RATE);
  private readonly segments: Segment[] = [];
  private writePos = 0;
  private inFlight: { req: WindowRequest; segment: Segment } | null = null;
  private nextId = 1;
  private readonly contextSamples: number;
  private readonly maxWindowSamples: number;
  private readonly rightContextSamples: number;
  private scratchIn = new Float32Array(0);
  private scratchOut = new Float32Array(0);

  constructor(ring: PcmRing, opts: SpeechTrackOptions = {}) {
    this.ring = ring;
    this.contextSamples = opts.contextSamples ?? 15 * SAMPLES_PER_FRAME;
    this.maxWindowSamples = opts.maxWindowSamples ?? 5 * BLOCK_24;
    this.rightContextSamples = Math.max(0, Math.floor(opts.rightContextSamples ?? 0));
  }

  /** 25 FPS frames of speech queued and not yet taken (ready or waiting for inference). */
  get queuedFrames(): number {
    let n = 0;
    for (const s of this.segments) n += this.totalFrames25(s) - s.taken25;
    return n;
  }

  /** Samples of 16 kHz audio buffered and not yet played out as frames. */
  get hasOpenSegment(): boolean {
    const last = this.segments[this.segments.length - 1];
    return last !== undefined && !last.closed;
  }

  /** Append speech (16 kHz PCM16). */
  append(pcm: Int16Array): void {
    let seg = this.segments[this.segments.length - 1];
    if (!seg || seg.closed) {
      seg = { ringStart: this.writePos, pcm16: new Int16Array(VIDEO_AUDIO_SAMPLE_RATE), len16: 0, closed: false, dispatched24: 0, written24: 0, weights30: new Float32Array(FRAME_RATE * ARKIT_COUNT), frames30: 0, taken25: 0 };
      this.segments.push(seg);
    }
    if (seg.len16 + pcm.length > seg.pcm16.length) {
      const grown = new Int16Array(Math.max(seg.pcm16.length * 2, seg.len16 + pcm.length));
      grown.set(seg.pcm16.subarray(0, seg.len16));
      seg.pcm16 = grown;
    }
    seg.pcm16.set(pcm, seg.len16);
    seg.len16 += pcm.length;
    if (seg.len16 >= MAX_SEGMENT_16) this.end();
  }

  /** The speech paused: the open segment's last (partial) frame is final. */
  end(): void {
    const seg = this.segments[this.segments.length - 1];
    if (seg && !seg.closed) seg.closed = true;
  }

  private len24(s: Segment): number {
    return Math.ceil((s.len16 * 3) / 2);
  }

  private totalFrames25(s: Segment): number {
    return s.closed ? Math.ceil(s.len16 / VIDEO_SAMPLES_PER_FRAME) : Math.floor(s.len16 / VIDEO_SAMPLES_PER_FRAME);
  }

  /** The next window to infer, if one is ready and none is in flight; its audio is in the ring. */
  nextWindow(): WindowRequest | null {
    if (this.inFlight) return null;
    const seg = this.segments.find((s) => s.dispatched24 < this.len24(s) && (s.closed || this.computable24(s) - s.dispatched24 >= BLOCK_24));
    if (!seg) return null;
    const d = seg.dispatched24;
    const len24 = this.len24(seg);
    const limit = d === 0 ? BLOCK_24 : this.maxWindowSamples;
    /** 24 kHz samples of the segment that can be written now (an open one keeps the resampler's look-ahead back). */
    const available24 = seg.closed ? len24 : this.computable24(seg);
    let e: number;
    if (seg.closed && len24 - d <= limit) e = len24;
    else e = d + Math.min(Math.floor((available24 - d) / BLOCK_24) * BLOCK_24, limit);
    if (e <= d) return null;
    const free = this.ring.freeSamples(seg.ringStart + d);
    if (free < e - d) return null; // ring full until a window releases
    const final = seg.closed && e === len24;
    // What follows the window, as far as the segment has it and the ring has room: whole 3-sample
    // steps (e is a whole block here), so the next window's audio is resampled from a 16 kHz sample.
    const follows = final ? 0 : Math.min(this.rightContextSamples, available24 - e, free - (e - d));
    const readEnd = e + Math.max(0, Math.floor(follows / 3) * 3);
    if (readEnd > seg.written24) {
      this.writeResampled(seg, Math.max(d, seg.written24), readEnd);
      seg.written24 = readEnd;
    }
    const req: WindowRequest = {
      id: this.nextId++,
      contextStart: seg.ringStart + Math.max(0, d - this.contextSamples),
      start: seg.ringStart + d,
      end: seg.ringStart + e,
      ...(readEnd > e ? { readEnd: seg.ringStart + readEnd } : {}),
      firstFrameIndex: d / SAMPLES_PER_FRAME,
      final,
      releaseTo: final ? seg.ringStart + e : seg.ringStart + Math.max(0, e - this.contextSamples),
    };
    seg.dispatched24 = e;
    this.inFlight = { req, segment: seg };
    return req;
  }

  /** 24 kHz samples of an open segment that the resampler can produce without its look-ahead missing. */
  private computable24(s: Segment): number {
    return Math.max(0, Math.floor(((s.len16 - MARGIN_16) * 3) / 2));
  }

  /**
   * Upsample 24 kHz [d, e) of the segment from its 16 kHz audio and write it into the ring. Each
   * output sample depends only on the input within the filter's reach (MARGIN_16), so audio written
   * as a window's right context equals what the next window would have written.
   */
  private writeResampled(seg: Segment, d: number, e: number): void {
    const i0 = (d * 2) / 3; // d is a whole block or a multiple of 3, so this is an integer
    const h0 = Math.max(0, i0 - MARGIN_16);
    const h1 = Math.min(seg.len16, Math.ceil((e * 2) / 3) + MARGIN_16);
    const n = h1 - h0;
    if (this.scratchIn.length < n) this.scratchIn = new Float32Array(n);
    for (let i = 0; i < n; i++) this.scratchIn[i] = seg.pcm16[h0 + i]! / 32768;
    const outLen = this.resampler.outputLength(n);
    if (this.scratchOut.length < outLen) this.scratchOut = new Float32Array(outLen);
    this.resampler.process(this.scratchIn, n, this.scratchOut);
    const skip = ((i0 - h0) * 3) / 2;
    const bytes = Buffer.alloc((e - d) * 2);
    for (let j = 0; j < e - d; j++) {
      const v = skip + j < outLen ? Math.round(this.scratchOut[skip + j]! * 32768) : 0;
      bytes.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : v, j * 2);
    }
    const written = this.ring.write(seg.ringStart + d, bytes);
    if (written !== e - d) throw new Error('speech ring overflow');
    this.writePos = seg.ringStart + e;
  }

  /** Weights for the window in flight (30 FPS, `frameCount` × 52), or null if inference failed. */
  onWeights(id: number, weights: Float32Array | null, frameCount: number): void {
    const flight = this.inFlight;
    if (!flight || flight.req.id !== id) return;
    this.inFlight = null;
    const seg = flight.segment;
    const at = flight.req.firstFrameIndex;
    const need = (at + frameCount) * ARKIT_COUNT;
    if (seg.weights30.length < need) {
      const grown = new Float32Array(Math.max(seg.weights30.length * 2, need));
      grown.set(seg.weights30.subarray(0, seg.frames30 * ARKIT_COUNT));
      seg.weights30 = grown;
    }
    if (weights) seg.weights30.set(weights.subarray(0, frameCount * ARKIT_COUNT), at * ARKIT_COUNT);
    else seg.weights30.fill(0, at * ARKIT_COUNT, need);
    seg.frames30 = at + frameCount;
  }

  /** Frames ready to play now at the head of the queue, without waiting for inference. */
  readyFrames(): number {
    let n = 0;
    for (const s of this.segments) {
      const total = this.totalFrames25(s);
      const total30 = s.closed && s.dispatched24 === this.len24(s) && !this.inFlightFor(s) ? s.frames30 : Infinity;
      let q = s.taken25;
      while (q < total) {
        const a = Math.floor(1.2 * q + 0.1);
        const needed = Math.min(a + 2, total30);
        if (s.frames30 < needed) return n;
        n++;
        q++;
      }
      if (!s.closed) return n;
    }
    return n;
  }

  private inFlightFor(s: Segment): boolean {
    return this.inFlight?.segment === s;
  }

  /**
   * Take the next speech frame (52 weights into `out`) if it is ready. `last` is true for a
   * segment's final frame.
   */
  take(out: Float32Array): { last: boolean } | null {
    if (this.readyFrames() === 0) return null;
    const s = this.segments[0]!;
    const q = s.taken25++;
    weightsAt25Fps(s.weights30, s.frames30, q, out);
    const last = s.closed && s.taken25 === this.totalFrames25(s);
    if (last) this.segments.shift();
    return { last };
  }
}
