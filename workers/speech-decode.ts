/**
 * Speech-decode worker (a Piscina thread): a speech server's WAV → PCM16 → resampled to the
 * pipeline's rate. Off the main thread because the windowed-sinc resampler costs ~10 ms per
 * second of speech (RTF ~0.01), i.e. tens of ms per sentence on the event loop that also
 * carries every session's socket. Protocol: src/agents/voice/decode-protocol.ts.
 */
import { move, transferableSymbol, valueSymbol } from 'piscina';
import type { DecodeResult, DecodeTask } from '../src/agents/voice/decode-protocol.js';
import { parseWav, resamplePcm16 } from '../src/agents/offline/wav.js';

export default function decode(task: DecodeTask): DecodeResult {
  const startMs = performance.now();
  const speech = parseWav(new Uint8Array(task.wav));
  const samples = resamplePcm16(speech.samples, speech.sampleRate, task.sampleRate);
  const pcm = samples.byteOffset === 0 && samples.byteLength === samples.buffer.byteLength ? (samples.buffer as ArrayBuffer) : samples.slice().buffer;
  const result: DecodeResult = {
    pcm,
    sampleRate: task.sampleRate,
    sourceSampleRate: speech.sampleRate,
    durationMs: (samples.length / task.sampleRate) * 1000,
    decodeMs: performance.now() - startMs,
  };
  return move({ [transferableSymbol]: [pcm], [valueSymbol]: result }) as unknown as DecodeResult;
}
