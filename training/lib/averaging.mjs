/**
 * Averages of the parameters over the later part of training, exported instead of the last step's
 * weights: the optimiser's last steps still move the weights around a minimum (the learning rate
 * ends at 3 % of its peak), and an average of those positions sits nearer its centre — what an
 * ensemble of models buys at several times the inference cost, for the cost of one more copy of
 * the parameters during training.
 *
 * A spec is `ema:DECAY@FROM` (an exponential moving average with that decay per step, started at
 * fraction FROM of the steps from the weights there) or `tail@FROM` (the plain mean of every step's
 * weights from fraction FROM on). `@FROM` defaults to 0.5. `last` is the last step's weights.
 */

/** A spec as part of a file name: ema:0.999@0.5 → ema-0.999-from-0.5. */
export const averageFileTag = (spec) => spec.name.replace(':', '-').replace('@', '-from-');

/** Parse one spec; throws a clear error for anything else. */
export function parseAverage(spec) {
  if (spec === 'last') return { kind: 'last', from: 0, name: spec };
  const m = /^(ema:(0?\.\d+)|tail)(?:@(0?\.\d+|0))?$/.exec(spec);
  if (!m) throw new Error(`--average: last, ema:DECAY[@FROM] or tail[@FROM] with DECAY and FROM in [0, 1), got ${JSON.stringify(spec)}`);
  const from = m[3] === undefined ? 0.5 : Number(m[3]);
  return m[2] === undefined ? { kind: 'tail', from, name: spec } : { kind: 'ema', decay: Number(m[2]), from, name: spec };
}

export class ParamAverage {
  /**
   * @param {{kind: 'last'|'ema'|'tail', decay?: number, from: number, name: string}} spec
   * @param {number} totalSteps the run's optimiser steps (the average starts at from × totalSteps)
   * @param {number} size parameter count
   */
  constructor(spec, totalSteps, size) {
    this.spec = spec;
    this.startStep = Math.max(1, Math.ceil(spec.from * totalSteps));
    /** Accumulated in doubles: a tail mean adds steps of ~1e-7 to weights of ~0.05 ('last' keeps none). */
    this.values = new Float64Array(spec.kind === 'last' ? 0 : size);
    /** 'last': the trainer's own parameter array (updated in place). */
    this.latest = null;
    /** Steps folded in so far. */
    this.count = 0;
  }

  /** Fold in the weights after optimiser step `step` (1-based). */
  update(params, step) {
    if (this.spec.kind === 'last') {
      this.latest = params; // the trainer updates its parameters in place: nothing to copy per step
      this.count = 1;
      return;
    }
    if (step < this.startStep) return;
    const v = this.values;
    if (this.count === 0) v.set(params);
    else if (this.spec.kind === 'ema') {
      const d = this.spec.decay, e = 1 - d;
      for (let i = 0; i < v.length; i++) v[i] = d * v[i] + e * params[i];
    } else {
      const k = 1 / (this.count + 1);
      for (let i = 0; i < v.length; i++) v[i] += (params[i] - v[i]) * k;
    }
    this.count++;
  }

  /** The averaged weights as float32 (throws when the run ended before the average started). */
  weights() {
    if (this.count === 0) throw new Error(`--average ${this.spec.name}: no step reached fraction ${this.spec.from} of the run`);
    return Float32Array.from(this.spec.kind === 'last' ? this.latest : this.values);
  }
}
