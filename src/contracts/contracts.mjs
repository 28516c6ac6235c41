// The shared contracts for plain Node scripts (scripts/, training/), which run without the
// TypeScript build. The server reads the same JSON through src/audio/constants.ts,
// src/protocol/arkit.ts and src/inference/ort-session.ts.
import arkitNames from './arkit-blendshapes.json' with { type: 'json' };
import media from './media.json' with { type: 'json' };
import workerSessionOptions from './ort-worker-session.json' with { type: 'json' };

/** The 52 ARKit names in canonical order (PROTOCOL.md §1.3). */
export const ARKIT_NAMES = Object.freeze([...arkitNames]);
export const ARKIT_COUNT = ARKIT_NAMES.length;
export const ARKIT_INDEX = Object.freeze(Object.fromEntries(ARKIT_NAMES.map((name, i) => [name, i])));
if (ARKIT_COUNT !== 52) throw new Error(`expected 52 ARKit names, found ${ARKIT_COUNT}`);

export const FRAME_RATE = media.frameRate;
export const MODEL_SAMPLE_RATE = media.modelSampleRate;
export const OUTPUT_SAMPLE_RATE = media.outputSampleRate;

/** onnxruntime-node options of one inference worker (1 intra-op thread, spinning off). */
export const WORKER_SESSION_OPTIONS = workerSessionOptions;
