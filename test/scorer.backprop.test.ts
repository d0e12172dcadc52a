/**
 * The pooling scorer's hand-written training pass (src/scorer/backprop.ts)
 * against tfjs autodiff of the same network written with plain ops: the
 * loss, the gradients of the user rows, the node rows and every MLP weight,
 * over several pair groups split into several chunks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/scorer/backend.js';
import { PoolingBackprop } from '../src/scorer/backprop.js';
import { ScorerNetwork, mlpEntries } from '../src/scorer/network.js';
import { Rng } from '../src/core/rng.js';

/** Σ w · sigmoid cross-entropy of the reference logits, group by group; returns the loss and the gradients by (user, nodes, ...weights). */
function reference(net: ScorerNetwork, groups: { users: number; m: number }[], user: Float32Array, nodes: Float32Array, labels: Float32Array, weights: Float32Array) {
  const ud = net.userDim;
  const d = net.config.embDim;
  const slots = groups.reduce((s, g) => s + g.users, 0);
  const pairs = groups.reduce((s, g) => s + g.users * g.m, 0);
  const vars = mlpEntries(net.mlp).map(([, v]) => v);
  return tf.tidy(() => {
    const f = (u: tf.Tensor, n: tf.Tensor) => {
      const parts: tf.Tensor1D[] = [];
      let s0 = 0;
      let p0 = 0;
      for (const g of groups) {
        if (g.users * g.m > 0) parts.push(net.logitsReference(tf.slice(u, [s0, 0], [g.users, ud]) as tf.Tensor2D, tf.slice(n, [p0, 0], [g.users * g.m, d]) as tf.Tensor2D, g.m));
        s0 += g.users;
        p0 += g.users * g.m;
      }
      const x = tf.concat(parts);
      const z = tf.tensor1d(labels.subarray(0, pairs));
      const ce = tf.add(tf.sub(tf.relu(x), tf.mul(x, z)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
      return tf.sum(tf.mul(ce, tf.tensor1d(weights.subarray(0, pairs)))) as tf.Scalar;
    };
    const { value, grads } = tf.valueAndGrads(f as (...xs: tf.Tensor[]) => tf.Scalar)([tf.tensor2d(user, [slots, ud]), tf.tensor2d(nodes, [pairs, d]), ...vars]);
    return { loss: value.dataSync()[0], grads: grads.map((g) => g.dataSync() as Float32Array) };
  });
}

function assertClose(a: Float32Array, r: Float32Array, name: string): void {
  assert.equal(a.length, r.length, name);
  let maxAbs = 0;
  for (let j = 0; j < r.length; j++) maxAbs = Math.max(maxAbs, Math.abs(r[j]));
  assert.ok(maxAbs > 0, `${name}: the reference gradient is zero, the check would prove nothing`);
  for (let j = 0; j < r.length; j++) assert.ok(Math.abs(a[j] - r[j]) <= 1e-4 * Math.max(1, maxAbs), `${name}[${j}]: ${a[j]} vs ${r[j]}`);
}

test('the hand-written training pass equals autodiff (loss, user rows, node rows, every weight)', async () => {
  await initBackend();
  // hidden 10 → 7 → 9: one later layer narrows, one widens (the two ways a weight gradient is formed)
  const net = ScorerNetwork.init({ kind: 'pooling', embDim: 6, hidden: [10, 7, 9], windows: [1, 2] }, 20, 30, new Rng(9));
  for (const [name, v] of mlpEntries(net.mlp)) {
    if (name.endsWith('alpha') || name.endsWith('bias')) v.assign(tf.randomUniform(v.shape, -0.5, 0.8, 'float32', 3));
  }
  // groups as the hierarchical layout makes them (one per level, m growing), one with m = 1 and one without pairs
  const groups = [{ users: 5, m: 1 }, { users: 5, m: 3 }, { users: 0, m: 2 }, { users: 4, m: 0 }, { users: 5, m: 4 }];
  const slots = groups.reduce((s, g) => s + g.users, 0);
  const pairs = groups.reduce((s, g) => s + g.users * g.m, 0);
  const rng = new Rng(5);
  const user = Float32Array.from({ length: slots * net.userDim }, () => rng.normal());
  const nodes = Float32Array.from({ length: pairs * 6 }, () => rng.normal());
  const labels = Float32Array.from({ length: pairs }, (_, i) => (i % 5 === 0 ? 1 : i % 7 === 0 ? 0.3 : 0));
  const weights = Float32Array.from({ length: pairs }, (_, i) => (i % 11 === 0 ? 0 : 0.5 + rng.next()));
  const ref = reference(net, groups, user, nodes, labels, weights);
  const mlpSize = net.variables().reduce((s, [, v]) => s + v.size, 0);
  const names = mlpEntries(net.mlp).map(([n]) => n);
  // chunks of at most 7 pairs (several per group, whole users) and one chunk per group
  for (const chunkRows of [7, 4096]) {
    const bp = new PoolingBackprop(net, chunkRows);
    const out = { mlp: new Float32Array(mlpSize), user: new Float32Array(slots * net.userDim).fill(NaN), nodes: new Float32Array(pairs * 6).fill(NaN) };
    const before = tf.memory().numTensors;
    const loss = bp.run({ groups, user, nodes, labels, weights }, out);
    assert.equal(tf.memory().numTensors, before, 'no tensor is left behind');
    assert.ok(Math.abs(loss - ref.loss) <= 1e-4 * Math.abs(ref.loss), `loss ${loss} vs ${ref.loss}`);
    assertClose(out.user, ref.grads[0], `user (chunks of ${chunkRows})`);
    assertClose(out.nodes, ref.grads[1], `nodes (chunks of ${chunkRows})`);
    let o = 0;
    ref.grads.slice(2).forEach((g, i) => {
      assertClose(out.mlp.subarray(o, o + g.length), g, `${names[i]} (chunks of ${chunkRows})`);
      o += g.length;
    });
    assert.equal(o, mlpSize);
  }
});

test('the training pass is repeatable and leaves no tensors behind', async () => {
  await initBackend();
  const net = ScorerNetwork.init({ kind: 'pooling', embDim: 4, hidden: [8, 4], windows: [1, 1] }, 10, 10, new Rng(1));
  const groups = [{ users: 3, m: 5 }];
  const rng = new Rng(2);
  const user = Float32Array.from({ length: 3 * net.userDim }, () => rng.normal());
  const nodes = Float32Array.from({ length: 15 * 4 }, () => rng.normal());
  const labels = Float32Array.from({ length: 15 }, (_, i) => (i % 5 === 0 ? 1 : 0));
  const mlpSize = net.variables().reduce((s, [, v]) => s + v.size, 0);
  const bp = new PoolingBackprop(net, 6);
  const runOnce = () => {
    const out = { mlp: new Float32Array(mlpSize), user: new Float32Array(3 * net.userDim), nodes: new Float32Array(60) };
    return { loss: bp.run({ groups, user, nodes, labels }, out), out };
  };
  const first = runOnce();
  const tensors = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) {
    const again = runOnce();
    assert.equal(again.loss, first.loss);
    assert.deepEqual(again.out.mlp, first.out.mlp);
    assert.deepEqual(again.out.user, first.out.user);
    assert.deepEqual(again.out.nodes, first.out.nodes);
  }
  assert.equal(tf.memory().numTensors, tensors);
});

test('the attention scorer is refused', async () => {
  await initBackend();
  const net = ScorerNetwork.init({ kind: 'attention', embDim: 4, hidden: [8, 4], windows: [1, 1] }, 10, 10, new Rng(1));
  assert.throws(() => new PoolingBackprop(net), /attention/);
  net.dispose();
});
