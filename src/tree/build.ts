/**
 * Initial trees. `category` follows TDM: items grouped by category, the
 * categories in a seeded random order, items within a category in a seeded
 * random order, then recursively split into balanced parts. `random` is a
 * seeded permutation (a baseline and a test aid).
 */
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { TreeLayout } from './layout.js';
import { Tree, placeInOrder, type TreeItems, type TreeInit } from './tree.js';

/** Options shared by the tree builders. */
export interface BuildTreeOptions {
  branching: number;
  seed: number;
}

/** Builds a tree whose leaf order groups items by category. */
export function buildCategoryTree(items: TreeItems, opts: BuildTreeOptions): Tree {
  const rng = new Rng(opts.seed);
  const n = items.itemIds.length;
  const numCats = items.categoryIds.length;
  // Group items by category; items without one form their own group.
  const groups: number[][] = Array.from({ length: numCats + 1 }, () => []);
  for (let i = 0; i < n; i++) {
    const c = items.itemCategory[i];
    groups[c >= 0 ? c : numCats].push(i);
  }
  const groupOrder = rng.shuffle(Int32Array.from({ length: numCats + 1 }, (_, g) => g));
  const order = new Int32Array(n);
  let p = 0;
  for (const g of groupOrder) {
    const members = rng.shuffle(groups[g]);
    for (const i of members) order[p++] = i;
  }
  return fromOrder(items, order, opts, 'category');
}

/** Builds a tree with items in a seeded random leaf order. */
export function buildRandomTree(items: TreeItems, opts: BuildTreeOptions): Tree {
  const rng = new Rng(opts.seed);
  const order = rng.shuffle(Int32Array.from({ length: items.itemIds.length }, (_, i) => i));
  return fromOrder(items, order, opts, 'random');
}

/** Builds a balanced tree from a given leaf order of all items. */
export function fromOrder(items: TreeItems, order: Int32Array, opts: BuildTreeOptions, init: TreeInit): Tree {
  if (order.length !== items.itemIds.length) {
    throw new UsageError(`leaf order has ${order.length} entries for ${items.itemIds.length} items`);
  }
  const layout = TreeLayout.forItems(items.itemIds.length, opts.branching);
  return new Tree(layout, items, placeInOrder(layout, order), { init, seed: opts.seed });
}
