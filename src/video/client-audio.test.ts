import t from 'tap';
import { resamplePcm16 } from '../audio/resampler.js';
import { InvalidAudioError, decodeClientAudio, inspectClientAudio, maxClientAudioBytes, type ClientAudioLimits } from './client-audio.js';

const LIMITS: ClientAudioLimits = { maxDurationS: 2 };
const TO_RATE = 24_000;

interface Header {
  format?: number;
  channels?: number;
  rate?: number;
  bits?: number;
  blockAlign?: number;
  byteRate?: number;
  /** The data chunk's declared size (default: the real one). */
  declared?: number;
}

function wav(dataBytes: number, h: Header = {}): Buffer {
  const channels = h.channels ?? 1;
  const rate = h.rate ?? 16_000;
  const bits = h.bits ?? 16;
  const b = Buffer.alloc(44 + dataBytes);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(h.format ?? 1, 20);
  b.writeUInt16LE(channels, 22);
  b.writeUInt32LE(rate >>> 0, 24);
  b.writeUInt32LE((h.byteRate ?? rate * channels * (bits / 8)) >>> 0, 28);
  b.writeUInt16LE(h.blockAlign ?? (channels * bits) / 8, 32);
  b.writeUInt16LE(bits, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE((h.declared ?? dataBytes) >>> 0, 40);
  return b;
}

/**
 * What the server does with an upload: inspect the header, then (only if it passed) decode and
 * resample. Returns the samples produced — the work done — or the refusal.
 */
function convert(bytes: Uint8Array): { produced: number; error: InvalidAudioError | null } {
  let format;
  try {
    format = inspectClientAudio(bytes, 16_000, LIMITS);
  } catch (err) {
    if (err instanceof InvalidAudioError) return { produced: 0, error: err };
    throw err;
  }
  const pcm = decodeClientAudio(bytes, format);
  return { produced: pcm.length + resamplePcm16(pcm, format.sampleRate, TO_RATE).length, error: null };
}

/** Most samples any accepted upload may cost: decoding at 48 kHz plus resampling to TO_RATE. */
const MAX_WORK = LIMITS.maxDurationS * (48_000 + TO_RATE) + 2;

t.test('the hostile 1 Hz WAV from the report is refused before any sample is produced', async (t) => {
  // 1,161 bytes: a 44-byte header claiming 1 Hz mono and 1,117 bytes of "data" (one odd byte).
  const hostile = wav(1117, { rate: 1 });
  t.equal(hostile.length, 1161);
  const r = convert(hostile);
  t.equal(r.produced, 0, 'no work done');
  t.ok(r.error, 'INVALID_AUDIO');
  t.equal(r.error!.code, 'INVALID_AUDIO');
  t.match(r.error!.message, /sample rate 1 Hz is outside 8000–48000 Hz/);
});

t.test('every hostile header gets a clear INVALID_AUDIO and no work', async (t) => {
  const cases: Array<[string, Buffer, RegExp]> = [
    ['rate 0', wav(640, { rate: 0 }), /sample rate 0 Hz/],
    ['rate 1', wav(640, { rate: 1 }), /sample rate 1 Hz/],
    ['rate 7999', wav(640, { rate: 7999 }), /sample rate 7999 Hz/],
    ['rate 48001', wav(640, { rate: 48_001 }), /sample rate 48001 Hz/],
    ['rate 4 GHz', wav(640, { rate: 4_000_000_000 }), /sample rate 4000000000 Hz/],
    ['channels 0', wav(640, { channels: 0, blockAlign: 2, byteRate: 32_000 }), /0 channels/],
    ['channels 3', wav(642, { channels: 3 }), /3 channels/],
    ['channels 255', wav(1020, { channels: 255 }), /255 channels/],
    ['8-bit', wav(640, { bits: 8 }), /8-bit samples is not supported/],
    ['24-bit', wav(642, { bits: 24 }), /24-bit samples is not supported/],
    ['32-bit', wav(640, { bits: 32 }), /32-bit samples is not supported/],
    ['float', wav(640, { format: 3, bits: 32 }), /format 3 with 32-bit/],
    ['block align lies', wav(640, { blockAlign: 4 }), /header is inconsistent/],
    ['byte rate lies', wav(640, { byteRate: 1 }), /header is inconsistent/],
    ['data size larger than the file', wav(640, { declared: 64_000 }), /declares 64000 bytes but only 640 follow/],
    ['data size odd', wav(641, { declared: 641 }), /not a whole number of 2-byte sample frames/],
    ['stereo data not whole frames', wav(642, { channels: 2 }), /not a whole number of 4-byte sample frames/],
    ['truncated inside fmt', wav(640).subarray(0, 30), /fmt chunk is truncated/],
    ['truncated before data', wav(640).subarray(0, 36), /ends before its data chunk/],
    ['no samples', wav(0, { declared: 2 }), /declares 2 bytes but only 0 follow/],
    ['empty data', wav(0), /no samples/],
    ['too long', wav(2 * 16_000 * 3), /audio of 3\.0 s exceeds the 2 s limit/],
    ['not WAVE', Buffer.concat([Buffer.from('RIFF\0\0\0\0AVI '), Buffer.alloc(100)]), /not WAVE/],
    ['raw PCM odd length', Buffer.alloc(641, 1), /even number of bytes/],
    ['raw PCM too long', Buffer.alloc(2 * 16_000 * 3, 1), /exceeds the 2 s limit/],
    ['empty', Buffer.alloc(0), /empty/],
  ];
  // A chunk whose size runs far past the end, before fmt.
  const junk = wav(640);
  junk.write('JUNK', 12, 'ascii');
  junk.writeUInt32LE(0xfffffff0, 16);
  cases.push(['chunk size past the end', junk, /runs past the end/]);
  // Many tiny chunks before the data: the walk is bounded.
  const chunks = Buffer.concat([wav(0).subarray(0, 36), ...Array.from({ length: 100 }, () => Buffer.from('LIST\0\0\0\0', 'latin1')), Buffer.from('data\x02\0\0\0\0\0', 'latin1')]);
  cases.push(['100 chunks', chunks, /more than 64 chunks/]);
  for (const [what, bytes, message] of cases) {
    const r = convert(bytes);
    t.equal(r.produced, 0, `${what}: no samples produced`);
    t.ok(r.error instanceof InvalidAudioError, `${what}: INVALID_AUDIO`);
    t.match(r.error?.message, message, `${what}: ${r.error?.message}`);
  }
});

t.test('good uploads decode: WAV mono/stereo at 8–48 kHz, streaming sizes, extensible PCM, raw PCM', async (t) => {
  const mono = wav(1600, { rate: 8000 });
  mono.writeInt16LE(1000, 44);
  const a = inspectClientAudio(mono, 16_000, LIMITS);
  t.same(a, { sampleRate: 8000, channels: 1, dataOffset: 44, frames: 800 });
  t.equal(decodeClientAudio(mono, a)[0], 1000);

  const stereo = wav(4 * 480, { rate: 48_000, channels: 2 });
  stereo.writeInt16LE(1000, 44);
  stereo.writeInt16LE(-3000, 46);
  const b = inspectClientAudio(stereo, 16_000, LIMITS);
  t.equal(b.frames, 480);
  t.equal(decodeClientAudio(stereo, b)[0], -1000, 'stereo is averaged to mono');

  for (const declared of [0, 0xffffffff]) {
    t.equal(inspectClientAudio(wav(640, { declared }), 16_000, LIMITS).frames, 320, `declared size ${declared.toString(16)}: the bytes present`);
  }
  // A LIST chunk before the data, and trailing bytes after a shorter declared size.
  const listed = Buffer.concat([wav(0).subarray(0, 36), Buffer.from('LIST\x04\0\0\0abcd', 'latin1'), Buffer.from('data\x40\0\0\0', 'latin1'), Buffer.alloc(64 + 10)]);
  t.equal(inspectClientAudio(listed, 16_000, LIMITS).frames, 32);

  const ext = Buffer.alloc(68 + 640);
  ext.write('RIFF', 0, 'ascii'); ext.writeUInt32LE(60 + 640, 4); ext.write('WAVE', 8, 'ascii'); ext.write('fmt ', 12, 'ascii');
  ext.writeUInt32LE(40, 16); ext.writeUInt16LE(0xfffe, 20); ext.writeUInt16LE(1, 22); ext.writeUInt32LE(16_000, 24);
  ext.writeUInt32LE(32_000, 28); ext.writeUInt16LE(2, 32); ext.writeUInt16LE(16, 34); ext.writeUInt16LE(22, 36);
  ext.writeUInt16LE(16, 38); ext.writeUInt32LE(4, 40); ext.writeUInt16LE(1, 44); // sub-format GUID starts with PCM (1)
  ext.write('data', 60, 'ascii'); ext.writeUInt32LE(640, 64);
  t.equal(inspectClientAudio(ext, 16_000, LIMITS).frames, 320, 'WAVE_FORMAT_EXTENSIBLE with PCM');

  t.same(inspectClientAudio(Buffer.alloc(640), 16_000, LIMITS), { sampleRate: 16_000, channels: 1, dataOffset: 0, frames: 320 }, 'raw PCM16');
  t.ok(maxClientAudioBytes(LIMITS) >= 2 * 48_000 * 2 * 2, 'the upload size bound admits the longest stereo 48 kHz file');
});

t.test('fuzz: thousands of mutated headers get INVALID_AUDIO or bounded work, never another exception', async (t) => {
  // Deterministic PRNG (mulberry32) so a failure can be replayed.
  let seed = 0x5eed;
  const rnd = (): number => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const interesting = [0, 1, 2, 3, 8, 16, 24, 32, 255, 256, 7999, 8000, 16_000, 44_100, 48_000, 48_001, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0xffffffff];
  let accepted = 0;
  let refused = 0;
  let worst = 0;
  for (let i = 0; i < 4000; i++) {
    const base = wav(pick([0, 2, 640, 1117, 6400]), { rate: pick([8000, 16_000, 48_000]), channels: pick([1, 2]) });
    const bytes = Buffer.from(rnd() < 0.2 ? base.subarray(0, Math.floor(rnd() * base.length)) : base);
    const edits = 1 + Math.floor(rnd() * 3);
    for (let e = 0; e < edits && bytes.length > 12; e++) {
      const at = 12 + Math.floor(rnd() * Math.min(40, bytes.length - 12));
      const kind = rnd();
      if (kind < 0.4 && at + 4 <= bytes.length) bytes.writeUInt32LE(pick(interesting) >>> 0, at);
      else if (kind < 0.7 && at + 2 <= bytes.length) bytes.writeUInt16LE(pick(interesting) & 0xffff, at);
      else bytes[at] = Math.floor(rnd() * 256);
    }
    const r = convert(bytes);
    if (r.error) refused++;
    else accepted++;
    worst = Math.max(worst, r.produced);
  }
  t.ok(refused > 1000, `most mutations are refused (${refused})`);
  t.ok(accepted > 100, `some stay valid and decode (${accepted})`);
  t.ok(worst <= MAX_WORK, `no upload produced more than ${MAX_WORK} samples (worst ${worst})`);
});
