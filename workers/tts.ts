/**
 * TTS worker (a Piscina thread): text → flite (WASI) → PCM16 at the voice's rate → resampled to
 * the rate asked for, with the time each word is spoken (from flite's phone timeline). The wasm
 * module is compiled once when the thread starts and reused by every task. Protocol: src/agents/offline/tts-protocol.ts.
 */
import { ownBuffer, returnTransferring } from './transfer.js';
import { isFliteVoice, type TtsResult, type TtsTask } from '../src/agents/offline/tts-protocol.js';

// node:wasi announces itself as experimental on every load. This filter is this thread's own
// (worker threads have their own `process` events) and hides only that one warning; it must be
// installed before node:wasi loads, hence the dynamic import below.
process.removeAllListeners('warning');
process.on('warning', (warning) => {
  if (warning.name === 'ExperimentalWarning' && /WASI/.test(warning.message)) return;
  process.stderr.write(`${warning.name}: ${warning.message}\n`);
});

const { compileFlite, runFlite } = await import('../src/agents/offline/flite-wasi.js');
const { resamplePcm16 } = await import('../src/audio/resampler.js');
const { wordTimings } = await import('../src/agents/offline/word-timing.js');
const flite = await compileFlite();

export default async function synthesize(task: TtsTask): Promise<TtsResult> {
  // Checked here too: flite silently falls back to its default voice on an unknown name.
  if (!isFliteVoice(task.voice)) throw new Error(`unknown flite voice "${String(task.voice)}"`);
  const startMs = performance.now();
  const speech = await runFlite(flite, task.text, task.voice);
  const samples = resamplePcm16(speech.samples, speech.sampleRate, task.sampleRate);
  // An exact-size buffer of its own, so it moves to the main thread without a copy.
  const pcm = ownBuffer(samples);
  const durationMs = (samples.length / task.sampleRate) * 1000;
  const result: TtsResult = {
    pcm,
    sampleRate: task.sampleRate,
    sourceSampleRate: speech.sampleRate,
    durationMs,
    synthMs: performance.now() - startMs,
    // Phone times do not change with the resampling: they map onto the PCM that goes back.
    words: wordTimings(task.text, speech.phones, durationMs),
  };
  // Piscina posts `result` with `pcm` in the transfer list.
  return returnTransferring(result, [pcm]);
}
