import t from 'tap';
import path from 'node:path';

// training/eval.mjs scores a model at 30 FPS exactly as the inference worker plays it: a model
// whose output is not 30 FPS (the shipped envelope model runs at 50 FPS) is resampled to the
// 30 FPS frame centres before it is compared with 30 FPS targets. Plain JS outside the build, so
// it is imported from the repository root.
const evalModule = (await import(path.resolve('training/eval.mjs'))) as {
  createSession(model: string): Promise<unknown>;
  runModel(session: unknown, samples: Float32Array): Promise<{ frames: number; mouth: Float32Array; weights52: Float32Array }>;
};

t.test('a 50 FPS model is scored on 30 FPS frames, aligned in time', async (t) => {
  const session = await evalModule.createSession('pretrained_models/envelope-arkit.onnx');
  const x = new Float32Array(3 * 16_000);
  for (let i = 16_000; i < 24_000; i++) x[i] = 0.3 * Math.sin(i * 0.1); // sound from 1.0 s to 1.5 s
  const m = await evalModule.runModel(session, x);
  t.equal(m.frames, 90, '3 s → 90 frames at 30 FPS (the model itself gives 150)');
  t.equal(m.weights52.length, 90 * 52);
  const jaw = Array.from({ length: m.frames }, (_, k) => m.mouth[k * 15]!); // jawOpen is mouth channel 0
  const open = jaw.flatMap((v, k) => (v > 0.3 ? [k] : []));
  // Frames 30…44 are centred inside the sound ((k + 0.5) / 30 s in [1.0, 1.5)).
  t.ok(open[0]! >= 29 && open[0]! <= 31, `jaw opens at 30 FPS frame ${open[0]} (≈ 30)`);
  t.ok(open.at(-1)! >= 43 && open.at(-1)! <= 45, `jaw closes after 30 FPS frame ${open.at(-1)} (≈ 44)`);
  t.ok(jaw.slice(0, 25).every((v) => v < 0.05) && jaw.slice(50).every((v) => v < 0.05), 'closed before and after');
});
