import * as ort from 'onnxruntime-node';
import options from '../contracts/ort-worker-session.json' with { type: 'json' };

/**
 * Session options of one pool worker: one intra-op thread and no spinning, so N workers use N
 * cores and idle workers use none (ARCHITECTURE "Rules that make it fast"). The values live in
 * src/contracts/ort-worker-session.json, which training/eval.mjs uses for its real-time factor.
 */
export const WORKER_SESSION_OPTIONS = options as ort.InferenceSession.SessionOptions;

/** An ONNX session for a pool worker (or anything timed like one). */
export function createWorkerSession(modelPath: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, WORKER_SESSION_OPTIONS);
}
