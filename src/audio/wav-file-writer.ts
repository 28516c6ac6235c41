import { open, type FileHandle } from 'node:fs/promises';
import { wavHeader } from './wav.js';

/**
 * Streams PCM16 mono into a WAV file (debug capture). Writes are queued in order on the file
 * handle, so the main thread only issues async I/O; the RIFF sizes are patched on close.
 */
export class WavFileWriter {
  private handle: Promise<FileHandle>;
  private chain: Promise<unknown>;
  private dataBytes = 0;
  private closed = false;

  constructor(readonly path: string, readonly sampleRate: number) {
    this.handle = open(path, 'w');
    this.chain = this.handle.then((h) => h.write(wavHeader(sampleRate, 0), 0, 44, 0));
  }

  write(pcm: Buffer): void {
    if (this.closed || pcm.length === 0) return;
    const copy = Buffer.from(pcm);
    const position = 44 + this.dataBytes;
    this.dataBytes += copy.length;
    this.chain = this.chain.then(() => this.handle).then((h) => h.write(copy, 0, copy.length, position));
  }

  /** Patch the header sizes and close; resolves when the file is complete. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.chain;
    const h = await this.handle;
    await h.write(wavHeader(this.sampleRate, this.dataBytes), 0, 44, 0);
    await h.close();
  }
}
