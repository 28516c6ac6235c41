import t from 'tap';
import pino from 'pino';
import { existsSync } from 'node:fs';
import { InferencePool } from '../src/inference/pool.js';
import { PcmRing } from '../src/audio/pcm-ring.js';
import { ARKIT_COUNT, ARKIT_INDEX } from '../src/protocol/arkit.js';
import { FliteTts } from '../src/agents/offline/flite-tts.js';

// The shipped trained model through the real worker path: ring → 16 kHz → ONNX → 30 FPS weights.
const MODEL = 'pretrained_models/lipsync-small.onnx';
t.ok(existsSync(MODEL), `${MODEL} is shipped`);
const pool = new InferencePool({ modelPath: MODEL, workers: 1, logger: pino({ level: 'silent' }) });
const info = await pool.start();
const tts = new FliteTts({ voice: 'slt' });
t.teardown(async () => {
  await pool.close();
  await tts.close();
});

async function weightsFor(pcm: Buffer): Promise<Float32Array> {
  const samples = pcm.length / 2;
  const ring = PcmRing.create(samples);
  ring.write(0, pcm);
  const r = await pool.runWindow({ kind: 'window', ring: ring.sab, sessionId: 's', turnId: 't', contextStart: 0, start: 0, end: samples, firstFrameIndex: 0, final: true, releaseTo: 0, output: 'weights' });
  t.equal(r.frameCount, Math.ceil(samples / 800), 'one frame per 1/30 s');
  return r.weights!;
}

const channel = (w: Float32Array, name: keyof typeof ARKIT_INDEX) => Array.from({ length: w.length / ARKIT_COUNT }, (_, f) => w[f * ARKIT_COUNT + ARKIT_INDEX[name]]!);

t.test('contract: one input, one output, 30 FPS, values in [0,1], deterministic', async (t) => {
  t.equal(info.inputName, 'audio');
  t.equal(info.outputName, 'blendshapes');
  const speech = (await tts.synthesize('Hello, how are you today?')).pcm;
  const a = await weightsFor(speech);
  const b = await weightsFor(speech);
  t.ok(a.every((v) => v >= 0 && v <= 1 && Number.isFinite(v)), 'all 52 weights of every frame in [0,1]');
  t.same(Array.from(a), Array.from(b), 'same audio → same weights');
});

t.test('silence in → closed mouth out', async (t) => {
  const w = await weightsFor(Buffer.alloc(24_000 * 2));
  const jaw = channel(w, 'jawOpen');
  t.ok(Math.max(...jaw) < 0.05, `jawOpen max ${Math.max(...jaw).toFixed(3)} in silence`);
});

t.test('a vowel-rich clip in → the jaw moves, and closes for the bilabials', async (t) => {
  const speech = (await tts.synthesize('Oh, I owe you a yo-yo. Mama made a map.')).pcm;
  const w = await weightsFor(speech);
  const jaw = channel(w, 'jawOpen');
  const mean = jaw.reduce((a, b) => a + b, 0) / jaw.length;
  const sd = Math.sqrt(jaw.reduce((a, b) => a + (b - mean) ** 2, 0) / jaw.length);
  t.ok(Math.max(...jaw) > 0.3, `jawOpen opens (max ${Math.max(...jaw).toFixed(2)})`);
  t.ok(sd > 0.05, `and moves (sd ${sd.toFixed(3)})`);
  const close = channel(w, 'mouthClose').map((c, i) => c + channel(w, 'mouthPressLeft')[i]!);
  t.ok(Math.max(...close) > 0.15, `lips press/close somewhere in "mama made a map" (max ${Math.max(...close).toFixed(2)})`);
});
