/**
 * Speech-decode worker (a Piscina thread): a speech server's WAV → PCM16 → resampled to the
 * pipeline's rate. Off the main thread because resampling a sentence is not cheap: measured on
 * 3 s of 22.05 kHz speech (Piper's rate) → 24 kHz, wave-resampler's sinc took 190–550 ms and our
 * polyphase FIR 30–80 ms on the shared 2-core CI machine, either way far too long for the event
 * loop that carries every session's socket. The polyphase filter is used (RTF ≈ 0.01–0.03).
 * Protocol: src/agents/voice/decode-protocol.ts.
 */
import { ownBuffer, returnTransferring } from './transfer.js';
import type { DecodeResult, DecodeTask } from '../src/agents/voice/decode-protocol.js';
import { parseWav } from '../src/audio/wav.js';
import { PolyphaseResampler } from '../src/audio/resampler.js';

/** One filter per rate pair, built once per thread (160 phases for 22 050 → 24 000). */
const resamplers = new Map<string, PolyphaseResampler>();

function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples;
  const key = `${fromRate}:${toRate}`;
  let r = resamplers.get(key);
  if (!r) {
    if (resamplers.size >= 8) resamplers.clear(); // a server that changes rate every answer cannot grow this
    r = new PolyphaseResampler(fromRate, toRate);
    resamplers.set(key, r);
  }
  const input = Float32Array.from(samples);
  const out = new Float32Array(r.outputLength(input.length));
  const n = r.process(input, input.length, out);
  const pcm = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const v = Math.round(out[i]!);
    pcm[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return pcm;
}

export default function decode(task: DecodeTask): DecodeResult {
  const startMs = performance.now();
  const speech = parseWav(new Uint8Array(task.wav));
  if (speech.sampleRate < 4000 || speech.sampleRate > 192_000) throw new Error(`unusable sample rate ${speech.sampleRate} Hz`);
  const samples = resample(speech.samples, speech.sampleRate, task.sampleRate);
  const pcm = ownBuffer(samples);
  const result: DecodeResult = {
    pcm,
    sampleRate: task.sampleRate,
    sourceSampleRate: speech.sampleRate,
    durationMs: (samples.length / task.sampleRate) * 1000,
    decodeMs: performance.now() - startMs,
  };
  return returnTransferring(result, [pcm]);
}
