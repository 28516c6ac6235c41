import t, { type Test } from 'tap';
import path from 'node:path';

// train.mjs --average (training/lib/averaging.mjs): the exported weights as the last step's, an
// exponential moving average from a fraction of the run on, or the plain mean of the later steps.
// Checked against closed forms over a made-up sequence of parameter vectors.
interface Spec { kind: 'last' | 'ema' | 'tail'; decay?: number; from: number; name: string }
const { ParamAverage, parseAverage, averageFileTag } = (await import(path.resolve('training/lib/averaging.mjs'))) as {
  parseAverage(s: string): Spec;
  averageFileTag(s: Spec): string;
  ParamAverage: new (spec: Spec, totalSteps: number, size: number) => { update(p: Float32Array, step: number): void; weights(): Float32Array; count: number; startStep: number };
};

// Step s's parameters: [s, s², −s / 3]
const paramsAt = (s: number) => Float32Array.from([s, s * s, -s / 3]);
const run = (spec: string, total: number) => {
  const a = new ParamAverage(parseAverage(spec), total, 3);
  for (let s = 1; s <= total; s++) a.update(paramsAt(s), s);
  return a;
};
const close = (t: Test, got: Float32Array, want: number[], what: string) =>
  t.ok(want.every((w, i) => Math.abs(got[i]! - w) <= 1e-6 * Math.max(1, Math.abs(w))), `${what}: ${[...got].join(', ')} vs ${want.join(', ')}`);

t.test('specs parse, and anything else is refused with the accepted forms', async (t) => {
  t.same(parseAverage('last'), { kind: 'last', from: 0, name: 'last' });
  t.same(parseAverage('ema:0.999'), { kind: 'ema', decay: 0.999, from: 0.5, name: 'ema:0.999' });
  t.same(parseAverage('ema:.9997@0.25'), { kind: 'ema', decay: 0.9997, from: 0.25, name: 'ema:.9997@0.25' });
  t.same(parseAverage('tail@0.75'), { kind: 'tail', from: 0.75, name: 'tail@0.75' });
  t.same(parseAverage('tail'), { kind: 'tail', from: 0.5, name: 'tail' });
  t.equal(averageFileTag(parseAverage('ema:0.999@0.5')), 'ema-0.999-from-0.5');
  for (const bad of ['', 'ema', 'ema:1', 'ema:1.5', 'ema:-0.9', 'tail@1', 'tail@2', 'mean', 'ema:0.9@', 'last@0.5']) {
    t.throws(() => parseAverage(bad), /--average: last, ema:DECAY\[@FROM\] or tail\[@FROM\]/, JSON.stringify(bad));
  }
});

t.test('last: the last step\'s weights', async (t) => {
  close(t, run('last', 10).weights(), [...paramsAt(10)], 'last of 10');
});

t.test('tail: the mean of the steps from the given fraction on', async (t) => {
  // 20 steps, from 0.75: steps 15..20
  const a = run('tail@0.75', 20);
  t.equal(a.startStep, 15);
  t.equal(a.count, 6);
  const steps = [15, 16, 17, 18, 19, 20];
  const mean = (f: (s: number) => number) => steps.reduce((x, s) => x + f(s), 0) / steps.length;
  close(t, a.weights(), [mean((s) => s), mean((s) => s * s), mean((s) => -s / 3)], 'tail mean');
});

t.test('ema: starts from the weights at its first step, then decays each step', async (t) => {
  const d = 0.8;
  const a = run(`ema:${d}@0.5`, 10); // steps 5..10
  t.equal(a.startStep, 5);
  const want = [0, 1, 2].map((i) => {
    let v = paramsAt(5)[i]!;
    for (let s = 6; s <= 10; s++) v = d * v + (1 - d) * paramsAt(s)[i]!;
    return v;
  });
  close(t, a.weights(), want, 'ema');
  // Weights of a long run far back count for nothing: the average follows the recent steps.
  const long = run('ema:0.5@0', 200);
  t.ok(Math.abs(long.weights()[0]! - 199) < 1.01, `ema 0.5 after 200 steps sits near the last (${long.weights()[0]})`);
});

t.test('an average the run never reached is an error, not the initial zeros', async (t) => {
  const a = new ParamAverage(parseAverage('tail@0.9'), 100, 3);
  for (let s = 1; s <= 50; s++) a.update(paramsAt(s), s); // the run ended early
  t.throws(() => a.weights(), /no step reached fraction 0.9/);
});
