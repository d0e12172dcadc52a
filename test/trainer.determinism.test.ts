import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, BruteForce } from '../src/beam/index.js';
import { NetworkScorer, ScorerNetwork, initBackend } from '../src/scorer/index.js';
import { SparseAdam, negativesPerLevel, samplePairs, trainScorer, validationRecall } from '../src/trainer/index.js';
import { buildCategoryTree, buildRandomTree, encodeTree, type Tree } from '../src/tree/index.js';
import { TINY_CONFIG, bytesOf, differingWeights, plantedData, recallAt, trainTiny } from './helpers/training.js';
import { makeItems } from './helpers/trees.js';

const data = plantedData({ groups: 8, groupSize: 8, users: 160, testUsers: 40, length: 20, seed: 21 });
const histories = data.cases.slice(0, 8).map((c) => c.history);
const networks: ScorerNetwork[] = [];
/** Trains and remembers the network for disposal. */
const train = (...args: Parameters<typeof trainTiny>) => {
  const r = trainTiny(...args);
  networks.push(r.network);
  return r;
};

before(async () => {
  await initBackend();
});
after(() => {
  for (const n of networks) n.dispose();
});

/** All retrieval answers (beam and brute force) for the histories, as plain data. */
function answers(tree: Tree, network: ScorerNetwork): { items: number[]; scores: string }[] {
  const scorer = new NetworkScorer(network, tree);
  const out: { items: number[]; scores: string }[] = [];
  for (const r of [new BeamSearch(tree, scorer), new BruteForce(tree, scorer)]) {
    for (const h of histories) {
      const res = r.retrieve(h, { k: 6, beam: 6 });
      out.push({ items: Array.from(res.items), scores: bytesOf(res.scores).toString('hex') });
    }
  }
  return out;
}

describe('training is deterministic for a seed', () => {
  it('same seed: identical tree, weights, losses and retrieval', () => {
    const a = train(data.items, data.sequences, 7);
    const b = train(data.items, data.sequences, 7);
    assert.ok(encodeTree(a.tree).equals(encodeTree(b.tree)), 'trees differ');
    assert.deepEqual(differingWeights(a.network.toArrays(), b.network.toArrays()), []);
    assert.deepEqual(a.summary.epochs.map((e) => e.loss), b.summary.epochs.map((e) => e.loss));
    assert.deepEqual(answers(a.tree, a.network), answers(b.tree, b.network));
  });

  it('different seed: different weights', () => {
    const a = train(data.items, data.sequences, 7);
    const c = train(data.items, data.sequences, 8);
    const differing = differingWeights(a.network.toArrays(), c.network.toArrays());
    // every weight that training moves away from its initial value depends on the seed
    for (const name of ['embedding', 'dense0/user_kernel', 'dense0/node_kernel', 'dense1/kernel', 'out/kernel']) {
      assert.ok(differing.includes(name), `${name} is the same for seeds 7 and 8`);
    }
  });

  it('the trainer seed alone (same tree, same initial weights) changes the result', () => {
    const tree = buildCategoryTree(data.items, { branching: 2, seed: 3 });
    const nets = [11, 12].map((seed) => {
      const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(3));
      networks.push(net);
      trainScorer(tree, net, { sequences: data.sequences }, { epochs: 1, batchSize: 64, seed });
      return net;
    });
    const init = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(3));
    networks.push(init);
    assert.ok(differingWeights(nets[0].toArrays(), init.toArrays()).includes('embedding'), 'training changed nothing');
    assert.ok(differingWeights(nets[0].toArrays(), nets[1].toArrays()).includes('embedding'));
  });
});

describe('no tfjs tensor leaks', () => {
  it('200 beam searches and 20 brute-force queries leave tf.memory().numTensors flat', () => {
    const { tree, network } = train(data.items, data.sequences, 5, { epochs: 1 });
    const scorer = new NetworkScorer(network, tree);
    const beam = new BeamSearch(tree, scorer);
    const brute = new BruteForce(tree, scorer);
    beam.retrieve(histories[0], { k: 5, beam: 8 }); // warm-up
    const start = tf.memory().numTensors;
    for (let i = 0; i < 200; i++) beam.retrieve(histories[i % histories.length], { k: 5, beam: 8 });
    assert.equal(tf.memory().numTensors, start, 'beam search leaks tensors');
    for (let i = 0; i < 20; i++) brute.retrieve(histories[i % histories.length], { k: 5 });
    assert.equal(tf.memory().numTensors, start, 'brute force leaks tensors');
  });

  it('trainScorer leaves no tensors behind', () => {
    const tree = buildCategoryTree(data.items, { branching: 2, seed: 4 });
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(4));
    networks.push(net);
    const start = tf.memory().numTensors;
    trainScorer(tree, net, { sequences: data.sequences }, { epochs: 2, batchSize: 64, seed: 4 });
    assert.equal(tf.memory().numTensors, start);
  });

  it('early stopping restores the best epoch: its weights give its validation recall', () => {
    const tree = buildCategoryTree(data.items, { branching: 2, seed: 9 });
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(9));
    networks.push(net);
    const summary = trainScorer(tree, net, { sequences: data.sequences, valid: data.cases }, { epochs: 8, batchSize: 64, patience: 1, validK: 8, seed: 9 });
    // precondition: this seed's run stops after a worse epoch, so the restore path ran
    assert.ok(summary.bestEpoch < summary.epochs.length, `best epoch ${summary.bestEpoch} of ${summary.epochs.length}`);
    const best = summary.epochs[summary.bestEpoch - 1].validRecall!;
    assert.ok(summary.epochs.every((e) => e.validRecall! <= best));
    assert.equal(validationRecall(tree, net, data.cases, 8), best);
  });

  it(
    'ScorerNetwork.restore (used by early stopping) leaves numTensors flat',
    () => {
      const tree = buildRandomTree(makeItems(20, 0), { branching: 2, seed: 1 });
      const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(1));
      networks.push(net);
      const snapshot = net.toArrays();
      const start = tf.memory().numTensors;
      net.restore(snapshot);
      assert.equal(tf.memory().numTensors, start);
    },
  );
});

describe('training learns', () => {
  it('on planted groups, recall@8 after training beats the untrained network by a wide margin', () => {
    const tree = buildCategoryTree(data.items, { branching: 2, seed: 2 });
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(2));
    networks.push(net);
    const retriever = new BeamSearch(tree, new NetworkScorer(net, tree));
    const untrained = recallAt(retriever, data.cases, 8);
    trainScorer(tree, net, { sequences: data.sequences }, { epochs: 3, batchSize: 64, seed: 2, lr: 0.01 });
    const trained = recallAt(retriever, data.cases, 8);
    // chance is 8/64 = 0.125; a model that found the groups gets close to 1
    assert.ok(untrained < 0.4, `untrained recall ${untrained}`);
    assert.ok(trained >= 0.7, `trained recall ${trained}`);
    assert.ok(trained - untrained >= 0.4, `trained ${trained} vs untrained ${untrained}`);
  });
});

describe('level-wise negatives', () => {
  const treeArb = fc
    .record({ branching: fc.integer({ min: 2, max: 5 }), n: fc.integer({ min: 2, max: 400 }), seed: fc.integer({ min: 0, max: 1000 }) })
    .map(({ branching, n, seed }) => buildRandomTree(makeItems(n, 0), { branching, seed }));
  const specArb = fc.oneof(
    fc.constant<'auto'>('auto'),
    fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 8 }),
    fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 8 }).map((xs) => xs.join(', ')),
  );

  it('negativesPerLevel: the wanted count, capped at the level\'s non-empty nodes minus one (property)', () => {
    fc.assert(
      fc.property(treeArb, specArb, (tree, spec) => {
        const got = negativesPerLevel(tree, spec);
        const depth = tree.layout.depth;
        assert.equal(got.length, depth);
        const list = spec === 'auto' ? null : Array.isArray(spec) ? spec : spec.split(',').map(Number);
        for (let l = 1; l <= depth; l++) {
          const wanted = list ? list[Math.min(l - 1, list.length - 1)] : Math.ceil(l / 2);
          assert.equal(got[l - 1], Math.min(wanted, tree.nonEmptyNodes(l).length - 1), `level ${l}`);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('negativesPerLevel: known values and bad specs', () => {
    const tree = buildRandomTree(makeItems(5, 0), { branching: 4, seed: 1 }); // level 1: 4 non-empty, level 2: 5
    assert.deepEqual(negativesPerLevel(tree), [1, 1]);
    assert.deepEqual(negativesPerLevel(tree, [10]), [3, 4]);
    assert.deepEqual(negativesPerLevel(tree, '2,9'), [2, 4]);
    assert.deepEqual(negativesPerLevel(tree, [0]), [0, 0]);
    const deep = buildRandomTree(makeItems(64, 0), { branching: 2, seed: 1 }); // full binary tree, depth 6
    assert.deepEqual(negativesPerLevel(deep), [1, 1, 2, 2, 3, 3]);
    for (const bad of ['1,x', '-1', [1.5], [2, -3], 'auto,1']) {
      assert.throws(() => negativesPerLevel(tree, bad as string | number[]), UsageError, JSON.stringify(bad));
    }
  });

  it('samplePairs: the path as positives, same-level non-empty negatives, never the positive (property)', () => {
    fc.assert(
      fc.property(treeArb, specArb, fc.integer({ min: 0, max: 0x7fffffff }), fc.integer({ min: 0, max: 5 }), (tree, spec, seed, offset) => {
        const negs = negativesPerLevel(tree, spec);
        const depth = tree.layout.depth;
        const m = negs.reduce((s, x) => s + x + 1, 0);
        const rng = new Rng(seed);
        const codes = new Int32Array(offset + m + 2).fill(-7);
        const labels = new Float32Array(offset + m + 2).fill(-7);
        const path = new Int32Array(depth + 1);
        for (let trial = 0; trial < 5; trial++) {
          const item = rng.int(tree.numItems);
          assert.equal(samplePairs(tree, item, negs, rng, codes, labels, offset, path), m);
          const want = tree.pathOf(item);
          let p = offset;
          for (let l = 1; l <= depth; l++) {
            assert.equal(codes[p], want[l], `positive of level ${l}`);
            assert.equal(labels[p++], 1);
            for (let j = 0; j < negs[l - 1]; j++, p++) {
              const c = codes[p];
              assert.equal(labels[p], 0);
              assert.notEqual(c, want[l], `the positive ${c} was drawn as a negative`);
              assert.equal(tree.layout.level(c), l);
              assert.ok(tree.subtreeSize[c] > 0, `empty node ${c} drawn`);
            }
          }
          // nothing written outside [offset, offset + m)
          for (let i = 0; i < offset; i++) assert.equal(codes[i], -7);
          assert.equal(codes[offset + m], -7);
          assert.equal(labels[offset + m + 1], -7);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('samplePairs draws every other non-empty node of a level as a negative', () => {
    const tree = buildRandomTree(makeItems(40, 0), { branching: 5, seed: 2 }); // level 1: 5 nodes, level 2: 25
    const negs = [4, 3, 1];
    const rng = new Rng(1);
    const m = negs.reduce((s, x) => s + x + 1, 0);
    const codes = new Int32Array(m);
    const labels = new Float32Array(m);
    const path = new Int32Array(tree.layout.depth + 1);
    const seen = new Set<number>();
    for (let t = 0; t < 300; t++) {
      samplePairs(tree, 0, negs, rng, codes, labels, 0, path);
      for (let p = 0; p < m; p++) if (labels[p] === 0 && tree.layout.level(codes[p]) === 2) seen.add(codes[p]);
    }
    const others = Array.from(tree.nonEmptyNodes(2)).filter((c) => c !== tree.pathOf(0)[2]);
    assert.deepEqual([...seen].sort((a, b) => a - b), others);
  });
});

describe('SparseAdam', () => {
  const DIM = 3;
  const ROWS = 6;
  const table = () => Float32Array.from({ length: ROWS * DIM }, (_, i) => Math.sin(i + 1));
  const row = (t: Float32Array, r: number) => Array.from(t.subarray(r * DIM, (r + 1) * DIM));

  it('updates only the rows a step touched, by about lr · sign(g) on the first step', () => {
    const t = table();
    const start = t.slice();
    const adam = new SparseAdam(t, DIM, 0.01);
    const g = Float32Array.from([0.5, -2, 0.001, 3, -0.25, 1e-3]);
    adam.accumulate(1, g, 0, 1);
    adam.accumulate(4, g, 3, 1);
    adam.apply();
    for (let r = 0; r < ROWS; r++) {
      if (r === 1 || r === 4) continue;
      assert.deepEqual(row(t, r), row(start, r), `untouched row ${r} changed`);
    }
    for (const [r, off] of [[1, 0], [4, 3]]) {
      for (let j = 0; j < DIM; j++) {
        const moved = t[r * DIM + j] - start[r * DIM + j];
        assert.ok(Math.abs(moved + 0.01 * Math.sign(g[off + j])) < 1e-4, `row ${r}[${j}] moved ${moved}`);
      }
    }
  });

  it('matches a plain Adam reference on touched rows and skips untouched rows entirely (lazy)', () => {
    const t = table();
    const lr = 0.05;
    const adam = new SparseAdam(t, DIM, lr);
    const ref = Array.from(t);
    const m = new Float64Array(ROWS * DIM);
    const v = new Float64Array(ROWS * DIM);
    const steps: [number, number[]][][] = [
      [[0, [1, 2, 3]], [2, [-1, 0.5, 0]], [0, [0.5, 0.5, 0.5]]], // row 0 twice: gradients add up
      [[2, [0.3, -0.3, 0.1]]], // row 0 untouched: no moment decay, no move
      [[0, [-1, -1, 2]], [5, [4, 4, 4]]],
    ];
    steps.forEach((step, s) => {
      const grads = new Map<number, number[]>();
      for (const [r, g] of step) {
        adam.accumulate(r, Float32Array.from(g), 0, 1);
        const acc = grads.get(r) ?? [0, 0, 0];
        grads.set(r, acc.map((x, j) => x + g[j]));
      }
      const before = t.slice();
      adam.apply();
      const c1 = 1 - 0.9 ** (s + 1);
      const c2 = 1 - 0.999 ** (s + 1);
      for (const [r, g] of grads) {
        for (let j = 0; j < DIM; j++) {
          const i = r * DIM + j;
          m[i] = 0.9 * m[i] + 0.1 * g[j];
          v[i] = 0.999 * v[i] + 0.001 * g[j] * g[j];
          ref[i] -= (lr * Math.sqrt(c2) / c1) * m[i] / (Math.sqrt(v[i]) + 1e-8);
        }
      }
      for (let r = 0; r < ROWS; r++) {
        if (!grads.has(r)) assert.deepEqual(row(t, r), row(before, r), `step ${s}: untouched row ${r} moved`);
        for (let j = 0; j < DIM; j++) assert.ok(Math.abs(t[r * DIM + j] - ref[r * DIM + j]) < 1e-5, `step ${s} row ${r}[${j}]`);
      }
    });
    // a step with nothing accumulated changes nothing (gradients were cleared)
    const before = t.slice();
    adam.apply();
    assert.deepEqual(Array.from(t), Array.from(before));
  });

  it('accumulate scales the gradient and reads it at the given offset', () => {
    const a = table();
    const b = table();
    const adamA = new SparseAdam(a, DIM, 0.01);
    const adamB = new SparseAdam(b, DIM, 0.01);
    adamA.accumulate(3, Float32Array.from([9, 9, 1, -2, 4]), 2, 0.5);
    adamB.accumulate(3, Float32Array.from([0.5, -1, 2]), 0, 1);
    adamA.apply();
    adamB.apply();
    assert.deepEqual(Array.from(a), Array.from(b));
  });
});
