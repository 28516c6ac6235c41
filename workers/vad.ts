/**
 * VAD worker (a Piscina thread): frames of 16 kHz PCM16 → Silero VAD v5 (onnxruntime-node) →
 * one speech probability per 32 ms frame. One ONNX session per thread, one intra-op thread,
 * spinning off. Stateless between tasks: the session's recurrent state and context come with
 * the task and go back with the result. Protocol: src/agents/local/vad-protocol.ts.
 */
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { createWorkerSession } from '../src/inference/ort-session.js';
import { returnTransferring } from './transfer.js';
import {
  VAD_CONTEXT_SAMPLES, VAD_FRAME_SAMPLES, VAD_SAMPLE_RATE, VAD_STATE_DIMS, VAD_STATE_SIZE,
  type VadResult, type VadTask, type VadWorkerData,
} from '../src/agents/local/vad-protocol.js';

const data = workerData as VadWorkerData;
const session = await createWorkerSession(data.modelPath);
for (const name of ['input', 'state', 'sr']) {
  if (!session.inputNames.includes(name)) {
    throw new Error(`${data.modelPath} is not a Silero VAD v5 model: inputs are ${session.inputNames.join(', ')} (want input, state, sr)`);
  }
}
const sampleRate = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
/** Private (non-shared) memory for the model input: context followed by the frame. */
const input = new Float32Array(VAD_CONTEXT_SAMPLES + VAD_FRAME_SAMPLES);
const inputTensor = new ort.Tensor('float32', input, [1, input.length]);

export default async function detectSpeech(task: VadTask): Promise<VadResult> {
  const t0 = performance.now();
  const pcm = new Int16Array(task.pcm);
  const frames = Math.floor(pcm.length / VAD_FRAME_SAMPLES);
  const probabilities = new Float32Array(frames);
  let state = new Float32Array(task.state);
  const context = new Float32Array(task.context);
  if (state.length !== VAD_STATE_SIZE || context.length !== VAD_CONTEXT_SAMPLES) throw new Error('VAD task with a malformed state');
  for (let f = 0; f < frames; f++) {
    input.set(context, 0);
    const offset = f * VAD_FRAME_SAMPLES;
    for (let i = 0; i < VAD_FRAME_SAMPLES; i++) input[VAD_CONTEXT_SAMPLES + i] = pcm[offset + i]! / 32768;
    context.set(input.subarray(input.length - VAD_CONTEXT_SAMPLES));
    const out = await session.run({ input: inputTensor, state: new ort.Tensor('float32', state, [...VAD_STATE_DIMS]), sr: sampleRate });
    probabilities[f] = (out.output!.data as Float32Array)[0]!;
    // A copy: the next run must not read from memory the runtime may hand back to its pool.
    state = Float32Array.from(out.stateN!.data as Float32Array);
  }
  const result: VadResult = { probabilities: probabilities.buffer, state: state.buffer, context: context.buffer, inferMs: performance.now() - t0 };
  return returnTransferring(result, [result.probabilities, result.state, result.context]);
}
