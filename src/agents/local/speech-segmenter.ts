/**
 * Turns per-frame speech probabilities into utterances, with hysteresis: speech starts when a
 * frame reaches `threshold` and stays above `negativeThreshold` for `minSpeechMs`; it ends after
 * `minSilenceMs` below `negativeThreshold` (frames between the two thresholds neither start nor
 * end anything). Utterance bounds are padded by `speechPadMs` on both sides. Pure bookkeeping on
 * frame counts, so it runs on the main thread and is tested with synthetic probabilities.
 */

export interface SegmenterOptions {
  /** Probability at or above which a frame is speech. */
  threshold: number;
  /** Probability below which a frame is silence; must not exceed `threshold`. */
  negativeThreshold: number;
  /** Silence that ends an utterance, ms. */
  minSilenceMs: number;
  /** Speech needed before an utterance counts (and can barge in), ms; shorter bursts are ignored. */
  minSpeechMs: number;
  /** Audio kept before the first and after the last speech frame, ms. */
  speechPadMs: number;
  /** An utterance is cut here even if the speaker goes on, ms. */
  maxSpeechMs: number;
  /** Samples per frame and sample rate, to express bounds in samples. */
  frameSamples: number;
  sampleRate: number;
}

/** Bounds are absolute sample positions in the stream (frame f covers [f·frameSamples, (f+1)·frameSamples)). */
export type SegmentEvent =
  | { type: 'speechStart'; startSample: number }
  | { type: 'speechEnd'; startSample: number; endSample: number; reason: 'silence' | 'maxLength' | 'flush' };

type State =
  | { kind: 'silence' }
  | { kind: 'pending'; firstFrame: number }
  | { kind: 'speech'; firstFrame: number; silenceSince: number | null };

export class SpeechSegmenter {
  private state: State = { kind: 'silence' };
  /** Frames seen so far: the index of the next frame. */
  private frame = 0;
  private readonly minSilenceFrames: number;
  private readonly minSpeechFrames: number;
  private readonly padSamples: number;
  private readonly maxSpeechFrames: number;

  constructor(private readonly o: SegmenterOptions) {
    if (!(o.negativeThreshold <= o.threshold)) throw new Error('negativeThreshold must not exceed threshold');
    const frameMs = (o.frameSamples / o.sampleRate) * 1000;
    this.minSilenceFrames = Math.max(1, Math.ceil(o.minSilenceMs / frameMs));
    this.minSpeechFrames = Math.max(1, Math.ceil(o.minSpeechMs / frameMs));
    this.maxSpeechFrames = Math.max(this.minSpeechFrames + 1, Math.floor(o.maxSpeechMs / frameMs));
    this.padSamples = Math.round((o.speechPadMs * o.sampleRate) / 1000);
  }

  /** True between `speechStart` and `speechEnd`. */
  get inSpeech(): boolean {
    return this.state.kind === 'speech';
  }

  /** Position just after the last frame fed in, samples. */
  get position(): number {
    return this.frame * this.o.frameSamples;
  }

  /** Feeds the next frames' probabilities; returns what they started or ended, in order. */
  push(probabilities: ArrayLike<number>): SegmentEvent[] {
    const events: SegmentEvent[] = [];
    for (let i = 0; i < probabilities.length; i++) {
      const event = this.step(probabilities[i]!);
      this.frame++;
      if (event) events.push(event);
    }
    return events;
  }

  /** The stream ended (mic closed): an utterance in progress ends here. */
  flush(): SegmentEvent | null {
    const s = this.state;
    if (s.kind === 'pending') this.state = { kind: 'silence' };
    if (s.kind !== 'speech') return null;
    return this.end(s.firstFrame, s.silenceSince ?? this.frame, this.frame, 'flush');
  }

  private step(p: number): SegmentEvent | null {
    const f = this.frame;
    const s = this.state;
    switch (s.kind) {
      case 'silence':
        if (p >= this.o.threshold) return this.confirmOrWait(f);
        return null;
      case 'pending':
        if (p < this.o.negativeThreshold) {
          this.state = { kind: 'silence' };
          return null;
        }
        return this.confirmOrWait(s.firstFrame);
      case 'speech':
        if (p >= this.o.threshold) s.silenceSince = null;
        else if (p < this.o.negativeThreshold && s.silenceSince === null) s.silenceSince = f;
        if (s.silenceSince !== null && f + 1 - s.silenceSince >= this.minSilenceFrames) return this.end(s.firstFrame, s.silenceSince, f + 1, 'silence');
        if (f + 1 - s.firstFrame >= this.maxSpeechFrames) return this.end(s.firstFrame, f + 1, f + 1, 'maxLength');
        return null;
    }
  }

  private confirmOrWait(firstFrame: number): SegmentEvent | null {
    if (this.frame + 1 - firstFrame < this.minSpeechFrames) {
      this.state = { kind: 'pending', firstFrame };
      return null;
    }
    this.state = { kind: 'speech', firstFrame, silenceSince: null };
    return { type: 'speechStart', startSample: Math.max(0, firstFrame * this.o.frameSamples - this.padSamples) };
  }

  /** `endFrame`: the first frame no longer speech; `fedFrames`: frames seen, the end pad stops there. */
  private end(firstFrame: number, endFrame: number, fedFrames: number, reason: 'silence' | 'maxLength' | 'flush'): SegmentEvent {
    this.state = { kind: 'silence' };
    const fed = fedFrames * this.o.frameSamples;
    return {
      type: 'speechEnd',
      startSample: Math.max(0, firstFrame * this.o.frameSamples - this.padSamples),
      endSample: Math.min(fed, endFrame * this.o.frameSamples + this.padSamples),
      reason,
    };
  }
}
