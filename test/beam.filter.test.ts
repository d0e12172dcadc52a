import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, BruteForce, QueryFilter, logSigmoid, type RetrieveOptions } from '../src/beam/index.js';
import { buildCategoryTree, buildRandomTree, type Tree } from '../src/tree/index.js';
import { HeapScorer, IndependentScorer } from './helpers/scorers.js';
import { makeItems } from './helpers/trees.js';

/** Items a query may return under its filter (reference, by brute enumeration). */
function allowedItems(tree: Tree, history: Int32Array, opts: RetrieveOptions): Set<number> {
  const excluded = new Set(opts.excludeHistory ? history : []);
  const cats = opts.categories ? new Set(opts.categories) : undefined;
  const out = new Set<number>();
  for (let i = 0; i < tree.numItems; i++) {
    if (excluded.has(i)) continue;
    if (cats && !cats.has(tree.items.itemCategory[i])) continue;
    out.add(i);
  }
  return out;
}

/**
 * The max-heap property relative to a filter: leaves as HeapScorer, an
 * internal node the max over the allowed items below it (-Infinity when
 * none). Under it beam search with the same filter must equal brute force.
 */
class FilteredHeapScorer extends HeapScorer {
  constructor(
    tree: Tree,
    seed: number,
    private readonly allowed: (history: Int32Array) => Set<number>,
  ) {
    super(tree, seed);
  }
  override nodeValues(history: Int32Array): Float32Array {
    const v = super.nodeValues(history);
    const { layout } = this.tree;
    const ok = this.allowed(history);
    const m = new Float32Array(layout.numNodes).fill(-Infinity);
    for (const i of ok) m[this.tree.leafCodeOf(i)] = v[this.tree.leafCodeOf(i)];
    for (let c = layout.numInternal - 1; c >= 0; c--) {
      const fc = layout.firstChild(c);
      for (let j = 0; j < layout.branching; j++) m[c] = Math.max(m[c], m[fc + j]);
    }
    // leaves keep their own value (brute force scores allowed leaves only)
    for (let c = layout.numInternal; c < layout.numNodes; c++) m[c] = v[c];
    return m;
  }
}

function histories(n: number, seed: number, count: number): Int32Array[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => Int32Array.from({ length: rng.int(12) }, () => rng.int(n)));
}

const filterCase = fc.record({
  branching: fc.integer({ min: 2, max: 4 }),
  n: fc.oneof(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 2, max: 1200 })),
  numCats: fc.integer({ min: 1, max: 8 }),
  k: fc.integer({ min: 1, max: 20 }),
  extra: fc.integer({ min: 0, max: 20 }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  excludeHistory: fc.boolean(),
  catPick: fc.option(fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 4 }), { nil: undefined }),
  category: fc.boolean(),
});

describe('filters inside the beam search', () => {
  it('rank node: under the filtered max-heap property, beam search with filters equals brute force with the same filters (property)', () => {
    fc.assert(
      fc.property(filterCase, ({ branching, n, numCats, k, extra, seed, excludeHistory, catPick, category }) => {
        const tree = (category ? buildCategoryTree : buildRandomTree)(makeItems(n, numCats, seed), { branching, seed });
        const categories = catPick ? Int32Array.from(catPick.filter((c) => c < numCats)) : undefined;
        const opts: RetrieveOptions = { k, beam: k + extra, excludeHistory, categories, pathWeight: 0 };
        const scorer = new FilteredHeapScorer(tree, seed, (h) => allowedItems(tree, h, opts));
        for (const h of histories(n, seed ^ 0x33, 3)) {
          const ok = allowedItems(tree, h, opts);
          const b = new BeamSearch(tree, scorer).retrieve(h, opts);
          const o = new BruteForce(tree, scorer).retrieve(h, { k, excludeHistory, categories, pathWeight: 0 });
          // brute force: exactly the best allowed items
          const values = scorer.itemValues(h);
          const want = [...ok].sort((x, y) => values[y] - values[x] || x - y).slice(0, k);
          assert.deepEqual(Array.from(o.items), want);
          assert.equal(o.pairsScored, ok.size);
          // beam: never an excluded item, never misses one the oracle returns
          for (const it of b.items) assert.ok(ok.has(it), `beam returned filtered-out item ${it}`);
          assert.deepEqual(Array.from(b.items), Array.from(o.items));
        }
        assert.equal(scorer.opened, scorer.closed);
      }),
      { numRuns: 150 },
    );
  });

  it('rank path: brute force with filters ranks the allowed items by path key, and a beam as wide as the catalogue equals it (property)', () => {
    fc.assert(
      fc.property(filterCase, ({ branching, n, numCats, k, seed, excludeHistory, catPick, category }) => {
        const tree = (category ? buildCategoryTree : buildRandomTree)(makeItems(n, numCats, seed), { branching, seed });
        const categories = catPick ? Int32Array.from(catPick.filter((c) => c < numCats)) : undefined;
        const scorer = new IndependentScorer(tree, seed);
        for (const h of histories(n, seed ^ 0x44, 3)) {
          const opts: RetrieveOptions = { k, excludeHistory, categories };
          const ok = allowedItems(tree, h, opts);
          // reference: path keys of every item, open nodes counted
          const values = scorer.nodeValues(h);
          const key = (it: number) => tree.pathOf(it).slice(1).reduce((a, c) => a + logSigmoid(values[c]), 0);
          const want = [...ok].sort((x, y) => key(y) - key(x) || x - y).slice(0, k);
          const open = new Set<number>();
          for (const it of ok) for (const c of tree.pathOf(it).slice(1)) open.add(c);
          const o = new BruteForce(tree, scorer).retrieve(h, opts);
          assert.deepEqual(Array.from(o.items), want);
          assert.equal(o.pairsScored, open.size);
          const b = new BeamSearch(tree, scorer).retrieve(h, { ...opts, beam: Math.max(k, n) });
          assert.deepEqual(Array.from(b.items), want);
          assert.deepEqual(Array.from(b.scores), Array.from(o.scores));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('never scores a node without an allowed item, and never returns a filtered-out item, with any scorer (property)', () => {
    fc.assert(
      fc.property(filterCase, ({ branching, n, numCats, k, extra, seed, catPick }) => {
        const tree = buildCategoryTree(makeItems(n, numCats, seed), { branching, seed });
        const categories = catPick ? Int32Array.from(catPick.filter((c) => c < numCats)) : undefined;
        const opts: RetrieveOptions = { k, beam: k + extra, excludeHistory: true, categories };
        // an unfiltered heap: subtrees look good because of items the filter removes
        const inner = new HeapScorer(tree, seed);
        for (const h of histories(n, seed, 3)) {
          const ok = allowedItems(tree, h, opts);
          const seen: number[] = [];
          const recording = {
            open: (hh: Int32Array) => {
              const s = inner.open(hh);
              return { score: (nodes: Int32Array, level: number) => (seen.push(...nodes), s.score(nodes, level)), close: () => s.close() };
            },
          };
          const r = new BeamSearch(tree, recording).retrieve(h, opts);
          for (const it of r.items) assert.ok(ok.has(it));
          // every scored node has an allowed item below it
          const below = new Int32Array(tree.layout.numNodes);
          for (const it of ok) {
            const path = tree.pathOf(it);
            for (const c of path) below[c]++;
          }
          for (const c of seen) assert.ok(below[c] > 0, `node ${c} holds no allowed item but was scored`);
          // with room for every allowed item, all of them come back
          if (ok.size <= k) assert.equal(r.items.length, ok.size);
          else assert.equal(r.items.length, k);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('counts allowed items per node like a direct count (property)', () => {
    fc.assert(
      fc.property(filterCase, ({ branching, n, numCats, seed, excludeHistory, catPick }) => {
        const tree = buildRandomTree(makeItems(n, numCats, seed), { branching, seed });
        const categories = catPick ? Int32Array.from(catPick.filter((c) => c < numCats)) : undefined;
        const h = histories(n, seed, 1)[0];
        const opts = { k: 1, excludeHistory, categories };
        const f = QueryFilter.of(tree, h, opts);
        const ok = allowedItems(tree, h, opts);
        // no filter object exactly when nothing is filtered out
        if (!categories && !(excludeHistory && h.length > 0)) return assert.equal(f, undefined);
        assert.ok(f);
        const count = new Int32Array(tree.layout.numNodes);
        for (const it of ok) for (const c of tree.pathOf(it)) count[c]++;
        for (let l = 0; l <= tree.layout.depth; l++) {
          for (let c = tree.layout.levelStarts[l]; c < tree.layout.levelStarts[l + 1]; c++) assert.equal(f!.count(c, l), count[c], `node ${c}`);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('a filter that allows nothing returns no items and scores nothing', () => {
    const tree = buildCategoryTree(makeItems(200, 3, 4, 0), { branching: 2, seed: 1 });
    const scorer = new HeapScorer(tree, 1);
    const noCats = { k: 5, beam: 5, categories: new Int32Array(0) };
    for (const r of [new BeamSearch(tree, scorer).retrieve(new Int32Array([1]), noCats), new BruteForce(tree, scorer).retrieve(new Int32Array([1]), noCats)]) {
      assert.equal(r.items.length, 0);
      assert.equal(r.pairsScored, 0);
    }
    // a catalogue of two items, both in the history
    const two = buildRandomTree(makeItems(2, 1, 1, 0), { branching: 2, seed: 1 });
    const r = new BeamSearch(two, new HeapScorer(two, 1)).retrieve(Int32Array.from([0, 1]), { k: 2, excludeHistory: true });
    assert.equal(r.items.length, 0);
  });

  it('rejects a category index outside the model with a UsageError naming it', () => {
    const tree = buildCategoryTree(makeItems(50, 3, 4), { branching: 2, seed: 1 });
    const scorer = new HeapScorer(tree, 1);
    for (const bad of [3, -1]) {
      const opts = { k: 2, categories: Int32Array.from([0, bad]) };
      const re = new RegExp(`category index ${bad} is outside the model's categories \\(0\\.\\.2\\)`);
      assert.throws(() => new BeamSearch(tree, scorer).retrieve(new Int32Array(0), opts), (e: unknown) => e instanceof UsageError && re.test(e.message));
      assert.throws(() => new BruteForce(tree, scorer).retrieve(new Int32Array(0), opts), UsageError);
    }
  });
});
