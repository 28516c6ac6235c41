/**
 * Cuts a response's PCM, arriving sentence by sentence in pieces of any length, into chunks of
 * exactly `chunkBytes` — like a streaming agent's audio deltas — with only the very last chunk
 * of the response allowed to be shorter. Chunks are views of the input where they can be (no copy);
 * only a chunk that straddles two pieces is copied.
 */
export class AudioChunker {
  private carry: Buffer | null = null;

  constructor(readonly chunkBytes: number) {
    if (!Number.isInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % 2 !== 0) {
      throw new Error(`chunkBytes must be a positive even integer, got ${chunkBytes}`);
    }
  }

  /** Full chunks available after adding `pcm`; the remainder waits for the next push or `flush`. */
  push(pcm: Buffer): Buffer[] {
    const chunks: Buffer[] = [];
    let offset = 0;
    if (this.carry) {
      const need = this.chunkBytes - this.carry.length;
      if (pcm.length < need) {
        this.carry = Buffer.concat([this.carry, pcm]);
        return chunks;
      }
      chunks.push(Buffer.concat([this.carry, pcm.subarray(0, need)]));
      this.carry = null;
      offset = need;
    }
    while (pcm.length - offset >= this.chunkBytes) {
      chunks.push(pcm.subarray(offset, offset + this.chunkBytes));
      offset += this.chunkBytes;
    }
    if (offset < pcm.length) this.carry = Buffer.from(pcm.subarray(offset));
    return chunks;
  }

  /** The short last chunk, if any (PCM16 pieces keep it even-length). */
  flush(): Buffer | null {
    const rest = this.carry;
    this.carry = null;
    return rest && rest.length > 0 ? rest : null;
  }
}
