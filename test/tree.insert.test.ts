/**
 * Inserting items into a tree: growth keeps old codes and item order, the
 * placement fills free leaves only, follows the affinity, and the result
 * passes every tree invariant and survives the tree file.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { Rng } from '../src/core/rng.js';
import { buildCategoryTree, decodeTree, encodeTree } from '../src/tree/index.js';
import { freeSlots, growTree, levelsToGrow, placeItems, withNewItems } from '../src/tree/insert.js';
import type { Tree, TreeItems } from '../src/tree/tree.js';
import { assertTreeInvariants, leafOrder, makeItems } from './helpers/trees.js';

/** The catalogue of `tree` with `m` more items (ids n0, n1, …; no category). */
function moreItems(tree: Tree, m: number): TreeItems {
  const ic = new Int32Array(tree.numItems + m).fill(-1);
  ic.set(tree.items.itemCategory);
  return { itemIds: [...tree.items.itemIds, ...Array.from({ length: m }, (_, i) => `n${i}`)], itemCategory: ic, categoryIds: tree.items.categoryIds };
}

/** Adds `m` items the way add-items does: grow when needed, then place. */
function addRandom(tree: Tree, m: number, seed: number): Tree {
  const grown = growTree(tree, levelsToGrow(tree.layout.depth, tree.layout.branching, tree.numItems + m));
  const { slots } = placeItems(grown, m, { rng: new Rng(seed) });
  return withNewItems(grown, moreItems(tree, m), slots);
}

describe('tree insertion', () => {
  it('growTree keeps internal codes and the items\' leaf order, with the old leaves as parents', () => {
    const tree = buildCategoryTree(makeItems(16, 3, 2, 0), { branching: 2, seed: 3 }); // full: 16 of 16 leaves
    assert.equal(levelsToGrow(tree.layout.depth, 2, 17), 1);
    assert.equal(levelsToGrow(tree.layout.depth, 2, 16), 0);
    const grown = growTree(tree, 1);
    assertTreeInvariants(grown);
    assert.equal(grown.layout.depth, tree.layout.depth + 1);
    assert.deepEqual(leafOrder(grown), leafOrder(tree));
    for (let i = 0; i < tree.numItems; i++) {
      const oldPath = tree.pathOf(i);
      const newPath = grown.pathOf(i);
      for (let l = 0; l <= tree.layout.depth; l++) assert.equal(newPath[l], oldPath[l], `item ${i} level ${l}`);
    }
  });

  it('keeps every invariant, the old items\' places and the file round trip, for any sizes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 2, max: 4 }), fc.integer({ min: 0, max: 1000 }), (n, m, k, seed) => {
        const tree = buildCategoryTree(makeItems(n, 4, seed), { branching: k, seed });
        const out = addRandom(tree, m, seed);
        assertTreeInvariants(out);
        assert.equal(out.numItems, n + m);
        const factor = k ** (out.layout.depth - tree.layout.depth);
        for (let i = 0; i < n; i++) assert.equal(out.itemLeaf[i], tree.itemLeaf[i] * factor);
        // the tree file checks that the depth is the smallest that fits
        const back = decodeTree(encodeTree(out), 'x');
        assert.deepEqual(Array.from(back.itemLeaf), Array.from(out.itemLeaf));
      }),
      { numRuns: 150 },
    );
  });

  it('descends to the child with the highest affinity that has room, and nodes without an opinion come last', () => {
    const tree = buildCategoryTree(makeItems(6, 2, 1, 0), { branching: 2, seed: 1 }); // depth 3, 8 leaves, 2 free
    const free = freeSlots(tree);
    assert.equal(free[0], 2);
    // prefer the right subtree of the root for item 0, the left for item 1
    const right = 2;
    const { slots } = placeItems(tree, 2, { affinity: (m, code) => (tree.layout.level(code) === 1 ? (code === right) === (m === 0) ? 1 : 0 : NaN) });
    const top = (slot: number) => tree.layout.ancestorAt(tree.layout.leafCode(slot), tree.layout.depth, 1);
    // one free slot under each root child (balanced build): each goes where it prefers
    if (free[1] === 1 && free[2] === 1) {
      assert.equal(top(slots[0]), right);
      assert.equal(top(slots[1]), 1);
    }
    for (const s of slots) assert.equal(tree.leafItem[s], -1, 'only free leaves are taken');
    assert.notEqual(slots[0], slots[1]);
    assert.throws(() => placeItems(tree, 3, { affinity: () => 0 }), /no room for 3 new items/);
  });
});
