/**
 * Adam for the pooling scorer's MLP, on the weights as one flat float32
 * vector (the variables of `ScorerNetwork.variables()` in order), in plain
 * JavaScript.
 *
 * Every operation is rounded to float32 in the order in which tfjs's
 * AdamOptimizer computes it (moments, bias corrections, update, then the
 * running powers β1^t and β2^t), with tfjs's epsilon for the backend. So a
 * step gives the weights tfjs-wasm's optimiser gives, bit for bit
 * (test/trainer.flat-adam.test.ts checks this), and the state is the
 * DenseAdamState that checkpoints already store.
 *
 * Why not tfjs's optimiser: it costs some ten kernel calls per variable
 * and step, and in the data-parallel trainer every worker ran it on its
 * whole copy of the MLP. Here the weights and moments can live in shared
 * memory, and each worker updates only its slice (`apply(.., lo, hi)`);
 * after a barrier every worker loads the whole vector into its tfjs
 * variables.
 */
import * as tf from '@tensorflow/tfjs';
import type { DenseAdamState, MomentArray } from './adam-state.js';

const f32 = Math.fround;

/** A slice [lo, hi) of the flat vector. */
export interface FlatRange {
  lo: number;
  hi: number;
}

/** Thread `index` of `count`'s slice of a vector of `size` values (contiguous, in index order). */
export function flatShare(size: number, index: number, count: number): FlatRange {
  return { lo: Math.floor((index * size) / count), hi: Math.floor(((index + 1) * size) / count) };
}

/** Adam state and update of one flat weight vector. */
export class FlatAdam {
  /** First and second moments (as long as the vector; shared memory on workers). */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Steps applied. */
  iterations = 0;
  /** β1^(steps+1) and β2^(steps+1), accumulated in float32 as tfjs does. */
  accBeta1: number;
  accBeta2: number;
  private readonly beta1: number;
  private readonly beta2: number;
  private readonly oneMinusBeta1: number;
  private readonly oneMinusBeta2: number;
  private readonly negLr: number;
  private readonly eps: number;

  constructor(
    readonly size: number,
    lr: number,
    opts: { beta1?: number; beta2?: number; eps?: number; moments?: { m: Float32Array; v: Float32Array } } = {},
  ) {
    const b1 = opts.beta1 ?? 0.9;
    const b2 = opts.beta2 ?? 0.999;
    this.beta1 = f32(b1);
    this.beta2 = f32(b2);
    this.oneMinusBeta1 = f32(1 - b1);
    this.oneMinusBeta2 = f32(1 - b2);
    this.negLr = f32(-lr);
    this.eps = f32(opts.eps ?? tf.backend().epsilon());
    this.accBeta1 = this.beta1;
    this.accBeta2 = this.beta2;
    const mo = opts.moments;
    if (mo && (mo.m.length !== size || mo.v.length !== size)) throw new Error(`flat Adam moments must hold the ${size} weights`);
    this.m = mo?.m ?? new Float32Array(size);
    this.v = mo?.v ?? new Float32Array(size);
  }

  /** This step's update of weights[lo, hi) with gradient grad[lo, hi) (moments of the slice too); `advance` ends the step. */
  apply(weights: Float32Array, grad: Float32Array, lo = 0, hi = this.size): void {
    const { m, v, beta1, beta2, oneMinusBeta1, oneMinusBeta2, negLr, eps } = this;
    const c1 = f32(1 - this.accBeta1);
    const c2 = f32(1 - this.accBeta2);
    for (let i = lo; i < hi; i++) {
      const g = grad[i];
      const mi = f32(f32(m[i] * beta1) + f32(g * oneMinusBeta1));
      const vi = f32(f32(v[i] * beta2) + f32(f32(g * g) * oneMinusBeta2));
      m[i] = mi;
      v[i] = vi;
      const mHat = f32(mi / c1);
      const vHat = f32(vi / c2);
      weights[i] = f32(f32(f32(mHat / f32(f32(Math.sqrt(vHat)) + eps)) * negLr) + weights[i]);
    }
  }

  /** Ends a step (every slice applied): the running powers and the count move on. */
  advance(): void {
    this.accBeta1 = f32(this.accBeta1 * this.beta1);
    this.accBeta2 = f32(this.accBeta2 * this.beta2);
    this.iterations++;
  }

  /** The state as tfjs's optimiser would report it for `vars` (moments named `<variable>/m` and `/v`; none before the first step). */
  state(vars: [string, tf.Variable][]): DenseAdamState {
    const moments = (arr: Float32Array, suffix: string): MomentArray[] => {
      if (this.iterations === 0) return [];
      let o = 0;
      return vars.map(([, x]) => {
        const data = arr.slice(o, o + x.size);
        o += x.size;
        return { name: `${x.name}/${suffix}`, shape: x.shape.slice(), data };
      });
    };
    return { iterations: this.iterations, accBeta1: this.accBeta1, accBeta2: this.accBeta2, m: moments(this.m, 'm'), v: moments(this.v, 'v') };
  }

  /** Puts `state` back: the counters, and the moments of [lo, hi) (all by default; zeros when the state has none). */
  restore(state: DenseAdamState, range: FlatRange = { lo: 0, hi: this.size }): void {
    const put = (parts: MomentArray[], arr: Float32Array) => {
      if (parts.length === 0) {
        arr.fill(0, range.lo, range.hi);
        return;
      }
      const flat = new Float32Array(this.size);
      let o = 0;
      for (const p of parts) {
        flat.set(p.data, o);
        o += p.data.length;
      }
      if (o !== this.size) throw new Error(`the saved MLP optimiser state holds ${o} values, the network has ${this.size}`);
      arr.set(flat.subarray(range.lo, range.hi), range.lo);
    };
    put(state.m, this.m);
    put(state.v, this.v);
    this.iterations = state.iterations;
    this.accBeta1 = f32(state.accBeta1);
    this.accBeta2 = f32(state.accBeta2);
  }
}
