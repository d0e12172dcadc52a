/**
 * Test helpers for trees: seeded catalogues, the leaf order of a tree, and a
 * full structural check of a Tree's invariants (used by the layout property
 * tests and to vet trees that come back from decoding).
 */
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { Tree, TreeItems } from '../../src/tree/tree.js';

/**
 * A catalogue of `n` items with ids `i0..`, `numCats` categories `c0..` and
 * a seeded category per item; with `noneShare` of items having none (-1).
 */
export function makeItems(n: number, numCats: number, seed = 1, noneShare = 0.1): TreeItems {
  const rng = new Rng(seed);
  const itemCategory = new Int32Array(n);
  for (let i = 0; i < n; i++) itemCategory[i] = numCats === 0 || rng.next() < noneShare ? -1 : rng.int(numCats);
  return {
    itemIds: Array.from({ length: n }, (_, i) => `i${i}`),
    itemCategory,
    categoryIds: Array.from({ length: numCats }, (_, c) => `c${c}`),
  };
}

/** Items in leaf-slot order, empty slots skipped. */
export function leafOrder(tree: Tree): number[] {
  return Array.from(tree.leafItem).filter((i) => i >= 0);
}

/**
 * Asserts every structural invariant of a tree: items and leaves are a
 * bijection onto the last level, parent/child arithmetic round-trips, paths
 * are parent chains from the root, subtree sizes add up, non-empty node lists
 * and embedding rows are consistent.
 */
export function assertTreeInvariants(tree: Tree): void {
  // lazy messages: these loops run millions of times in the property tests
  const check = (ok: boolean, msg: () => string): void => {
    if (!ok) assert.fail(msg());
  };
  const { layout } = tree;
  const n = tree.numItems;
  const k = layout.branching;
  const depth = layout.depth;
  const first = layout.levelStarts[depth];
  const end = layout.levelStarts[depth + 1];
  assert.equal(layout.numInternal, first);
  assert.equal(layout.numNodes, end);
  assert.equal(layout.numLeaves, end - first);
  assert.equal(tree.leafItem.length, layout.numLeaves);

  // every item in exactly one leaf, itemLeaf and leafItem are inverse
  const seen = new Uint8Array(n);
  let filled = 0;
  for (let s = 0; s < tree.leafItem.length; s++) {
    const it = tree.leafItem[s];
    if (it < 0) {
      check(it === -1, () => `empty slot ${s} holds ${it}`);
      continue;
    }
    check(it < n, () => `slot ${s} holds item ${it} of ${n}`);
    check(seen[it] === 0, () => `item ${it} sits in two leaves`);
    seen[it] = 1;
    filled++;
    check(tree.itemLeaf[it] === s, () => `itemLeaf[leafItem[${s}]] !== ${s}`);
  }
  assert.equal(filled, n, 'every item has a leaf');
  for (let i = 0; i < n; i++) {
    check(tree.leafItem[tree.itemLeaf[i]] === i, () => `leafItem[itemLeaf[${i}]] !== ${i}`);
    const code = tree.leafCodeOf(i);
    check(code >= first && code < end, () => `leaf code ${code} of item ${i} outside the last level [${first}, ${end})`);
    assert.equal(layout.level(code), depth);
    assert.equal(tree.itemAtLeaf(code), i);
    assert.equal(tree.nodeRow(code), first + i);
  }

  // parent/child arithmetic
  assert.equal(layout.parent(0), -1);
  for (let c = 0; c < first; c++) {
    const fc = layout.firstChild(c);
    assert.equal(layout.level(fc), layout.level(c) + 1);
    for (let j = 0; j < k; j++) {
      check(layout.parent(fc + j) === c, () => `parent(firstChild(${c}) + ${j})`);
      assert.ok(fc + j < end);
    }
    assert.equal(tree.nodeRow(c), c);
  }
  for (let c = 1; c < end; c++) {
    const p = layout.parent(c);
    check(c - layout.firstChild(p) >= 0 && c - layout.firstChild(p) < k, () => `${c} is not among its parent's children`);
  }

  // paths: a parent chain from the root down to the item's leaf, one node per level
  const path = new Int32Array(depth + 1);
  for (let i = 0; i < n; i++) {
    tree.pathOf(i, path);
    assert.equal(path[0], 0);
    assert.equal(path[depth], tree.leafCodeOf(i));
    for (let l = 0; l <= depth; l++) {
      assert.equal(layout.level(path[l]), l);
      assert.equal(layout.ancestorAt(path[depth], depth, l), path[l]);
      assert.ok(tree.subtreeSize[path[l]] > 0);
      if (l > 0) check(layout.parent(path[l]) === path[l - 1], () => `path of item ${i} breaks at level ${l}`);
    }
  }

  // subtree sizes
  assert.equal(tree.subtreeSize.length, end);
  assert.equal(tree.subtreeSize[0], n);
  for (let c = 0; c < first; c++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += tree.subtreeSize[layout.firstChild(c) + j];
    check(tree.subtreeSize[c] === sum, () => `subtreeSize[${c}] is not the sum of its children`);
  }
  for (let s = 0; s < layout.numLeaves; s++) assert.equal(tree.subtreeSize[first + s], tree.leafItem[s] >= 0 ? 1 : 0);

  // non-empty nodes per level: ascending, exactly the codes with items below
  for (let l = 0; l <= depth; l++) {
    const want: number[] = [];
    for (let c = layout.levelStarts[l]; c < layout.levelStarts[l + 1]; c++) if (tree.subtreeSize[c] > 0) want.push(c);
    assert.deepEqual(Array.from(tree.nonEmptyNodes(l)), want, `non-empty nodes of level ${l}`);
  }
  assert.equal(tree.numRows, first + n);
}

/** Asserts two trees are the same in every stored and derived field. */
export function assertSameTree(a: Tree, b: Tree): void {
  assert.equal(a.layout.branching, b.layout.branching);
  assert.equal(a.layout.depth, b.layout.depth);
  assert.deepEqual(a.layout.levelStarts, b.layout.levelStarts);
  assert.deepEqual(a.meta, b.meta);
  assert.deepEqual(a.items.itemIds, b.items.itemIds);
  assert.deepEqual(Array.from(a.items.itemCategory), Array.from(b.items.itemCategory));
  assert.deepEqual(a.items.categoryIds, b.items.categoryIds);
  assert.deepEqual(Array.from(a.itemLeaf), Array.from(b.itemLeaf));
  assert.deepEqual(Array.from(a.leafItem), Array.from(b.leafItem));
  assert.deepEqual(Array.from(a.subtreeSize), Array.from(b.subtreeSize));
}
