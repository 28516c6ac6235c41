import { PcmRing } from '../src/audio/pcm-ring.js';
import { OUTPUT_SAMPLE_RATE, SAMPLES_PER_FRAME, wholeFrameSamples } from '../src/audio/constants.js';
import type { WindowTask } from '../src/inference/tasks.js';
import { serverConfig } from './options.js';
import { syntheticSpeech } from '../test/helpers/fake-remote-agent.js';

/**
 * A session's audio as the inference workers see it: a real PcmRing holding 10 s of speech-like
 * PCM, and window tasks cut from it exactly as Session.schedule cuts them (whole frames, model
 * context re-read before each window, the audio after it read as right context as when an agent
 * runs ahead of playback, a stream's windows one turn until they wrap around). Nothing
 * is ever released, so windows cycle over the audio.
 */
const RING_SECONDS = 10;
export const RING_SAMPLES = OUTPUT_SAMPLE_RATE * RING_SECONDS;

/** INFERENCE_CONTEXT_MS as the server reads it, in whole frames of samples. */
export function contextSamplesFromEnv(env = process.env): number {
  return wholeFrameSamples(serverConfig(env).contextMs / 1000);
}

/** INFERENCE_RIGHT_CONTEXT_MS as the server reads it, in whole frames of samples. */
export function rightContextSamplesFromEnv(env = process.env): number {
  return wholeFrameSamples(serverConfig(env).rightContextMs / 1000);
}

export class StreamFixture {
  readonly ring: PcmRing;
  private pos: number;
  private cycle = 0;

  constructor(readonly index: number, readonly contextSamples: number, readonly rightContextSamples = rightContextSamplesFromEnv()) {
    this.ring = PcmRing.create(RING_SAMPLES);
    const pcm = syntheticSpeech(RING_SECONDS, { f0: 100 + 13 * (index % 11), seed: index + 1, pauseAt: [4, 4.6] });
    this.ring.write(0, pcm);
    this.pos = contextSamples;
  }

  /** The next window of `windowSamples` (a multiple of 800) with full model context. */
  nextTask(windowSamples: number): WindowTask {
    if (this.pos + windowSamples > RING_SAMPLES) {
      this.pos = this.contextSamples;
      this.cycle++; // a new turn: no window of it before
    }
    const start = this.pos;
    const end = start + windowSamples;
    this.pos = end;
    const readEnd = Math.min(RING_SAMPLES, end + this.rightContextSamples);
    return {
      kind: 'window', ring: this.ring.sab, sessionId: `bench-${this.index}`, turnId: `turn-${this.index}-${this.cycle}`,
      contextStart: start - this.contextSamples, start, end, ...(readEnd > end ? { readEnd } : {}), firstFrameIndex: start / SAMPLES_PER_FRAME, final: false, releaseTo: 0,
    };
  }
}
