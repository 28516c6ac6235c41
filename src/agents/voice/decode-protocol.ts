/**
 * The speech-decode worker's protocol (workers/speech-decode.ts), typed in one place: a WAV file
 * from a speech server in, PCM16 at the rate the pipeline runs at out.
 */
export interface DecodeTask {
  /** The speech server's answer, a RIFF/WAVE file; transferred, not copied. */
  wav: ArrayBuffer;
  /** Rate of the PCM that comes back. */
  sampleRate: number;
}

export interface DecodeResult {
  /** PCM16 LE mono at `sampleRate`; transferred, not copied. */
  pcm: ArrayBuffer;
  sampleRate: number;
  /** Rate the server produced (Piper: 22 050 Hz, Kokoro: 24 000 Hz). */
  sourceSampleRate: number;
  durationMs: number;
  /** Worker time: parse plus resampling. */
  decodeMs: number;
}
