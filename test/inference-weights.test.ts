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
