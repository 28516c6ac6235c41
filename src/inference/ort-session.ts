import * as ort from 'onnxruntime-node';

/**
 * An ONNX session for a pool worker: one intra-op thread and no spinning, so N workers use N
 * cores and idle workers use none (ARCHITECTURE "Rules that make it fast").
 */
export function createWorkerSession(modelPath: string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
  });
}
