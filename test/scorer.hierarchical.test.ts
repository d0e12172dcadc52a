/**
 * JTM's hierarchical user preference: the grouped training logits, the
 * per-level inference session, and training with it on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { NetworkScorer } from '../src/scorer/session.js';
import { BeamSearch } from '../src/beam/beam.js';
import { Rng } from '../src/core/rng.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { trainScorer } from '../src/trainer/train.js';
import { TINY_CONFIG, plantedData, recallAt } from './helpers/training.js';

const HIER = { ...TINY_CONFIG, hierarchical: true };
const data = plantedData({ groups: 16, groupSize: 8, users: 300, testUsers: 60, length: 12, seed: 5 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });

test('levelRows: ancestors on internal levels, the item row on the leaf level', () => {
  const { depth, numInternal } = tree.layout;
  for (let item = 0; item < tree.numItems; item += 7) {
    const path = tree.pathOf(item);
    for (let l = 1; l < depth; l++) assert.equal(tree.levelRows(l)[item], path[l]);
    assert.equal(tree.levelRows(depth)[item], numInternal + item);
  }
});

test('logitsGrouped equals logits applied group by group', async () => {
  await initBackend();
  const net = ScorerNetwork.init(TINY_CONFIG, 10, 10, new Rng(2));
  const groups = [{ users: 3, m: 2 }, { users: 3, m: 4 }, { users: 3, m: 1 }];
  const u = tf.randomNormal([9, net.userDim], 0, 1, 'float32', 1) as tf.Tensor2D;
  const n = tf.randomNormal([3 * 7, 8], 0, 1, 'float32', 2) as tf.Tensor2D;
  const grouped = net.logitsGrouped(u, n, groups).dataSync();
  let u0 = 0;
  let n0 = 0;
  const parts: number[] = [];
  for (const g of groups) {
    parts.push(...net.logits(tf.slice(u, [u0, 0], [g.users, -1]), tf.slice(n, [n0, 0], [g.users * g.m, -1]), g.m).dataSync());
    u0 += g.users;
    n0 += g.users * g.m;
  }
  assert.equal(grouped.length, parts.length);
  grouped.forEach((x, i) => assert.ok(Math.abs(x - parts[i]) < 1e-5, `${i}: ${x} vs ${parts[i]}`));
  net.dispose();
});

test('the hierarchical session scores level l with the history seen through level-l ancestors', async () => {
  await initBackend();
  const net = ScorerNetwork.init(HIER, tree.layout.numInternal, tree.numItems, new Rng(4));
  const scorer = new NetworkScorer(net, tree);
  const history = Int32Array.from([3, 40, 41, 90, 100]);
  const session = scorer.open(history);
  for (const level of [1, 3, tree.layout.depth]) {
    const nodes = tree.nonEmptyNodes(level).slice(0, 5);
    const got = session.score(nodes, level);
    const hidden = net.userHidden(net.userVector(history, undefined, 0, tree.levelRows(level)));
    const rows = Int32Array.from(nodes, (c) => tree.nodeRow(c));
    const want = net.scoreNodes(hidden, net.gatherRows(rows), rows.length);
    got.forEach((x, i) => assert.ok(Math.abs(x - want[i]) < 1e-5, `level ${level} node ${i}`));
  }
  // the levels really differ: the same nodes scored as if on another level give other values
  const nodes = tree.nonEmptyNodes(2);
  const a = session.score(nodes, 2);
  const b = session.score(nodes, 3);
  assert.ok(a.some((x, i) => Math.abs(x - b[i]) > 1e-6));
  net.dispose();
});

test('training with the hierarchical preference learns and is deterministic', async () => {
  await initBackend();
  const run = () => {
    const net = ScorerNetwork.init(HIER, tree.layout.numInternal, tree.numItems, new Rng(8));
    const before = recallAt(new BeamSearch(tree, new NetworkScorer(net, tree)), data.cases, 10);
    trainScorer(tree, net, { sequences: data.sequences }, { epochs: 2, batchSize: 64, seed: 8 });
    const after = recallAt(new BeamSearch(tree, new NetworkScorer(net, tree)), data.cases, 10);
    const emb = net.emb.slice();
    net.dispose();
    return { before, after, emb };
  };
  const r1 = run();
  assert.ok(r1.after > r1.before + 0.3, `recall@10 ${r1.before.toFixed(3)} → ${r1.after.toFixed(3)}`);
  const r2 = run();
  assert.deepEqual(Buffer.from(r2.emb.buffer), Buffer.from(r1.emb.buffer));
});
