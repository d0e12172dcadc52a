import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, type RetrievalResult, type RetrieveOptions } from '../src/beam/index.js';
import type { Query } from '../src/runtime/retrieval-service.js';
import { DEFAULT_SCORER_CONFIG, NetworkScorer, ScorerNetwork, initBackend } from '../src/scorer/index.js';
import { buildCategoryTree, buildRandomTree } from '../src/tree/index.js';
import { HeapScorer, IndependentScorer } from './helpers/scorers.js';
import { makeItems } from './helpers/trees.js';

/** Seeded queries with mixed k, beam and filters. */
function queries(n: number, numCats: number, seed: number, count: number): Query[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const k = 1 + rng.int(30);
    const opts: RetrieveOptions = { k, beam: k + rng.int(40) };
    if (rng.next() < 0.3) opts.excludeHistory = true;
    if (numCats > 0 && rng.next() < 0.3) opts.categories = Int32Array.from({ length: 1 + rng.int(3) }, () => rng.int(numCats));
    return { history: Int32Array.from({ length: rng.int(30) }, () => rng.int(n)), opts };
  });
}

function same(a: RetrievalResult, b: RetrievalResult, what: string): void {
  assert.deepEqual(Array.from(a.items), Array.from(b.items), `${what}: items`);
  assert.deepEqual(Array.from(a.scores), Array.from(b.scores), `${what}: scores`);
  assert.equal(a.pairsScored, b.pairsScored, `${what}: pairs`);
}

describe('batched queries (levels in lockstep) equal per-query results', () => {
  it('with table scorers through the per-user fallback (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 900 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.boolean(),
        (branching, n, seed, heap) => {
          const tree = buildCategoryTree(makeItems(n, 5, seed), { branching, seed });
          const scorer = heap ? new HeapScorer(tree, seed) : new IndependentScorer(tree, seed);
          const search = new BeamSearch(tree, scorer);
          const qs = queries(n, 5, seed, 1 + (seed % 12));
          const batch = search.retrieveBatch(qs);
          assert.equal(batch.length, qs.length);
          qs.forEach((q, i) => same(batch[i], search.retrieve(q.history, q.opts), `query ${i}`));
          assert.equal(scorer.opened, scorer.closed);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('validates every query before scoring any', () => {
    const tree = buildRandomTree(makeItems(100, 2), { branching: 2, seed: 1 });
    const scorer = new HeapScorer(tree, 1);
    const search = new BeamSearch(tree, scorer);
    const good = { history: Int32Array.from([1]), opts: { k: 3, beam: 5 } };
    assert.throws(() => search.retrieveBatch([good, { history: Int32Array.from([1]), opts: { k: 5, beam: 3 } }]), UsageError);
    assert.throws(() => search.retrieveBatch([good, { history: Int32Array.from([1]), opts: { k: 3, categories: Int32Array.from([7]) } }]), /category index 7/);
    assert.equal(scorer.opened, 0);
    assert.deepEqual(search.retrieveBatch([]), []);
  });
});

describe('NetworkScorer: batch scoring', () => {
  let nets: ScorerNetwork[] = [];
  before(async () => {
    await initBackend();
  });
  after(() => nets.forEach((n) => n.dispose()));

  for (const hierarchical of [false, true]) {
    it(`retrieveBatch gives bit-identical items, scores and pairs to retrieve (hierarchical ${hierarchical})`, () => {
      const n = 3000;
      const tree = buildCategoryTree(makeItems(n, 12, 3), { branching: 2, seed: 3 });
      const net = ScorerNetwork.init({ ...DEFAULT_SCORER_CONFIG, hierarchical }, tree.layout.numInternal, n, new Rng(5));
      nets.push(net);
      // non-zero biases so that every term shows
      net.mlp.bias1.assign(tf.tidy(() => tf.randomUniform([net.config.hidden[0]], -0.5, 0.5, 'float32', 2)));
      const search = new BeamSearch(tree, new NetworkScorer(net, tree));
      const qs = queries(n, 12, 9, 40);
      const single = qs.map((q) => search.retrieve(q.history, q.opts));
      for (const size of [1, 7, 40]) {
        for (let s = 0; s < qs.length; s += size) {
          search.retrieveBatch(qs.slice(s, s + size)).forEach((r, j) => same(r, single[s + j], `batch of ${size}, query ${s + j}`));
        }
      }
      assert.ok(single.some((r) => r.items.length > 0 && r.pairsScored > 0));
    });
  }

  it('leaks no tensors over many queries, single and batched', () => {
    const n = 2000;
    const tree = buildRandomTree(makeItems(n, 4, 1), { branching: 2, seed: 1 });
    const net = ScorerNetwork.init({ ...DEFAULT_SCORER_CONFIG, hierarchical: true }, tree.layout.numInternal, n, new Rng(1));
    nets.push(net);
    const search = new BeamSearch(tree, new NetworkScorer(net, tree));
    const qs = queries(n, 4, 2, 64);
    search.retrieveBatch(qs.slice(0, 4)); // warm-up
    const before = tf.memory();
    for (let rep = 0; rep < 8; rep++) {
      for (const q of qs) search.retrieve(q.history, q.opts);
      search.retrieveBatch(qs);
      assert.equal(tf.memory().numTensors, before.numTensors, `after round ${rep}`);
    }
    assert.equal(tf.memory().numBytes, before.numBytes);
  });
});
