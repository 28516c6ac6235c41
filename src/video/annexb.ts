/**
 * H.264 Annex-B byte stream → access units. The encoder is told to start every access unit with
 * an access unit delimiter (x264 `aud=1`), so an AU ends where the next AUD begins (or at the
 * end of the stream). That costs one frame of latency and is exact, where guessing the end of
 * the last slice from pipe read sizes is not.
 */
const NAL_AUD = 9;
export const NAL_IDR = 5;
export const NAL_SPS = 7;
export const NAL_PPS = 8;

export class AccessUnitSplitter {
  private buf: Buffer = Buffer.alloc(0);
  /** Where the current AU starts (−1: before the first AUD). */
  private auStart = -1;
  /** Next byte to scan for a start code. */
  private scan = 0;

  /** Feed encoder output; returns the access units it completed. */
  push(chunk: Buffer): Buffer[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const done: Buffer[] = [];
    const b = this.buf;
    let i = this.scan;
    for (; i + 3 < b.length; i++) {
      if (b[i] !== 0 || b[i + 1] !== 0) continue;
      let nal = -1;
      if (b[i + 2] === 1) nal = i + 3;
      else if (b[i + 2] === 0 && b[i + 3] === 1) {
        if (i + 4 >= b.length) break;
        nal = i + 4;
      }
      if (nal < 0 || nal >= b.length) {
        if (nal >= b.length) break;
        continue;
      }
      if ((b[nal]! & 0x1f) === NAL_AUD) {
        if (this.auStart >= 0 && i > this.auStart) done.push(Buffer.from(b.subarray(this.auStart, i)));
        this.auStart = i;
      }
      i = nal;
    }
    this.scan = i;
    // Drop what has been handed out so the buffer holds one AU at most.
    if (this.auStart > 0) {
      this.buf = b.subarray(this.auStart);
      this.scan -= this.auStart;
      this.auStart = 0;
    }
    return done;
  }

  /** End of stream: the last AU, if any. */
  flush(): Buffer | null {
    const rest = this.auStart >= 0 && this.buf.length > this.auStart ? Buffer.from(this.buf.subarray(this.auStart)) : null;
    this.buf = Buffer.alloc(0);
    this.auStart = -1;
    this.scan = 0;
    return rest;
  }
}

/** NAL unit types in an Annex-B access unit, in order. */
export function nalTypes(au: Uint8Array): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < au.length; i++) {
    if (au[i] === 0 && au[i + 1] === 0 && au[i + 2] === 1) {
      types.push(au[i + 3]! & 0x1f);
      i += 3;
    }
  }
  return types;
}

export function isKeyframe(au: Uint8Array): boolean {
  return nalTypes(au).includes(NAL_IDR);
}
