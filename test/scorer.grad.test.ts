/**
 * The hand-written gradients of the training path (fast-grad.ts) against
 * tfjs autodiff of the same network written with plain ops.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork, mlpEntries } from '../src/scorer/network.js';
import { Rng } from '../src/core/rng.js';

test('fast gradients equal autodiff gradients (values, inputs and every weight)', async () => {
  await initBackend();
  const net = ScorerNetwork.init({ kind: 'pooling', embDim: 6, hidden: [10, 7, 5], windows: [1, 2] }, 20, 30, new Rng(9));
  // non-trivial PReLU slopes and biases so every branch matters
  for (const [name, v] of mlpEntries(net.mlp)) {
    if (name.endsWith('alpha') || name.endsWith('bias')) v.assign(tf.randomUniform(v.shape, -0.5, 0.8, 'float32', 3));
  }
  const b = 4;
  const m = 5;
  const user = tf.randomNormal([b, 12], 0, 1, 'float32', 1) as tf.Tensor2D;
  const nodes = tf.randomNormal([b * m, 6], 0, 1, 'float32', 2) as tf.Tensor2D;
  const w = tf.randomNormal([b * m], 0, 1, 'float32', 4);
  const vars = mlpEntries(net.mlp).map(([, v]) => v);
  const run = (f: (u: tf.Tensor2D, n: tf.Tensor2D, m: number) => tf.Tensor1D) =>
    tf.valueAndGrads((u: tf.Tensor, n: tf.Tensor) => tf.sum(tf.mul(f(u as tf.Tensor2D, n as tf.Tensor2D, m), w)) as tf.Scalar)([user, nodes, ...vars]);
  const fast = run((u, n, mm) => net.logits(u, n, mm));
  const ref = run((u, n, mm) => net.logitsReference(u, n, mm));
  assert.ok(Math.abs(fast.value.dataSync()[0] - ref.value.dataSync()[0]) < 1e-4);
  const names = ['user', 'nodes', ...mlpEntries(net.mlp).map(([n]) => n)];
  fast.grads.forEach((g, i) => {
    const a = g.dataSync();
    const r = ref.grads[i].dataSync();
    assert.equal(a.length, r.length, names[i]);
    let maxAbs = 0;
    for (let j = 0; j < r.length; j++) maxAbs = Math.max(maxAbs, Math.abs(r[j]));
    for (let j = 0; j < r.length; j++) assert.ok(Math.abs(a[j] - r[j]) <= 1e-4 * Math.max(1, maxAbs), `${names[i]}[${j}]: ${a[j]} vs ${r[j]}`);
  });
  // and the gradients are not trivially zero
  assert.ok(fast.grads.every((g) => g.abs().max().dataSync()[0] > 0));
});
