/**
 * RIFF/WAVE of PCM16: the one WAV module (capture files, transcription uploads, flite's and speech
 * servers' answers). Untrusted uploads of the video dialects go through src/video/client-audio.ts,
 * which bounds every header field before reading samples.
 */

/** RIFF/WAVE header for PCM16 LE mono: what capture files, transcription servers and Chromium's fake mic take. */
export function wavHeader(sampleRate: number, dataBytes: number): Buffer {
  const b = Buffer.alloc(44);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16); // PCM fmt chunk size
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(dataBytes, 40);
  return b;
}

/** PCM16 LE mono samples (or their bytes) → a complete WAV file. */
export function encodeWav(pcm: Int16Array | Buffer, sampleRate: number): Buffer {
  const bytes = Buffer.isBuffer(pcm) ? pcm : Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  return Buffer.concat([wavHeader(sampleRate, bytes.length), bytes]);
}

/** Decoded PCM16 mono. */
export interface Pcm16 {
  samples: Int16Array;
  sampleRate: number;
}

/**
 * Reads a RIFF/WAVE file of 16-bit PCM (what flite writes). Walks the chunks rather than
 * assuming a 44-byte header; keeps the first channel of multi-channel audio.
 */
export function parseWav(bytes: Uint8Array): Pcm16 {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.byteLength < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  let format: { audioFormat: number; channels: number; sampleRate: number; bitsPerSample: number } | null = null;
  let offset = 12;
  while (offset + 8 <= bytes.byteLength) {
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      format = {
        audioFormat: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!format) throw new Error('WAVE data before its fmt chunk');
      if (format.audioFormat !== 1 || format.bitsPerSample !== 16) {
        throw new Error(`unsupported WAVE format ${format.audioFormat} with ${format.bitsPerSample} bits (want PCM16)`);
      }
      if (format.channels < 1 || format.sampleRate <= 0) throw new Error('WAVE fmt chunk has no channels or no sample rate');
      // Writers that stream set the size to 0 or 0xFFFFFFFF: trust the bytes that are there.
      const available = bytes.byteLength - body;
      const dataBytes = size === 0 || size > available ? available : size;
      const frames = Math.floor(dataBytes / (2 * format.channels));
      const samples = new Int16Array(frames);
      for (let i = 0; i < frames; i++) samples[i] = view.getInt16(body + i * 2 * format.channels, true);
      return { samples, sampleRate: format.sampleRate };
    }
    offset = body + size + (size & 1);
  }
  throw new Error('WAVE file has no data chunk');
}
