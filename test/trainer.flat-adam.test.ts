/**
 * The MLP's flat Adam (src/trainer/flat-adam.ts) against tfjs's own Adam
 * optimiser on the same network: the same weights bit for bit after every
 * step, the same state (moments, running powers, step count), slices
 * applied one by one equal to one whole update, and a restored state
 * (tfjs's or its own) continuing exactly.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { Rng } from '../src/core/rng.js';
import { FlatAdam, flatShare } from '../src/trainer/flat-adam.js';
import { denseAdamState } from '../src/trainer/adam-state.js';
import { assignFlat, flatSize, readFlat } from '../src/trainer/reduce.js';

const CONFIG = { kind: 'pooling' as const, embDim: 6, hidden: [10, 7], windows: [1, 2] };

/** Gradients of mixed scales (tiny and large values, exact zeros, negatives). */
function gradients(size: number, rng: Rng, step: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => (i % 13 === 0 ? 0 : rng.normal() * (step % 3 === 0 ? 1e-4 : i % 2 ? 3 : 0.2)));
}

/** Applies `flat` as gradients to `vars` with a tfjs optimiser (as the trainer once did). */
function tfStep(opt: tf.Optimizer, vars: [string, tf.Variable][], flat: Float32Array): void {
  const named: tf.NamedTensorMap = {};
  let o = 0;
  for (const [, v] of vars) {
    named[v.name] = tf.tensor(flat.subarray(o, o + v.size), v.shape);
    o += v.size;
  }
  opt.applyGradients(named as tf.NamedTensorMap & Record<string, tf.Variable>);
  tf.dispose(Object.values(named));
}

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: ${a[i]} vs ${b[i]}`);
}

describe('FlatAdam', () => {
  it('gives tfjs Adam\'s weights and state bit for bit, step after step', async () => {
    await initBackend();
    const net = ScorerNetwork.init(CONFIG, 5, 9, new Rng(1));
    const vars = net.variables();
    const size = flatSize(vars);
    const opt = tf.train.adam(0.01);
    const adam = new FlatAdam(size, 0.01);
    const weights = readFlat(vars, new Float32Array(size));
    const rng = new Rng(4);
    try {
      assert.deepEqual(adam.state(vars), denseAdamState(opt), 'before the first step: counters only, no moments');
      for (let step = 0; step < 12; step++) {
        const g = gradients(size, rng, step);
        tfStep(opt, vars, g);
        adam.apply(weights, g);
        adam.advance();
        sameBits(weights, readFlat(vars, new Float32Array(size)), `weights after step ${step + 1}`);
      }
      const ours = adam.state(vars);
      const theirs = denseAdamState(opt);
      assert.equal(ours.iterations, theirs.iterations);
      assert.equal(ours.accBeta1, theirs.accBeta1);
      assert.equal(ours.accBeta2, theirs.accBeta2);
      assert.deepEqual(ours.m.map((x) => [x.name, x.shape]), theirs.m.map((x) => [x.name, x.shape]));
      ours.m.forEach((x, i) => sameBits(x.data, theirs.m[i].data, `m of ${x.name}`));
      ours.v.forEach((x, i) => sameBits(x.data, theirs.v[i].data, `v of ${x.name}`));
    } finally {
      opt.dispose();
      net.dispose();
    }
  });

  it('slices applied one by one (as the workers do) equal one whole update, and a restored state continues exactly', async () => {
    await initBackend();
    const net = ScorerNetwork.init(CONFIG, 5, 9, new Rng(2));
    const vars = net.variables();
    const size = flatSize(vars);
    const whole = new FlatAdam(size, 0.02);
    const wWhole = readFlat(vars, new Float32Array(size));
    const shared = { m: new Float32Array(size), v: new Float32Array(size) };
    const parts = [0, 1, 2].map(() => new FlatAdam(size, 0.02, { moments: shared }));
    const wParts = wWhole.slice();
    const rng = new Rng(7);
    let saved: ReturnType<FlatAdam['state']> | undefined;
    let wSaved: Float32Array | undefined;
    try {
      for (let step = 0; step < 6; step++) {
        const g = gradients(size, rng, step);
        whole.apply(wWhole, g);
        whole.advance();
        parts.forEach((a, i) => {
          const { lo, hi } = flatShare(size, i, parts.length);
          a.apply(wParts, g, lo, hi);
          a.advance();
        });
        sameBits(wParts, wWhole, `sliced weights after step ${step + 1}`);
        if (step === 2) {
          saved = whole.state(vars);
          wSaved = wWhole.slice();
        }
      }
      // from step 3's state, each slice restored on its own (shared moments), the last three steps again
      const rng2 = new Rng(7);
      const replay = [0, 1, 2, 3, 4, 5].map((s) => gradients(size, rng2, s));
      const moments = { m: new Float32Array(size).fill(NaN), v: new Float32Array(size).fill(NaN) };
      const resumed = [0, 1].map((i) => {
        const a = new FlatAdam(size, 0.02, { moments });
        a.restore(saved!, flatShare(size, i, 2));
        return a;
      });
      const w = wSaved!;
      for (let step = 3; step < 6; step++) {
        resumed.forEach((a, i) => {
          const { lo, hi } = flatShare(size, i, 2);
          a.apply(w, replay[step], lo, hi);
          a.advance();
        });
      }
      sameBits(w, wWhole, 'resumed weights');
      sameBits(moments.m, whole.m, 'resumed first moments');
      assignFlat(vars, w);
      sameBits(readFlat(vars, new Float32Array(size)), w, 'assignFlat then readFlat');
      assert.throws(() => new FlatAdam(size, 0.01, { moments: { m: new Float32Array(3), v: new Float32Array(size) } }), /must hold/);
    } finally {
      net.dispose();
    }
  });
});
