import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { groupPurity, groupCohesion } from '../src/eval/tree-quality.js';
import { buildKMeansTree, buildRandomTree, kMeansLeafOrder, type Tree } from '../src/tree/index.js';
import { assertTreeInvariants, leafOrder, makeItems } from './helpers/trees.js';
import { plantedBlobs } from './helpers/blobs.js';

/** Random embeddings, optionally with many duplicated rows. */
function randomEmbeddings(n: number, dim: number, seed: number, distinctRows = n): Float32Array {
  const rng = new Rng(seed);
  const rows = Array.from({ length: Math.max(1, distinctRows) }, () => Float32Array.from({ length: dim }, () => rng.normal()));
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) out.set(rows[i % rows.length], i * dim);
  return out;
}


/** Items under each node of `level` (by node code). */
function itemsByNode(tree: Tree, level: number): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const path = new Int32Array(tree.layout.depth + 1);
  for (let i = 0; i < tree.numItems; i++) {
    const c = tree.pathOf(i, path)[level];
    const list = out.get(c) ?? [];
    list.push(i);
    out.set(c, list);
  }
  return out;
}

function sq(emb: Float32Array, dim: number, i: number, c: Float64Array): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += (emb[i * dim + d] - c[d]) ** 2;
  return s;
}

function mean(emb: Float32Array, dim: number, items: number[]): Float64Array {
  const c = new Float64Array(dim);
  for (const i of items) for (let d = 0; d < dim; d++) c[d] += emb[i * dim + d] / items.length;
  return c;
}

const kmCase = fc.record({
  branching: fc.integer({ min: 2, max: 5 }),
  n: fc.oneof(fc.integer({ min: 2, max: 20 }), fc.integer({ min: 2, max: 600 })),
  dim: fc.integer({ min: 1, max: 6 }),
  distinct: fc.oneof(fc.constant(1), fc.constant(3), fc.integer({ min: 1, max: 600 })),
  embSeed: fc.integer({ min: 0, max: 0x7fffffff }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
  iterations: fc.integer({ min: 1, max: 6 }),
});

describe('buildKMeansTree', () => {
  it('puts every item in exactly one leaf, with placeInOrder sizes, deterministically per seed', () => {
    fc.assert(
      fc.property(kmCase, ({ branching, n, dim, distinct, embSeed, seed, iterations }) => {
        const items = makeItems(n, 3, embSeed);
        const emb = randomEmbeddings(n, dim, embSeed, distinct);
        const opts = { branching, seed, iterations };
        const tree = buildKMeansTree(items, emb, dim, opts);
        assertTreeInvariants(tree);
        assert.equal(tree.meta.init, 'kmeans');
        assert.equal(tree.meta.seed, seed);
        // same shape as any tree placed by placeInOrder
        const ref = buildRandomTree(items, opts);
        assert.deepEqual(Array.from(tree.subtreeSize), Array.from(ref.subtreeSize));
        const again = buildKMeansTree(items, emb.slice(), dim, opts);
        assert.deepEqual(Array.from(again.itemLeaf), Array.from(tree.itemLeaf));
        assert.deepEqual(leafOrder(tree), Array.from(kMeansLeafOrder(emb, n, dim, opts)));
      }),
      { numRuns: 150 },
    );
  });

  it('splits 1-d data into value intervals at every node (groups are aligned with the subtrees)', () => {
    // In one dimension a balanced 2-way split at a fixed point is a threshold on the value,
    // so every subtree must hold a contiguous range of the sorted values. A recursion whose
    // group sizes differed from placeInOrder's would put parts of two groups under one node.
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 3 }),
        fc.integer({ min: 2, max: 400 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        (branching, n, seed) => {
          const rng = new Rng(seed ^ 0x5bd1e995);
          const values = rng.shuffle(Float32Array.from({ length: n }, (_, i) => i + rng.next() * 0.5));
          const tree = buildKMeansTree(makeItems(n, 0), values, 1, { branching, seed, iterations: 100 });
          const rank = new Int32Array(n);
          Array.from({ length: n }, (_, i) => i)
            .sort((a, b) => values[a] - values[b])
            .forEach((item, r) => (rank[item] = r));
          for (let l = 1; l < tree.layout.depth; l++) {
            for (const [code, members] of itemsByNode(tree, l)) {
              const rs = members.map((i) => rank[i]);
              const span = Math.max(...rs) - Math.min(...rs) + 1;
              if (span !== members.length) assert.fail(`node ${code} (level ${l}) holds ranks ${rs.sort((a, b) => a - b).join(',')}`);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('splits large 1-d inputs, with and without many equal values, into value intervals', () => {
    // segments of 4096+ items take the sampled selection path; a wrong threshold or tie count
    // would give a group more items than its capacity and break the tree
    for (const [n, distinct, seed] of [
      [20_000, 0, 1],
      [20_001, 40, 2],
      [9_000, 1, 3],
    ]) {
      const rng = new Rng(seed);
      const values = Float32Array.from({ length: n }, () => (distinct === 0 ? rng.normal() : rng.int(distinct)));
      const tree = buildKMeansTree(makeItems(n, 0), values, 1, { branching: 2, seed, iterations: 3 });
      assertTreeInvariants(tree);
      for (let l = 1; l <= 3; l++) {
        const nodes = itemsByNode(tree, l);
        for (let c = tree.layout.levelStarts[l - 1]; c < tree.layout.levelStarts[l]; c++) {
          const left = nodes.get(tree.layout.firstChild(c))!.map((i) => values[i]);
          const right = nodes.get(tree.layout.firstChild(c) + 1)!.map((i) => values[i]);
          const ordered = Math.max(...left) <= Math.min(...right) || Math.max(...right) <= Math.min(...left);
          assert.ok(ordered, `n ${n}: the children of node ${c} interleave`);
        }
      }
    }
  });

  it('puts each of 8 planted blobs under exactly one level-3 node (branching 2)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const { emb, groupOf } = plantedBlobs(8, 64, 8, 100 + seed);
      const tree = buildKMeansTree(makeItems(512, 0), emb, 8, { branching: 2, seed });
      assert.equal(tree.layout.depth, 9);
      const nodes = itemsByNode(tree, 3);
      assert.equal(nodes.size, 8);
      for (const [code, members] of nodes) {
        assert.equal(members.length, 64);
        assert.equal(new Set(members.map((i) => groupOf[i])).size, 1, `seed ${seed}: node ${code} mixes blobs`);
      }
      assert.equal(groupPurity(tree, groupOf, 3), 1);
      assert.equal(groupCohesion(tree, groupOf), 1);
    }
  });

  it('keeps planted blobs whole with branching 4 and 8 (the k > 2 assignment)', () => {
    for (const seed of [1, 2, 3]) {
      const { emb, groupOf } = plantedBlobs(8, 64, 8, 200 + seed);
      const t8 = buildKMeansTree(makeItems(512, 0), emb, 8, { branching: 8, seed });
      assert.equal(groupPurity(t8, groupOf, 1), 1, `branching 8, seed ${seed}`);
      const t4 = buildKMeansTree(makeItems(512, 0), emb, 8, { branching: 4, seed });
      // level-1 nodes hold 128 items: two whole blobs each
      assert.equal(groupPurity(t4, groupOf, 2), 1, `branching 4, seed ${seed}`);
      for (const members of itemsByNode(t4, 1).values()) {
        assert.equal(new Set(members.map((i) => groupOf[i])).size, 2, `branching 4, seed ${seed}`);
      }
    }
  });

  it('moves the big blob points nearest the small blob when balancing 70 vs 30 into 50/50', () => {
    const dim = 8;
    const rng = new Rng(7);
    // the big blob is stretched along the axis between the blobs, so "nearest the small blob"
    // has a clear answer; the small blob is far away along that axis
    const u = Float64Array.from({ length: dim }, () => rng.normal());
    const norm = Math.hypot(...u);
    for (let d = 0; d < dim; d++) u[d] /= norm;
    const n = 100;
    const emb = new Float32Array(n * dim);
    const isBig = new Uint8Array(n);
    const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    for (let p = 0; p < n; p++) {
      const item = perm[p];
      const big = p < 70;
      isBig[item] = big ? 1 : 0;
      const along = big ? rng.normal() : 12 + 0.5 * rng.normal();
      for (let d = 0; d < dim; d++) emb[item * dim + d] = along * u[d] + (big ? 0.05 : 0.3) * rng.normal();
    }
    const small = Array.from({ length: n }, (_, i) => i).filter((i) => !isBig[i]);
    const big = Array.from({ length: n }, (_, i) => i).filter((i) => isBig[i]);
    const cSmall = mean(emb, dim, small);
    const nearest = [...big].sort((a, b) => sq(emb, dim, a, cSmall) - sq(emb, dim, b, cSmall)).slice(0, 20);
    for (const seed of [1, 2, 3, 4]) {
      const tree = buildKMeansTree(makeItems(n, 0), emb, dim, { branching: 2, seed });
      const halves = itemsByNode(tree, 1);
      assert.equal(halves.size, 2);
      const smallSide = [...halves.values()].find((m) => m.includes(small[0]))!;
      assert.equal(smallSide.length, 50);
      assert.ok(small.every((i) => smallSide.includes(i)), 'the small blob stays whole');
      const moved = smallSide.filter((i) => isBig[i]).sort((a, b) => a - b);
      assert.deepEqual(moved, [...nearest].sort((a, b) => a - b), `seed ${seed}`);
    }
  });

  it('ends the root split at a fixed point of balanced 2-means when iterations allow', () => {
    for (const seed of [1, 2, 3]) {
      const dim = 5;
      const n = 301;
      const emb = randomEmbeddings(n, dim, 40 + seed);
      const tree = buildKMeansTree(makeItems(n, 0), emb, dim, { branching: 2, seed, iterations: 500 });
      const [g0, g1] = [...itemsByNode(tree, 1).entries()].sort((a, b) => a[0] - b[0]).map((e) => e[1]);
      assert.deepEqual([g0.length, g1.length], [151, 150]);
      const c0 = mean(emb, dim, g0);
      const c1 = mean(emb, dim, g1);
      const key = (i: number): number => sq(emb, dim, i, c0) - sq(emb, dim, i, c1);
      // no swap between the halves lowers the sum of squared distances to the halves' means
      assert.ok(Math.max(...g0.map(key)) <= Math.min(...g1.map(key)) + 1e-9, `seed ${seed}`);
    }
  });

  it('handles identical embeddings, 2 items and nodes with fewer items than branching', () => {
    const same = new Float32Array(50 * 3).fill(0.25);
    for (const branching of [2, 3, 7]) {
      const t = buildKMeansTree(makeItems(50, 2), same, 3, { branching, seed: 5 });
      assertTreeInvariants(t);
      assert.deepEqual(Array.from(buildKMeansTree(makeItems(50, 2), same, 3, { branching, seed: 5 }).itemLeaf), Array.from(t.itemLeaf));
    }
    const two = buildKMeansTree(makeItems(2, 0), Float32Array.from([0, 1, 2, 3]), 2, { branching: 2, seed: 1 });
    assertTreeInvariants(two);
    assert.equal(two.layout.depth, 1);
    const few = buildKMeansTree(makeItems(3, 0), Float32Array.from([0, 5, 1]), 1, { branching: 5, seed: 1 });
    assertTreeInvariants(few);
    const seven = buildKMeansTree(makeItems(7, 0), randomEmbeddings(7, 2, 3), 2, { branching: 5, seed: 1 });
    assertTreeInvariants(seven);
    assert.deepEqual(Array.from(seven.subtreeSize.subarray(1, 6)), [2, 2, 1, 1, 1]);
  });

  it('rejects bad arguments with UsageError', () => {
    const items = makeItems(4, 0);
    const emb = new Float32Array(8);
    assert.throws(() => buildKMeansTree(items, emb, 3, { branching: 2, seed: 1 }), UsageError);
    assert.throws(() => buildKMeansTree(items, emb, 0, { branching: 2, seed: 1 }), UsageError);
    assert.throws(() => buildKMeansTree(items, emb, 2, { branching: 1, seed: 1 }), UsageError);
    assert.throws(() => buildKMeansTree(items, emb, 2, { branching: 2, seed: 1, iterations: 0 }), UsageError);
    assert.throws(() => buildKMeansTree(items, emb, 2, { branching: 2, seed: 1.5 }), UsageError);
    const nan = new Float32Array(8);
    nan[5] = NaN;
    assert.throws(() => buildKMeansTree(items, nan, 2, { branching: 2, seed: 1 }), (e: unknown) => e instanceof UsageError && /item 2/.test(e.message));
    assert.throws(() => buildKMeansTree(makeItems(1, 0), new Float32Array(2), 2, { branching: 2, seed: 1 }), UsageError);
  });
});
