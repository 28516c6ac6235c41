/**
 * Audio a video-dialect client uploads (frame-stream `audio_input`: raw PCM16 16 kHz mono or a
 * RIFF/WAVE file), checked against fixed bounds before any work is done with it.
 *
 * Why two steps: `inspectClientAudio` reads only the header (a bounded chunk walk, O(1) in the
 * audio's length) and runs on the main thread, so a hostile header — 1 Hz, 4 GHz, 255 channels,
 * a data size that lies — is refused before a worker is started or a sample is produced. Only
 * audio that passed gets `decodeClientAudio` (copy + downmix, in the video worker), whose output
 * is then bounded by `maxDurationS × sampleRate` samples, and resampling by `maxDurationS × toRate`.
 */
export const CLIENT_AUDIO_MIN_RATE = 8_000;
export const CLIENT_AUDIO_MAX_RATE = 48_000;
export const CLIENT_AUDIO_MAX_CHANNELS = 2;
/** RIFF chunks walked before the data chunk; real files have a handful. */
const MAX_CHUNKS = 64;
const WAVE_FORMAT_PCM = 1;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
/** Streaming writers that do not know the length write one of these as the data size. */
const UNKNOWN_SIZES = new Set([0, 0xffffffff]);

export class InvalidAudioError extends Error {
  readonly code = 'INVALID_AUDIO';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAudioError';
  }
}

export interface ClientAudioLimits {
  /** Longest audio accepted, seconds. */
  maxDurationS: number;
}

/** Where the samples are and how to read them; produced only for audio within the bounds. */
export interface ClientAudioFormat {
  sampleRate: number;
  channels: number;
  /** Byte offset of the first sample in the uploaded bytes. */
  dataOffset: number;
  /** Sample frames (one sample per channel each). */
  frames: number;
}

/** Largest upload that can hold `maxDurationS` of audio at the highest accepted rate, plus headers. */
export function maxClientAudioBytes(limits: ClientAudioLimits): number {
  return Math.ceil(limits.maxDurationS * CLIENT_AUDIO_MAX_RATE) * CLIENT_AUDIO_MAX_CHANNELS * 2 + 64 * 1024;
}

const isRiff = (b: Uint8Array): boolean => b.length >= 4 && b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46;

function checkDuration(frames: number, sampleRate: number, limits: ClientAudioLimits): void {
  if (frames === 0) throw new InvalidAudioError('the audio has no samples');
  const seconds = frames / sampleRate;
  if (seconds > limits.maxDurationS) {
    throw new InvalidAudioError(`audio of ${seconds.toFixed(1)} s exceeds the ${limits.maxDurationS} s limit`);
  }
}

/**
 * Checks an upload's header against the bounds: sample rate 8–48 kHz, PCM 16-bit, 1–2 channels,
 * a consistent fmt chunk, a data chunk that is really there and whole, at most `maxDurationS`.
 * Non-RIFF bytes are raw PCM16 mono at `rawSampleRate`. Throws `InvalidAudioError`.
 */
export function inspectClientAudio(bytes: Uint8Array, rawSampleRate: number, limits: ClientAudioLimits): ClientAudioFormat {
  if (bytes.length === 0) throw new InvalidAudioError('the audio is empty');
  if (!isRiff(bytes)) {
    if (bytes.length % 2 !== 0) throw new InvalidAudioError(`raw PCM16 needs an even number of bytes, got ${bytes.length}`);
    checkDuration(bytes.length / 2, rawSampleRate, limits);
    return { sampleRate: rawSampleRate, channels: 1, dataOffset: 0, frames: bytes.length / 2 };
  }
  return inspectWav(bytes, limits);
}

function inspectWav(bytes: Uint8Array, limits: ClientAudioLimits): ClientAudioFormat {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number): string => String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
  if (bytes.length < 12 || tag(8) !== 'WAVE') throw new InvalidAudioError('a RIFF file that is not WAVE');
  let format: { channels: number; sampleRate: number } | null = null;
  let offset = 12;
  for (let chunk = 0; chunk < MAX_CHUNKS; chunk++) {
    if (offset + 8 > bytes.length) throw new InvalidAudioError('WAV file ends before its data chunk (truncated?)');
    const id = tag(offset);
    const size = view.getUint32(offset + 4, true);
    const body = offset + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw new InvalidAudioError('WAV fmt chunk is truncated');
      format = readFormat(view, body, size);
    } else if (id === 'data') {
      if (!format) throw new InvalidAudioError('WAV data chunk comes before its fmt chunk');
      const available = bytes.length - body;
      if (!UNKNOWN_SIZES.has(size) && size > available) {
        throw new InvalidAudioError(`WAV data chunk declares ${size} bytes but only ${available} follow (truncated, or the size is wrong)`);
      }
      const dataBytes = UNKNOWN_SIZES.has(size) ? available : size;
      const blockAlign = format.channels * 2;
      if (dataBytes % blockAlign !== 0) {
        throw new InvalidAudioError(`WAV data of ${dataBytes} bytes is not a whole number of ${blockAlign}-byte sample frames`);
      }
      const frames = dataBytes / blockAlign;
      checkDuration(frames, format.sampleRate, limits);
      return { sampleRate: format.sampleRate, channels: format.channels, dataOffset: body, frames };
    }
    if (body + size > bytes.length) throw new InvalidAudioError(`WAV "${printable(id)}" chunk runs past the end of the file`);
    offset = body + size + (size & 1);
  }
  throw new InvalidAudioError(`WAV file has more than ${MAX_CHUNKS} chunks before its data`);
}

function readFormat(view: DataView, body: number, size: number): { channels: number; sampleRate: number } {
  let audioFormat = view.getUint16(body, true);
  const channels = view.getUint16(body + 2, true);
  const sampleRate = view.getUint32(body + 4, true);
  const byteRate = view.getUint32(body + 8, true);
  const blockAlign = view.getUint16(body + 12, true);
  const bits = view.getUint16(body + 14, true);
  // WAVE_FORMAT_EXTENSIBLE: the real format is the first two bytes of the sub-format GUID.
  if (audioFormat === WAVE_FORMAT_EXTENSIBLE && size >= 40) audioFormat = view.getUint16(body + 24, true);
  if (audioFormat !== WAVE_FORMAT_PCM || bits !== 16) {
    throw new InvalidAudioError(`WAV format ${audioFormat} with ${bits}-bit samples is not supported; send PCM 16-bit`);
  }
  if (channels < 1 || channels > CLIENT_AUDIO_MAX_CHANNELS) {
    throw new InvalidAudioError(`WAV with ${channels} channels is not supported; send 1 or ${CLIENT_AUDIO_MAX_CHANNELS}`);
  }
  if (sampleRate < CLIENT_AUDIO_MIN_RATE || sampleRate > CLIENT_AUDIO_MAX_RATE) {
    throw new InvalidAudioError(`WAV sample rate ${sampleRate} Hz is outside ${CLIENT_AUDIO_MIN_RATE}–${CLIENT_AUDIO_MAX_RATE} Hz`);
  }
  if (blockAlign !== channels * 2 || byteRate !== sampleRate * channels * 2) {
    throw new InvalidAudioError(`WAV header is inconsistent: block align ${blockAlign} and byte rate ${byteRate} do not match ${channels} × 16-bit at ${sampleRate} Hz`);
  }
  return { channels, sampleRate };
}

const printable = (id: string): string => id.replace(/[^\x20-\x7e]/g, '?');

/** The samples `inspectClientAudio` found, as PCM16 mono (two channels are averaged). */
export function decodeClientAudio(bytes: Uint8Array, format: ClientAudioFormat): Int16Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Int16Array(format.frames);
  const step = format.channels * 2;
  for (let i = 0, at = format.dataOffset; i < out.length; i++, at += step) {
    out[i] = format.channels === 1 ? view.getInt16(at, true) : (view.getInt16(at, true) + view.getInt16(at + 2, true)) >> 1;
  }
  return out;
}
