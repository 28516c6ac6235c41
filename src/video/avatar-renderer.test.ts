import t from 'tap';
import { loadImage } from '@napi-rs/canvas';
import { AvatarRenderer } from './avatar-renderer.js';
import { ARKIT_COUNT, ARKIT_INDEX } from '../protocol/arkit.js';

function frameWith(values: Partial<Record<keyof typeof ARKIT_INDEX, number>>): Float32Array {
  const f = new Float32Array(ARKIT_COUNT);
  for (const [k, v] of Object.entries(values)) f[ARKIT_INDEX[k as keyof typeof ARKIT_INDEX]] = v!;
  return f;
}

/** Sum of absolute RGBA differences inside a box. */
function regionDiff(a: Uint8ClampedArray, b: Uint8ClampedArray, width: number, box: [number, number, number, number]): number {
  let d = 0;
  const [x0, y0, x1, y1] = box;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) for (let c = 0; c < 3; c++) d += Math.abs(a[(y * width + x) * 4 + c]! - b[(y * width + x) * 4 + c]!);
  return d / ((x1 - x0) * (y1 - y0));
}

t.test('JPEG frames decode at the canvas size', async (t) => {
  const r = new AvatarRenderer(640, 480);
  r.draw({ weights: null, t: 0 });
  const jpeg = r.jpeg();
  t.equal(jpeg[0], 0xff);
  t.equal(jpeg[1], 0xd8);
  const img = await loadImage(jpeg);
  t.equal(img.width, 640);
  t.equal(img.height, 480);
});

t.test('the mouth follows jawOpen, funnel and smile; the rest of the face does not move', async (t) => {
  const r = new AvatarRenderer(512, 512);
  const at = (w: Float32Array | null) => {
    r.draw({ weights: w, t: 0.3 });
    return new Uint8ClampedArray(r.rgba());
  };
  const silent = at(new Float32Array(ARKIT_COUNT));
  const open = at(frameWith({ jawOpen: 0.8 }));
  const funnel = at(frameWith({ mouthFunnel: 0.9, mouthPucker: 0.6 }));
  const smile = at(frameWith({ mouthSmileLeft: 1, mouthSmileRight: 1 }));
  const mouthBox: [number, number, number, number] = [170, 330, 342, 440];
  const eyeBox: [number, number, number, number] = [150, 220, 362, 270];
  t.ok(regionDiff(silent, open, 512, mouthBox) > 10, 'jaw open changes the mouth');
  t.ok(regionDiff(silent, funnel, 512, mouthBox) > 5, 'funnel changes the mouth');
  t.ok(regionDiff(silent, smile, 512, mouthBox) > 3, 'smile changes the mouth');
  t.ok(regionDiff(open, funnel, 512, mouthBox) > 5, 'open and funnel differ');
  t.ok(regionDiff(silent, open, 512, eyeBox) < 1, 'the eyes stay put');
  const blink = at(frameWith({ eyeBlinkLeft: 1, eyeBlinkRight: 1 }));
  t.ok(regionDiff(silent, blink, 512, eyeBox) > 5, 'blinks close the eyes');
});

t.test('idle life: frames change over time without any weights', async (t) => {
  const r = new AvatarRenderer(320, 240, 7);
  r.draw({ weights: null, t: 0 });
  const a = new Uint8ClampedArray(r.rgba());
  r.draw({ weights: null, t: 2.5 });
  const b = r.rgba();
  t.ok(regionDiff(a, b, 320, [0, 0, 320, 240]) > 0.5);
});

t.test('render cost', async (t) => {
  const r = new AvatarRenderer(640, 480);
  const w = frameWith({ jawOpen: 0.5 });
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) {
    r.draw({ weights: w, t: i * 0.04 });
    r.jpeg();
  }
  const jpegMs = (performance.now() - t0) / 20;
  const r2 = new AvatarRenderer(512, 512);
  const t1 = performance.now();
  for (let i = 0; i < 20; i++) {
    r2.draw({ weights: w, t: i * 0.04 });
    r2.rgba();
  }
  const rgbaMs = (performance.now() - t1) / 20;
  t.comment(`640x480 draw+jpeg ${jpegMs.toFixed(2)} ms, 512x512 draw+rgba ${rgbaMs.toFixed(2)} ms`);
  t.ok(jpegMs < 40 && rgbaMs < 40, 'well under a 40 ms frame');
});
