/**
 * Single-producer single-consumer ring of PCM16 samples in a SharedArrayBuffer.
 *
 * Producer: the main thread (agent audio). Consumer: whichever inference worker holds the
 * session's one in-flight task. Positions are absolute sample counts (JS numbers on the
 * producer side, so they never wrap); the header keeps them modulo 2^32 in Int32 slots, which
 * is enough because the live span never exceeds the capacity.
 *
 * The consumer keeps `retain` samples behind its release point readable, so the next window can
 * re-read them as model context: the producer only overwrites what has been released.
 */
const WRITE = 0;
const RELEASED = 1;
// Slot 2 is unused. (It was a write counter with an Atomics.notify on every write; no consumer
// ever waits on the ring — windows go to the pool only once their audio is in — and each notify
// took V8's process-wide Atomics lock on the main thread, the lock the pacing worker sleeps under.)
const CAPACITY = 3;
const HEADER_BYTES = 16;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class PcmRing {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  private readonly header: Int32Array;
  private readonly samples: Int16Array;
  /** The same samples as bytes (little-endian hosts copy agent PCM straight in). */
  private readonly bytes: Uint8Array;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.header = new Int32Array(sab, 0, 4);
    this.capacity = Atomics.load(this.header, CAPACITY);
    this.samples = new Int16Array(sab, HEADER_BYTES, this.capacity);
    this.bytes = new Uint8Array(sab, HEADER_BYTES, this.capacity * 2);
  }

  static create(capacitySamples: number): PcmRing {
    const sab = new SharedArrayBuffer(HEADER_BYTES + capacitySamples * 2);
    Atomics.store(new Int32Array(sab, 0, 4), CAPACITY, capacitySamples);
    return new PcmRing(sab);
  }

  /** Absolute write position, low 32 bits. */
  get writePosition32(): number {
    return Atomics.load(this.header, WRITE);
  }

  /** Samples the producer may write now without overwriting unreleased ones. */
  freeSamples(writePos: number): number {
    const used = (writePos - Atomics.load(this.header, RELEASED)) | 0;
    return this.capacity - used;
  }

  /**
   * Producer: copy `pcm` (little-endian PCM16 bytes) in at absolute position `writePos`. Writes as
   * many whole samples as fit; returns how many were written. On a little-endian host (x86, ARM:
   * every platform Node ships for) the ring's Int16 samples are those bytes, so this is one or two
   * byte copies at any alignment of `pcm`; a big-endian host swaps sample by sample.
   */
  write(writePos: number, pcm: Uint8Array, byteOffset = 0): number {
    const available = (pcm.byteLength - byteOffset) >> 1;
    const n = Math.min(available, this.freeSamples(writePos));
    if (n <= 0) return 0;
    const idx = writePos % this.capacity;
    if (LITTLE_ENDIAN) {
      const first = Math.min(n, this.capacity - idx);
      const src = pcm.byteOffset + byteOffset;
      this.bytes.set(new Uint8Array(pcm.buffer, src, first * 2), idx * 2);
      if (first < n) this.bytes.set(new Uint8Array(pcm.buffer, src + first * 2, (n - first) * 2), 0);
    } else {
      const view = new DataView(pcm.buffer, pcm.byteOffset + byteOffset, n * 2);
      for (let i = 0, j = idx; i < n; i++) {
        this.samples[j] = view.getInt16(i * 2, true);
        if (++j === this.capacity) j = 0;
      }
    }
    Atomics.store(this.header, WRITE, (writePos + n) | 0);
    return n;
  }

  /** Consumer: samples [from, to) as float32 in −1..1 into `out` (copied out of shared memory). */
  readFloat(from: number, to: number, out: Float32Array): void {
    let idx = from % this.capacity;
    for (let i = 0; i < to - from; i++) {
      out[i] = this.samples[idx]! / 32768;
      if (++idx === this.capacity) idx = 0;
    }
  }

  /** Consumer: samples [from, to) as PCM16 into `out`. */
  readPcm(from: number, to: number, out: Int16Array): void {
    const n = to - from;
    const idx = from % this.capacity;
    const first = Math.min(n, this.capacity - idx);
    out.set(this.samples.subarray(idx, idx + first), 0);
    if (first < n) out.set(this.samples.subarray(0, n - first), first);
  }

  /** Consumer: everything before `position` may be overwritten. Never moves backwards. */
  release(position: number): void {
    const ahead = ((position | 0) - Atomics.load(this.header, RELEASED)) | 0;
    if (ahead > 0) Atomics.store(this.header, RELEASED, position | 0);
  }
}
