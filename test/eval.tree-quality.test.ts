import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { groupCohesion, groupPurity, movedFraction, purityByLevel } from '../src/eval/index.js';
import { buildKMeansTree, buildRandomTree, fromOrder, type TreeItems } from '../src/tree/index.js';
import { makeItems } from './helpers/trees.js';
import { plantedBlobs } from './helpers/blobs.js';

const identity = (n: number): Int32Array => Int32Array.from({ length: n }, (_, i) => i);
const g = (...xs: number[]): Int32Array => Int32Array.from(xs);


/** Purity computed the slow way: per node, a Map of group counts. */
function naivePurity(tree: ReturnType<typeof fromOrder>, groupOf: Int32Array, level: number): number {
  const byNode = new Map<number, Map<number, number>>();
  for (let i = 0; i < tree.numItems; i++) {
    if (groupOf[i] < 0) continue;
    const c = tree.pathOf(i)[level];
    const m = byNode.get(c) ?? new Map<number, number>();
    m.set(groupOf[i], (m.get(groupOf[i]) ?? 0) + 1);
    byNode.set(c, m);
  }
  let maj = 0;
  let tot = 0;
  for (const m of byNode.values()) {
    maj += Math.max(...m.values());
    for (const v of m.values()) tot += v;
  }
  return tot === 0 ? NaN : maj / tot;
}

describe('groupPurity / purityByLevel', () => {
  // 8 items in slots 0..7 of a binary tree of depth 3
  const items8 = makeItems(8, 0);
  const tree8 = fromOrder(items8, identity(8), { branching: 2, seed: 0 }, 'random');

  it('matches hand-computed values on a tiny binary tree', () => {
    const groups = g(0, 0, 1, 1, 1, 1, 1, -1);
    // level 1: {0,0,1,1} → 2 of 4; {1,1,1,?} → 3 of 3  ⇒ 5/7
    assert.equal(groupPurity(tree8, groups, 1), 5 / 7);
    // level 2: {0,0} {1,1} {1,1} {1,?} ⇒ 7/7
    assert.equal(groupPurity(tree8, groups, 2), 1);
    // root: group 1 holds 5 of the 7 known items
    assert.equal(groupPurity(tree8, groups, 0), 5 / 7);
    assert.equal(groupPurity(tree8, groups, 3), 1);
    assert.deepEqual(purityByLevel(tree8, groups), [5 / 7, 1]);
    // node purities 1/2, 1/2 at level 2 on {0,1},{0,1}; weighted with the pure nodes
    const mixed = g(0, 1, 0, 1, 2, 2, 3, 3);
    assert.deepEqual(purityByLevel(tree8, mixed), [4 / 8, 6 / 8]);
  });

  it('matches hand-computed values on an uneven ternary tree', () => {
    // 5 items, branching 3, depth 2: placeInOrder splits 5 into 2,2,1 → slots 0,1 | 3,4 | 6
    const tree = fromOrder(makeItems(5, 0), g(4, 3, 2, 1, 0), { branching: 3, seed: 0 }, 'random');
    assert.deepEqual(Array.from(tree.subtreeSize.subarray(1, 4)), [2, 2, 1]);
    // nodes: {4,3} {2,1} {0}; groups by item: 0→A, 1→A, 2→B, 3→B, 4→A
    const groups = g(0, 0, 1, 1, 0);
    // {A,B}: 1 of 2, {B,A}: 1 of 2, {A}: 1 of 1 ⇒ 3/5
    assert.equal(groupPurity(tree, groups, 1), 3 / 5);
    assert.deepEqual(purityByLevel(tree, groups), [3 / 5]);
    assert.ok(Number.isNaN(groupPurity(tree, g(-1, -1, -1, -1, -1), 1)));
  });

  it('agrees with a naive count on random trees', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        (branching, n, numGroups, seed) => {
          const rng = new Rng(seed);
          const groups = Int32Array.from({ length: n }, () => rng.int(numGroups + 1) - 1);
          const tree = buildRandomTree(makeItems(n, 0), { branching, seed });
          for (let l = 0; l <= tree.layout.depth; l++) {
            const want = naivePurity(tree, groups, l);
            const got = groupPurity(tree, groups, l);
            if (Number.isNaN(want)) assert.ok(Number.isNaN(got));
            else assert.ok(Math.abs(got - want) < 1e-12, `level ${l}: ${got} vs ${want}`);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is far lower for a random tree than for the k-means tree on planted blobs', () => {
    const { emb, groupOf } = plantedBlobs(8, 64, 8, 11);
    const items = makeItems(512, 0);
    const km = buildKMeansTree(items, emb, 8, { branching: 2, seed: 3 });
    const rnd = buildRandomTree(items, { branching: 2, seed: 3 });
    assert.equal(groupPurity(km, groupOf, 3), 1);
    const r = groupPurity(rnd, groupOf, 3);
    assert.ok(r < 0.4, `random tree purity ${r}`);
    const kmLevels = purityByLevel(km, groupOf);
    const rndLevels = purityByLevel(rnd, groupOf);
    assert.equal(kmLevels.length, 8);
    for (let l = 0; l < kmLevels.length; l++) assert.ok(kmLevels[l] >= rndLevels[l], `level ${l + 1}`);
    assert.equal(groupCohesion(km, groupOf), 1);
    assert.ok(groupCohesion(rnd, groupOf) < 0.2);
  });

  it('rejects bad levels and group arrays', () => {
    assert.throws(() => groupPurity(tree8, g(0, 0, 0, 0, 0, 0, 0, 0), 4), UsageError);
    assert.throws(() => groupPurity(tree8, g(0, 0, 0, 0, 0, 0, 0, 0), -1), UsageError);
    assert.throws(() => groupPurity(tree8, g(0, 0, 0, 0, 0, 0, 0, 0), 1.5), UsageError);
    assert.throws(() => groupPurity(tree8, g(0, 0, 0), 1), UsageError);
    assert.throws(() => purityByLevel(tree8, g(0, 0, 0, 0, 0, 0, 0, -2)), UsageError);
    assert.throws(() => groupCohesion(tree8, g(0, 0, 0, 0, 0, 0, 0)), UsageError);
  });
});

describe('groupCohesion', () => {
  const tree8 = fromOrder(makeItems(8, 0), identity(8), { branching: 2, seed: 0 }, 'random');

  it('matches hand-computed values', () => {
    // largest node per level: 8, 4, 2, 1.
    // group 0 = slots {0,1}: held at level 2, ideal level 2 → 1
    // group 1 = slots {2..5}: only the root holds it, ideal level 1 → 0
    // group 2 = slots {6,7}: level 2 of 2 → 1
    assert.equal(groupCohesion(tree8, g(0, 0, 1, 1, 1, 1, 2, 2)), 2 / 3);
    // group 0 = slots {0, 3}: level 1 of ideal 2 → 1/2; singletons and unknowns are skipped
    assert.equal(groupCohesion(tree8, g(0, -1, 5, 0, -1, 7, -1, -1)), 1 / 2);
    // a group of 5 can only be held by the root: no informative group
    assert.ok(Number.isNaN(groupCohesion(tree8, g(0, 0, 0, 0, 0, -1, -1, -1))));
    // ideal level uses the tree's real node sizes: 9 items, depth 4, level-1 nodes hold 5 and 4
    const tree9 = fromOrder(makeItems(9, 0), identity(9), { branching: 2, seed: 0 }, 'random');
    // group of 5 = the first child's items (slots 0..4 of 16 → items 0..4): level 1 of ideal 1 → 1
    assert.equal(groupCohesion(tree9, g(0, 0, 0, 0, 0, -1, -1, -1, -1)), 1);
  });

  it('stays within [0, 1] and is 1 for a tree built in group order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 4 }),
        fc.integer({ min: 2, max: 300 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        (branching, n, numGroups, seed) => {
          const rng = new Rng(seed);
          const groups = Int32Array.from({ length: n }, () => rng.int(numGroups));
          const c = groupCohesion(buildRandomTree(makeItems(n, 0), { branching, seed }), groups);
          if (!Number.isNaN(c)) assert.ok(c >= 0 && c <= 1, `${c}`);
        },
      ),
      { numRuns: 100 },
    );
    // groups of equal power-of-two size laid out contiguously are held perfectly
    const groups = Int32Array.from({ length: 64 }, (_, i) => Math.floor(i / 8));
    const sorted = fromOrder(makeItems(64, 0), identity(64), { branching: 2, seed: 0 }, 'random');
    assert.equal(groupCohesion(sorted, groups), 1);
  });
});

describe('movedFraction', () => {
  const items: TreeItems = makeItems(10, 0);
  const opts = { branching: 2, seed: 0 };
  const base = fromOrder(items, identity(10), opts, 'random');

  it('is 0 for identical trees, 1 for a full rotation, 2/n for a swap', () => {
    assert.equal(movedFraction(base, base), 0);
    assert.equal(movedFraction(base, fromOrder(items, identity(10), opts, 'random')), 0);
    const rotated = Int32Array.from({ length: 10 }, (_, i) => (i + 1) % 10);
    assert.equal(movedFraction(base, fromOrder(items, rotated, opts, 'random')), 1);
    const swapped = identity(10);
    swapped[2] = 7;
    swapped[7] = 2;
    assert.equal(movedFraction(base, fromOrder(items, swapped, opts, 'random')), 2 / 10);
  });

  it('rejects trees over different items or layouts', () => {
    assert.throws(() => movedFraction(base, fromOrder(makeItems(11, 0), identity(11), opts, 'random')), UsageError);
    const renamed: TreeItems = { ...items, itemIds: items.itemIds.map((id, i) => (i === 4 ? 'other' : id)) };
    assert.throws(() => movedFraction(base, fromOrder(renamed, identity(10), opts, 'random')), UsageError);
    assert.throws(() => movedFraction(base, fromOrder(items, identity(10), { branching: 3, seed: 0 }, 'random')), UsageError);
  });
});
