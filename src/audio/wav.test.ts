import t from 'tap';
import { parseWav } from '../agents/offline/wav.js';
import { encodeWav } from './wav.js';

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
