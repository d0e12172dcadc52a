import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, BruteForce, logSigmoid, sigmoid, topK } from '../src/beam/index.js';

type RankRule = 'path' | 'node';
/** The path weight of a rule's name. */
const W = (rank: RankRule) => (rank === 'path' ? 1 : 0);
import type { NodeScorer } from '../src/scorer/types.js';
import { buildCategoryTree, buildRandomTree, type Tree } from '../src/tree/index.js';
import { FixedScorer, HeapScorer, IndependentScorer, PathHeapScorer } from './helpers/scorers.js';
import { makeItems } from './helpers/trees.js';

/** A few seeded user histories over `n` items (lengths 0..8). */
function histories(n: number, seed: number, count: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Int32Array.from({ length: rng.int(9) }, () => rng.int(n)));
}

/** Reference top k: positions sorted by score (descending), ties by lower position. */
function referenceTopK(scores: Float32Array, k: number): number[] {
  const idx = Array.from(scores, (_, i) => i);
  idx.sort((a, b) => (scores[a] > scores[b] ? -1 : scores[a] < scores[b] ? 1 : a - b));
  return idx.slice(0, Math.max(0, k));
}

/** Every non-empty node below the root: what brute force scores under the path rule. */
function nodesBelowRoot(tree: Tree): number {
  let sum = 0;
  for (let l = 1; l <= tree.layout.depth; l++) sum += tree.nonEmptyNodes(l).length;
  return sum;
}

/** Each item's path key under a scorer: Σ log σ(score) over its ancestors below the root and its leaf. */
function pathKeys(tree: Tree, scorer: NodeScorer, history: Int32Array): Float64Array {
  const s = scorer.open(history);
  const key = new Float64Array(tree.layout.numNodes);
  for (let l = 1; l <= tree.layout.depth; l++) {
    const nodes = tree.nonEmptyNodes(l);
    const sc = s.score(nodes, l);
    nodes.forEach((c, i) => (key[c] = key[tree.layout.parent(c)] + logSigmoid(sc[i])));
  }
  s.close();
  return Float64Array.from({ length: tree.numItems }, (_, i) => key[tree.leafCodeOf(i)]);
}

/** Σ over levels of min(non-empty nodes, beam · branching): the most a beam search can score. */
function pairBound(tree: Tree, beam: number): number {
  let sum = 0;
  for (let l = 1; l <= tree.layout.depth; l++) sum += Math.min(tree.nonEmptyNodes(l).length, beam * tree.layout.branching);
  return sum;
}

const searchCase = fc.record({
  branching: fc.integer({ min: 2, max: 5 }),
  n: fc.oneof(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 2, max: 1500 })),
  k: fc.integer({ min: 1, max: 20 }),
  extra: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 40 })),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  category: fc.boolean(),
});

describe('beam search against the brute-force oracle', () => {
  for (const rank of ['node', 'path'] as RankRule[]) {
    const heap = rank === 'node' ? 'a max-heap scorer' : 'a path-heap scorer (each node\'s path key the best below it)';
    it(`rank ${rank}: with ${heap} and beam >= k, returns exactly brute force top k (property)`, () => {
      fc.assert(
        fc.property(searchCase, ({ branching, n, k, extra, seed, category }) => {
          const tree = (category ? buildCategoryTree : buildRandomTree)(makeItems(n, 6, seed), { branching, seed });
          const scorer = rank === 'node' ? new HeapScorer(tree, seed) : new PathHeapScorer(tree, seed);
          const beam = new BeamSearch(tree, scorer);
          const brute = new BruteForce(tree, scorer);
          const width = k + extra;
          for (const h of histories(n, seed ^ 0x55, 4)) {
            const before = scorer.pairs;
            const b = beam.retrieve(h, { k, beam: width, pathWeight: W(rank) });
            const pairs = scorer.pairs - before;
            const o = brute.retrieve(h, { k, pathWeight: W(rank) });
            assert.equal(o.items.length, Math.min(k, n));
            assert.deepEqual(Array.from(b.items), Array.from(o.items));
            assert.deepEqual(Array.from(b.scores), Array.from(o.scores));
            // the reported pairs are the pairs the scorer saw, within the per-level bound
            assert.equal(b.pairsScored, pairs);
            assert.equal(o.pairsScored, rank === 'node' ? n : nodesBelowRoot(tree));
            assert.ok(b.pairsScored <= pairBound(tree, width), `${b.pairsScored} pairs > bound ${pairBound(tree, width)}`);
            // never more than brute force when the beam is small against the catalogue
            if (width * branching * tree.layout.depth <= n) assert.ok(b.pairsScored <= o.pairsScored);
          }
          assert.equal(scorer.opened, scorer.closed);
        }),
        { numRuns: 120 },
      );
    });
  }

  it('any path weight w > 0: a beam as wide as the catalogue is brute force, with any scorer (property)', () => {
    fc.assert(
      fc.property(searchCase, fc.oneof(fc.constant(1), fc.double({ min: 0.01, max: 1, noNaN: true })), ({ branching, n, k, seed, category }, w) => {
        const tree = (category ? buildCategoryTree : buildRandomTree)(makeItems(n, 6, seed), { branching, seed });
        const scorer = new IndependentScorer(tree, seed);
        for (const h of histories(n, seed ^ 0x77, 3)) {
          const b = new BeamSearch(tree, scorer).retrieve(h, { k, beam: Math.max(k, n), pathWeight: w });
          const o = new BruteForce(tree, scorer).retrieve(h, { k, pathWeight: w });
          assert.deepEqual(Array.from(b.items), Array.from(o.items));
          assert.deepEqual(Array.from(b.scores), Array.from(o.scores));
          assert.equal(b.pairsScored, o.pairsScored);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('rank node: expands exactly the non-empty children of the best `beam` nodes, level by level (property)', () => {
    fc.assert(
      fc.property(searchCase, ({ branching, n, k, extra, seed }) => {
        const tree = buildRandomTree(makeItems(n, 0), { branching, seed });
        const width = k + extra;
        const inner = new IndependentScorer(tree, seed);
        const calls: { level: number; nodes: number[]; scores: Float32Array }[] = [];
        const recording: NodeScorer = {
          open: (h) => {
            const s = inner.open(h);
            return {
              score: (nodes, level) => {
                const scores = s.score(nodes, level);
                calls.push({ level, nodes: Array.from(nodes), scores: scores.slice() });
                return scores;
              },
              close: () => s.close(),
            };
          },
        };
        const res = new BeamSearch(tree, recording).retrieve(Int32Array.from([seed % n]), { k, beam: width, pathWeight: 0 });
        const { depth } = tree.layout;
        // levels whose non-empty nodes all fit in the beam are not scored
        let first = 1;
        while (first < depth && tree.nonEmptyNodes(first).length <= width) first++;
        assert.deepEqual(calls.map((c) => c.level), Array.from({ length: depth - first + 1 }, (_, i) => first + i));
        assert.deepEqual(calls[0].nodes.slice().sort((a, b) => a - b), Array.from(tree.nonEmptyNodes(first)));
        for (let i = 1; i < calls.length; i++) {
          const prev = calls[i - 1];
          const kept = Array.from(topK(prev.scores, width), (p) => prev.nodes[p]);
          const children: number[] = [];
          for (const c of kept) {
            for (let j = 0; j < branching; j++) {
              const child = tree.layout.firstChild(c) + j;
              if (tree.subtreeSize[child] > 0) children.push(child);
            }
          }
          assert.deepEqual(calls[i].nodes.slice().sort((a, b) => a - b), children.sort((a, b) => a - b), `level ${calls[i].level}`);
        }
        // the answer is the best k leaves among the last level's candidates
        const lastCall = calls[calls.length - 1];
        assert.deepEqual(Array.from(res.items), Array.from(topK(lastCall.scores, k), (p) => tree.itemAtLeaf(lastCall.nodes[p])));
        assert.equal(res.pairsScored, calls.reduce((s2, c) => s2 + c.nodes.length, 0));
      }),
      { numRuns: 150 },
    );
  });

  it('rank path: scores every level, keeping the best `beam` nodes by path key (property)', () => {
    fc.assert(
      fc.property(searchCase, ({ branching, n, k, extra, seed }) => {
        const tree = buildRandomTree(makeItems(n, 0), { branching, seed });
        const width = k + extra;
        const inner = new IndependentScorer(tree, seed);
        const calls: { level: number; nodes: number[]; scores: Float32Array }[] = [];
        const recording: NodeScorer = {
          open: (h) => {
            const s = inner.open(h);
            return {
              score: (nodes, level) => {
                const scores = s.score(nodes, level);
                calls.push({ level, nodes: Array.from(nodes), scores: scores.slice() });
                return scores;
              },
              close: () => s.close(),
            };
          },
        };
        const res = new BeamSearch(tree, recording).retrieve(Int32Array.from([seed % n]), { k, beam: width });
        const { depth } = tree.layout;
        assert.deepEqual(calls.map((c) => c.level), Array.from({ length: depth }, (_, i) => i + 1));
        const key = new Map<number, number>([[0, 0]]);
        let kept = [0];
        for (const call of calls) {
          const children: number[] = [];
          for (const c of kept) for (let j = 0; j < branching; j++) if (tree.subtreeSize[tree.layout.firstChild(c) + j] > 0) children.push(tree.layout.firstChild(c) + j);
          assert.deepEqual(call.nodes.slice().sort((a, b) => a - b), children.sort((a, b) => a - b), `level ${call.level}`);
          const keys = Float64Array.from(call.nodes, (c, i) => key.get(tree.layout.parent(c))! + logSigmoid(call.scores[i]));
          call.nodes.forEach((c, i) => key.set(c, keys[i]));
          kept = Array.from(topK(keys, call.level === depth ? k : width), (p) => call.nodes[p]);
        }
        assert.deepEqual(Array.from(res.items), kept.map((c) => tree.itemAtLeaf(c)));
        assert.deepEqual(Array.from(res.scores), kept.map((c) => Math.fround(Math.exp(key.get(c)!))));
        assert.equal(res.pairsScored, calls.reduce((s2, c) => s2 + c.nodes.length, 0));
      }),
      { numRuns: 150 },
    );
  });

  it('rank node: brute force returns the items by decreasing leaf value, scores as sigmoids', () => {
    const tree = buildRandomTree(makeItems(300, 0), { branching: 4, seed: 3 });
    const scorer = new HeapScorer(tree, 8);
    const h = Int32Array.from([5, 9, 2]);
    const values = scorer.itemValues(h);
    const got = new BruteForce(tree, scorer).retrieve(h, { k: 25, pathWeight: 0 });
    assert.deepEqual(Array.from(got.items), referenceTopK(values, 25));
    assert.deepEqual(Array.from(got.scores), Array.from(got.items, (i) => Math.fround(sigmoid(values[i]))));
  });

  it('rank path: brute force returns the items by decreasing path key, scores as exp(key)', () => {
    const tree = buildRandomTree(makeItems(300, 0), { branching: 3, seed: 3 });
    const scorer = new IndependentScorer(tree, 8);
    const h = Int32Array.from([5, 9, 2]);
    const keys = pathKeys(tree, scorer, h);
    const got = new BruteForce(tree, scorer).retrieve(h, { k: 25 });
    const order = Array.from(keys, (_, i) => i).sort((a, b) => keys[b] - keys[a] || a - b);
    assert.deepEqual(Array.from(got.items), order.slice(0, 25));
    assert.deepEqual(Array.from(got.scores), Array.from(got.items, (i) => Math.fround(Math.exp(keys[i]))));
    for (let i = 1; i < got.items.length; i++) assert.ok(keys[got.items[i - 1]] >= keys[got.items[i]]);
  });

  it('a small beam scores far fewer pairs than brute force on a large catalogue', () => {
    const tree = buildCategoryTree(makeItems(3000, 30, 2), { branching: 2, seed: 2 });
    const scorer = new HeapScorer(tree, 1);
    const r = new BeamSearch(tree, scorer).retrieve(Int32Array.from([1, 2, 3]), { k: 10, beam: 10 });
    assert.equal(r.items.length, 10);
    assert.ok(r.pairsScored <= 10 * 2 * tree.layout.depth, `${r.pairsScored} pairs`);
    assert.ok(r.pairsScored < 3000 / 5);
  });

  it('k larger than the catalogue returns every item, best first', () => {
    for (const [n, rank] of [[2, 'node'], [7, 'path'], [64, 'node'], [100, 'path']] as [number, RankRule][]) {
      const tree = buildCategoryTree(makeItems(n, 3, n), { branching: 3, seed: n });
      const scorer = rank === 'node' ? new HeapScorer(tree, n) : new PathHeapScorer(tree, n);
      const h = Int32Array.from([0, 1]);
      const want = referenceTopK(rank === 'node' ? (scorer as HeapScorer).itemValues(h) : Float32Array.from((scorer as PathHeapScorer).itemKeys(h)), n);
      for (const [k, width] of [[n + 1, n + 1], [1000, 1000], [n + 5, 2000]]) {
        const b = new BeamSearch(tree, scorer).retrieve(h, { k, beam: width, pathWeight: W(rank) });
        const o = new BruteForce(tree, scorer).retrieve(h, { k, pathWeight: W(rank) });
        assert.deepEqual(Array.from(b.items), want, `beam, n ${n}, k ${k}`);
        assert.deepEqual(Array.from(o.items), want, `brute force, n ${n}, k ${k}`);
      }
    }
  });

  it('rejects beam < k and bad k or beam with a UsageError', () => {
    const tree = buildRandomTree(makeItems(50, 0), { branching: 2, seed: 1 });
    const scorer = new HeapScorer(tree, 1);
    const beam = new BeamSearch(tree, scorer);
    const h = Int32Array.from([1]);
    assert.throws(() => beam.retrieve(h, { k: 10, beam: 9 }), (e: unknown) => e instanceof UsageError && /beam must be >= k \(beam 9, k 10\)/.test(e.message));
    assert.throws(() => beam.retrieve(h, { k: 2, beam: 1 }), UsageError);
    assert.throws(() => beam.retrieve(h, { k: 0 }), UsageError);
    assert.throws(() => beam.retrieve(h, { k: 1.5, beam: 3 }), UsageError);
    assert.throws(() => beam.retrieve(h, { k: 3, beam: 0 }), UsageError);
    assert.throws(() => beam.retrieve(h, { k: 3, beam: 3.5 }), UsageError);
    assert.throws(() => new BruteForce(tree, scorer).retrieve(h, { k: 0 }), UsageError);
    assert.throws(() => new BruteForce(tree, scorer).retrieve(h, { k: -1 }), UsageError);
    for (const bad of [-0.1, 1.5, NaN]) {
      assert.throws(() => beam.retrieve(h, { k: 2, pathWeight: bad }), (e: unknown) => e instanceof UsageError && /path weight must be a number in \[0, 1\]/.test(e.message));
    }
    // beam defaults to k
    assert.equal(beam.retrieve(h, { k: 4 }).items.length, 4);
    assert.equal(scorer.opened, scorer.closed);
  });

  it("a scorer's own path weight is the default, and a query's overrides it", () => {
    const tree = buildCategoryTree(makeItems(400, 8, 3), { branching: 2, seed: 3 });
    const inner = new IndependentScorer(tree, 5);
    const h = Int32Array.from([3, 9, 27]);
    const with_ = (w: number): NodeScorer => ({ pathWeight: w, open: (x) => inner.open(x) });
    for (const w of [0, 0.5, 1]) {
      const own = new BeamSearch(tree, with_(w)).retrieve(h, { k: 10, beam: 20 });
      const asked = new BeamSearch(tree, inner).retrieve(h, { k: 10, beam: 20, pathWeight: w });
      assert.deepEqual(Array.from(own.items), Array.from(asked.items), `w ${w}`);
      assert.deepEqual(Array.from(new BruteForce(tree, with_(w)).retrieve(h, { k: 10 }).items), Array.from(new BruteForce(tree, inner).retrieve(h, { k: 10, pathWeight: w }).items));
    }
    // the query wins over the scorer; without either the path rule applies
    const over = new BeamSearch(tree, with_(0)).retrieve(h, { k: 10, beam: 20, pathWeight: 1 });
    assert.deepEqual(Array.from(over.items), Array.from(new BeamSearch(tree, inner).retrieve(h, { k: 10, beam: 20 }).items));
    assert.notDeepEqual(Array.from(new BeamSearch(tree, with_(0)).retrieve(h, { k: 10, beam: 20 }).items), Array.from(over.items));
  });

  it('closes the scoring session when the scorer throws', () => {
    const tree = buildRandomTree(makeItems(20, 0), { branching: 2, seed: 1 });
    let closed = 0;
    const failing: NodeScorer = {
      open: () => ({
        score: () => {
          throw new Error('scorer exploded');
        },
        close: () => void closed++,
      }),
    };
    assert.throws(() => new BeamSearch(tree, failing).retrieve(new Int32Array(0), { k: 2, beam: 2 }), /scorer exploded/);
    assert.throws(() => new BruteForce(tree, failing).retrieve(new Int32Array(0), { k: 2 }), /scorer exploded/);
    assert.equal(closed, 2);
  });
});

describe('without the heap property beam search is not exact (so the oracle test can fail)', () => {
  it('a hand-made case: the best leaf hides under the worse-scored node', () => {
    // 4 items, branching 2: nodes 1, 2 on level 1, leaves 3..6 on level 2
    const tree = buildRandomTree(makeItems(4, 0), { branching: 2, seed: 1 });
    const misleading = Float32Array.from([0, 1, 0, -1, -2, 3, 2]);
    const beamItems = new BeamSearch(tree, new FixedScorer(tree, misleading)).retrieve(new Int32Array(0), { k: 1, beam: 1, pathWeight: 0 }).items;
    const bruteItems = new BruteForce(tree, new FixedScorer(tree, misleading)).retrieve(new Int32Array(0), { k: 1, pathWeight: 0 }).items;
    assert.deepEqual(Array.from(bruteItems), [tree.itemAtLeaf(5)]);
    assert.deepEqual(Array.from(beamItems), [tree.itemAtLeaf(3)]);
    // the same leaves with heap-consistent internal nodes: beam finds the best leaf
    const heap = Float32Array.from([3, -1, 3, -1, -2, 3, 2]);
    assert.deepEqual(Array.from(new BeamSearch(tree, new FixedScorer(tree, heap)).retrieve(new Int32Array(0), { k: 1, beam: 1, pathWeight: 0 }).items), Array.from(bruteItems));
  });

  it('random independent node scores make beam differ from brute force for some users (either rule)', () => {
    let differ = 0;
    let total = 0;
    for (let t = 0; t < 40; t++) {
      const rank: RankRule = t % 2 === 0 ? 'path' : 'node';
      const n = 50 + t * 7;
      const tree = buildRandomTree(makeItems(n, 0), { branching: 2 + (t % 3), seed: t });
      const scorer = new IndependentScorer(tree, t);
      for (const h of histories(n, t, 3)) {
        const k = 1 + (t % 3);
        const b = new BeamSearch(tree, scorer).retrieve(h, { k, beam: k, pathWeight: W(rank) });
        const o = new BruteForce(tree, scorer).retrieve(h, { k, pathWeight: W(rank) });
        total++;
        if (Array.from(b.items).join() !== Array.from(o.items).join()) differ++;
      }
    }
    assert.ok(differ > total / 2, `beam differed from brute force in only ${differ} of ${total} queries`);
  });
});

describe('topK', () => {
  const scoreArray = fc
    .array(fc.oneof(fc.integer({ min: -3, max: 3 }), fc.float({ noNaN: true }), fc.constantFrom(Infinity, -Infinity, -0)), { maxLength: 200 })
    .map((xs) => Float32Array.from(xs));

  it('equals a sort-based reference, ties going to the lower position (property)', () => {
    fc.assert(
      fc.property(scoreArray, fc.integer({ min: 0, max: 210 }), (scores, k) => {
        const copy = scores.slice();
        const got = topK(scores, k);
        assert.ok(got instanceof Int32Array);
        assert.deepEqual(Array.from(got), referenceTopK(scores, k));
        assert.deepEqual(scores, copy, 'topK must not change its input');
      }),
      { numRuns: 500 },
    );
  });

  it('breaks ties by position', () => {
    const s = Float32Array.from([1, 3, 3, 2, 3, 2]);
    assert.deepEqual(Array.from(topK(s, 2)), [1, 2]);
    assert.deepEqual(Array.from(topK(s, 4)), [1, 2, 4, 3]);
    assert.deepEqual(Array.from(topK(s, 6)), [1, 2, 4, 3, 5, 0]);
    assert.deepEqual(Array.from(topK(s, 99)), [1, 2, 4, 3, 5, 0]);
    assert.deepEqual(Array.from(topK(new Float32Array(8), 3)), [0, 1, 2]);
    assert.deepEqual(Array.from(topK(s, 0)), []);
    assert.deepEqual(Array.from(topK(new Float32Array(0), 3)), []);
  });
});
