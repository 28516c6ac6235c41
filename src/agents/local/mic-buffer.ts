/**
 * Recent microphone audio with absolute sample positions, so an utterance found by the VAD
 * (which runs behind, in a worker) can be cut out afterwards. Bounded: audio older than
 * `maxSamples` before the newest sample is discarded.
 */
export class MicBuffer {
  private chunks: Int16Array[] = [];
  /** Absolute position of chunks[0][0]. */
  private start = 0;
  private length = 0;

  constructor(private readonly maxSamples: number) {}

  /** Position just after the newest sample. */
  get end(): number {
    return this.start + this.length;
  }

  /** Oldest position still held. */
  get oldest(): number {
    return this.start;
  }

  append(pcm: Buffer): void {
    const samples = Math.floor(pcm.length / 2);
    if (samples === 0) return;
    const copy = new Int16Array(samples);
    Buffer.from(copy.buffer).set(pcm.subarray(0, samples * 2));
    this.chunks.push(copy);
    this.length += samples;
    this.discardBefore(this.end - this.maxSamples);
  }

  /** Samples [from, to), clipped to what is held. */
  slice(from: number, to: number): Int16Array {
    const a = Math.max(from, this.start);
    const b = Math.min(to, this.end);
    const out = new Int16Array(Math.max(0, b - a));
    let pos = this.start;
    for (const chunk of this.chunks) {
      const chunkEnd = pos + chunk.length;
      if (chunkEnd > a && pos < b) {
        const s = Math.max(a, pos);
        const e = Math.min(b, chunkEnd);
        out.set(chunk.subarray(s - pos, e - pos), s - a);
      }
      pos = chunkEnd;
      if (pos >= b) break;
    }
    return out;
  }

  /** Drops audio before `position` (whole chunks, and the head of the one it falls in). */
  discardBefore(position: number): void {
    while (this.chunks.length > 0 && this.start < position) {
      const head = this.chunks[0]!;
      const drop = Math.min(head.length, position - this.start);
      if (drop === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(drop);
      this.start += drop;
      this.length -= drop;
    }
  }
}
