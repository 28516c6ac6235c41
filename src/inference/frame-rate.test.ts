import t from 'tap';
import { framesAt30Fps } from './frame-rate.js';

function frames(count: number, f: (i: number) => number): Float32Array {
  const out = new Float32Array(count * 52);
  for (let i = 0; i < count; i++) out[i * 52 + 24] = f(i);
  return out;
}

t.test('30 FPS output (±1 frame) is taken as it is', async (t) => {
  const y = frames(30, (i) => i / 30);
  t.same([...framesAt30Fps(y, 30, 16_000)], [...y]);
  t.equal(framesAt30Fps(y, 29, 16_000).length, 29 * 52);
});

t.test('50 FPS output is resampled to 30 FPS frame centres', async (t) => {
  const y = frames(50, (i) => i / 50); // jawOpen ramps with time
  const out = framesAt30Fps(y, 50, 16_000);
  t.equal(out.length, 30 * 52);
  for (const i of [0, 10, 29]) {
    const centre = (i + 0.5) / 30; // seconds
    t.ok(Math.abs(out[i * 52 + 24]! - (centre - 0.01)) < 0.021, `frame ${i} ≈ time ${centre.toFixed(3)}`);
  }
});

t.test('25 FPS output is upsampled to 30 FPS', async (t) => {
  const out = framesAt30Fps(frames(50, () => 0.7), 50, 32_000);
  t.equal(out.length, 60 * 52);
  t.ok(Math.abs(out[59 * 52 + 24]! - 0.7) < 1e-6);
});
