import t from 'tap';
import { encodeWav, parseWav } from './wav.js';

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


t.test('a canonical 44-byte-header PCM16 mono WAV that the offline parser reads back', async (t) => {
  const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
  const wav = encodeWav(samples, 16000);
  t.equal(wav.length, 44 + 12);
  t.equal(wav.toString('ascii', 0, 4), 'RIFF');
  t.equal(wav.readUInt32LE(4), wav.length - 8, 'RIFF size');
  t.equal(wav.toString('ascii', 8, 16), 'WAVEfmt ');
  t.equal(wav.readUInt16LE(20), 1, 'PCM');
  t.equal(wav.readUInt16LE(22), 1, 'mono');
  t.equal(wav.readUInt32LE(24), 16000);
  t.equal(wav.readUInt32LE(28), 32000, 'byte rate');
  t.equal(wav.readUInt16LE(32), 2, 'block align');
  t.equal(wav.readUInt16LE(34), 16);
  t.equal(wav.toString('ascii', 36, 40), 'data');
  t.equal(wav.readUInt32LE(40), 12);
  const back = parseWav(wav);
  t.equal(back.sampleRate, 16000);
  t.same(Array.from(back.samples), Array.from(samples));
  t.equal(encodeWav(new Int16Array(0), 16000).length, 44, 'empty audio is a valid empty file');
});

t.test('parseWav', async (t) => {
  const parsed = parseWav(wav([1, -2, 32767, -32768], { sampleRate: 8000, extra: true }));
  t.equal(parsed.sampleRate, 8000);
  t.same([...parsed.samples], [1, -2, 32767, -32768]);
  t.same([...parseWav(wav([1, 2, 3, 4], { channels: 2 })).samples], [1, 3], 'first channel of stereo');
  t.same([...parseWav(wav([5, 6], { dataSize: 0xffffffff })).samples], [5, 6], 'streamed size trusted to the bytes present');
  t.throws(() => parseWav(Buffer.from('not a wav file at all')), /not a RIFF\/WAVE/);
  t.throws(() => parseWav(wav([1], { bits: 8 })), /want PCM16/);
});
