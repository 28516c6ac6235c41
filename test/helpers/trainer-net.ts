import path from 'node:path';

// The trainer's plain-JS modules live outside the build; they are imported from the repository root.
const { makeArchitecture, initParams } = (await import(path.resolve('training/lib/net.mjs'))) as {
  makeArchitecture(c: object): { paramCount: number };
  initParams(arch: object, rng: unknown): Float32Array;
};
const { toOnnxLayout } = (await import(path.resolve('training/lib/ort-net.mjs'))) as { toOnnxLayout(arch: object, p: Float32Array): Float32Array };
const { makeRng } = (await import(path.resolve('training/lib/rng.mjs'))) as { makeRng(seed: number): { normal(): number } };

/**
 * A small trainer network (the shipped layer pattern, 8 channels wide) and its parameters in ONNX
 * layout: seeded initialisation plus N(0, 0.3) noise, so the outputs are away from the neutral face
 * and move from frame to frame.
 */
export function perturbedTrainerNet(mels: number, channels: number, seed: number): { arch: object; q: Float32Array } {
  const arch = makeArchitecture({ mels, hidden: 8, channels });
  const rng = makeRng(seed);
  const q = toOnnxLayout(arch, initParams(arch, rng));
  for (let i = 0; i < q.length; i++) q[i] += rng.normal() * 0.3;
  return { arch, q };
}
