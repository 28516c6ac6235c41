import t from 'tap';
import { pino } from 'pino';
import { InferencePool } from '../src/inference/pool.js';
import { PcmRing } from '../src/audio/pcm-ring.js';
import { DEFAULT_MODEL_PATH } from '../src/config/config.js';
import { ARKIT_COUNT, ARKIT_NAMES } from '../src/protocol/arkit.js';
import { syntheticSpeech } from './helpers/fake-remote-agent.js';

// The inference task's `output: 'weights'` option (video dialects) next to the widget default.
const pool = new InferencePool({ modelPath: DEFAULT_MODEL_PATH, workers: 1, logger: pino({ level: 'silent' }) });
await pool.start();
t.teardown(() => pool.close());

t.test("output 'weights' returns the same 30 FPS weights the widget frames carry, and no frame bytes", async (t) => {
  const ring = PcmRing.create(24_000 * 4);
  const pcm = syntheticSpeech(1);
  ring.write(0, pcm);
  const base = { kind: 'window' as const, ring: ring.sab, sessionId: 's', turnId: 't', contextStart: 0, start: 0, end: 24_000, firstFrameIndex: 0, final: true, releaseTo: 0 };
  const frames = await pool.runWindow(base);
  const weights = await pool.runWindow({ ...base, output: 'weights' });
  t.equal(frames.frameCount, 30);
  t.equal(frames.weights, undefined, 'the widget path is unchanged');
  t.ok(frames.bytes.length > 0);
  t.equal(weights.frameCount, 30);
  t.equal(weights.bytes.length, 0);
  t.equal(weights.weights!.length, 30 * ARKIT_COUNT);
  const text = Buffer.from(frames.bytes.subarray(0, frames.lengths[0])).toString('utf8');
  const first = JSON.parse(text.replace(/"timestamp":\d+/, '"timestamp":0')) as { weights: Record<string, number> };
  const jaw = ARKIT_NAMES.indexOf('jawOpen');
  const w = Math.min(1, Math.max(0, weights.weights![jaw]!));
  t.ok(Math.abs(first.weights.jawOpen! - w) < 1e-3, 'frame 0 jawOpen matches');
  const max = Math.max(...Array.from({ length: 30 }, (_, f) => weights.weights![f * ARKIT_COUNT + jaw]!));
  t.ok(max > 0.05, `speech opens the jaw (max ${max.toFixed(3)})`);
});

t.test('a window whose span is not a whole number of 16 kHz samples keeps its last frame (no repeated frame)', async (t) => {
  // Context + window = 25 frames of 800 samples: 13 333⅓ samples at 16 kHz. The model makes a frame
  // per 533⅓ samples, so cut at 13 333 it gave 24 frames and the window's last frame was a copy of
  // the one before. Covered to 13 334, the model computes it.
  const ring = PcmRing.create(24_000 * 4);
  ring.write(0, syntheticSpeech(1));
  const r = await pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: 's', turnId: 't', contextStart: 0, start: 9600, end: 20_000, firstFrameIndex: 12, final: false, releaseTo: 0, output: 'weights' });
  t.equal(r.frameCount, 13);
  const w = (f: number): Float32Array => r.weights!.subarray(f * ARKIT_COUNT, (f + 1) * ARKIT_COUNT);
  let step = 0;
  for (let c = 0; c < ARKIT_COUNT; c++) step = Math.max(step, Math.abs(w(12)[c]! - w(11)[c]!));
  t.ok(step > 1e-3, `the last frame is the model's own, not the one before repeated (max change ${step.toFixed(4)})`);
});
