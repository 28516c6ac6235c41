import t from 'tap';
import { parseWav, resamplePcm16 } from './wav.js';

/** A WAV with an extra chunk before `data`, as some writers add (LIST, fact). */
function wav(samples: number[], opts: { sampleRate?: number; channels?: number; bits?: number; dataSize?: number; extra?: boolean } = {}): Buffer {
  const channels = opts.channels ?? 1;
  const bits = opts.bits ?? 16;
  const data = Buffer.alloc(samples.length * 2);
  samples.forEach((s, i) => data.writeInt16LE(s, i * 2));
  const fmt = Buffer.alloc(24);
  fmt.write('fmt ', 0);
  fmt.writeUInt32LE(16, 4);
  fmt.writeUInt16LE(1, 8);
  fmt.writeUInt16LE(channels, 10);
  fmt.writeUInt32LE(opts.sampleRate ?? 16000, 12);
  fmt.writeUInt32LE((opts.sampleRate ?? 16000) * channels * 2, 16);
  fmt.writeUInt16LE(channels * 2, 20);
  fmt.writeUInt16LE(bits, 22);
  const extra = opts.extra ? Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc\0')]) : Buffer.alloc(0);
  const dataHeader = Buffer.alloc(8);
  dataHeader.write('data', 0);
  dataHeader.writeUInt32LE(opts.dataSize ?? data.length, 4);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, extra, dataHeader, data]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0);
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

t.test('parseWav', async (t) => {
  const parsed = parseWav(wav([1, -2, 32767, -32768], { sampleRate: 8000, extra: true }));
  t.equal(parsed.sampleRate, 8000);
  t.same([...parsed.samples], [1, -2, 32767, -32768]);
  t.same([...parseWav(wav([1, 2, 3, 4], { channels: 2 })).samples], [1, 3], 'first channel of stereo');
  t.same([...parseWav(wav([5, 6], { dataSize: 0xffffffff })).samples], [5, 6], 'streamed size trusted to the bytes present');
  t.throws(() => parseWav(Buffer.from('not a wav file at all')), /not a RIFF\/WAVE/);
  t.throws(() => parseWav(wav([1], { bits: 8 })), /want PCM16/);
});

t.test('resamplePcm16: length, passband gain, clipping', async (t) => {
  const n = 16000;
  const tone = (freqHz: number, rate: number, length: number, amplitude: number): Int16Array =>
    Int16Array.from({ length }, (_, i) => Math.round(amplitude * Math.sin((2 * Math.PI * freqHz * i) / rate)));
  const rms = (x: Int16Array, from: number, to: number): number => {
    let sum = 0;
    for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
    return Math.sqrt(sum / (to - from));
  };
  const x = tone(1000, 16000, n, 10000);
  const y = resamplePcm16(x, 16000, 24000);
  t.equal(y.length, 24000, '1 s stays 1 s');
  t.ok(Math.abs(rms(y, 2400, 21600) / rms(x, 1600, 14400) - 1) < 0.01, '1 kHz passes at unity gain');
  const eightK = resamplePcm16(tone(1000, 8000, 8000, 10000), 8000, 24000);
  t.equal(eightK.length, 24000, '8 kHz voices handled too');
  t.equal(resamplePcm16(x, 24000, 24000), x, 'same rate: untouched');
  const loud = resamplePcm16(Int16Array.from({ length: 1600 }, (_, i) => (i % 2 ? 32767 : -32768)), 16000, 24000);
  t.ok(loud.every((v) => v >= -32768 && v <= 32767), 'clamped to int16');
  const input = Int16Array.from([100, 200, 300, 400, 500, 600]);
  resamplePcm16(input, 24000, 16000);
  t.same([...input], [100, 200, 300, 400, 500, 600], 'input untouched when downsampling');
});
