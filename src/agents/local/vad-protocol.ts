/**
 * The VAD worker's protocol with the main thread, typed in one place: what `SileroVad` sends to
 * `workers/vad.ts` and what comes back. The worker is stateless: each session's recurrent state
 * travels with its task, so any thread of the pool can serve any session.
 */

/** Silero VAD v5 runs on 16 kHz mono. */
export const VAD_SAMPLE_RATE = 16_000;
/** New samples per model call at 16 kHz (32 ms): the size Silero v5 was trained on. */
export const VAD_FRAME_SAMPLES = 512;
/** Samples of the previous frame put in front of each frame, as Silero's own wrapper does. */
export const VAD_CONTEXT_SAMPLES = 64;
/** The recurrent state `[2, 1, 128]`. */
export const VAD_STATE_DIMS = [2, 1, 128] as const;
export const VAD_STATE_SIZE = 2 * 1 * 128;
export const VAD_FRAME_MS = (VAD_FRAME_SAMPLES / VAD_SAMPLE_RATE) * 1000; // 32

export interface VadWorkerData {
  modelPath: string;
}

export interface VadTask {
  /** Whole frames of PCM16 LE mono at 16 kHz (a multiple of VAD_FRAME_SAMPLES samples); transferred. */
  pcm: ArrayBuffer;
  /** Float32 × VAD_STATE_SIZE; transferred. */
  state: ArrayBuffer;
  /** Float32 × VAD_CONTEXT_SAMPLES, the tail of the previous frame; transferred. */
  context: ArrayBuffer;
}

export interface VadResult {
  /** Float32, one speech probability per frame. */
  probabilities: ArrayBuffer;
  state: ArrayBuffer;
  context: ArrayBuffer;
  /** Worker time for the task. */
  inferMs: number;
}
