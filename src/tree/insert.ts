/**
 * Insertion of new items into an existing tree, without moving the items
 * already in it. The tree stays a complete k-ary tree with every item on the
 * last level: a new item takes a free leaf slot, found by descending from
 * the root to the child with room whose affinity to the item is highest.
 * When the catalogue outgrows the last level, the tree first grows: every
 * old leaf becomes an internal node whose first child holds its item, so
 * the codes of all old internal nodes and the relative order of all items
 * are kept, and each old item gains k − 1 free sibling slots per level.
 */
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { TreeLayout } from './layout.js';
import { Tree, type TreeItems } from './tree.js';

/**
 * The tree grown by `levels` levels: item i moves from leaf slot s to slot
 * s·k^levels (the first leaf below its old leaf). Node codes of the old
 * tree keep their meaning: old internal codes are unchanged, an old leaf
 * code is now the internal node above the item's new leaf.
 */
export function growTree(tree: Tree, levels: number): Tree {
  if (!Number.isInteger(levels) || levels < 0) throw new UsageError(`levels to grow must be a non-negative integer, got ${levels}`);
  if (levels === 0) return tree;
  const k = tree.layout.branching;
  const layout = new TreeLayout(k, tree.layout.depth + levels);
  const factor = k ** levels;
  const itemLeaf = Int32Array.from(tree.itemLeaf, (s) => s * factor);
  return new Tree(layout, tree.items, itemLeaf, tree.meta);
}

/** Levels a tree of `depth` and `branching` must grow by to hold `numItems` leaves (0 when they fit). */
export function levelsToGrow(depth: number, branching: number, numItems: number): number {
  let d = depth;
  let cap = branching ** depth;
  while (cap < numItems) {
    cap *= branching;
    d++;
  }
  return d - depth;
}

/**
 * How a new item compares with a node: higher is nearer. NaN means "no
 * opinion" (e.g. a node without items below it): such nodes are chosen
 * only when no child with room has an opinion.
 */
export type Affinity = (newItem: number, code: number) => number;

/** Leaf slots for new items, in the order given, on a tree that has room for all of them. */
export interface Placement {
  /** Leaf slot of each new item. */
  slots: Int32Array;
}

/**
 * Chooses a free leaf slot for each of `count` new items, one after the
 * other: from the root, each step goes to the child with free slots that
 * has the highest affinity (ties: the one with more free slots, then the
 * lower code); children without an opinion (NaN) only when no child with
 * room has one. With `rng` instead of an affinity, each step picks a child
 * at random in proportion to its free slots (a uniformly random free leaf:
 * the control placement). UsageError when the tree lacks room.
 */
export function placeItems(tree: Tree, count: number, how: { affinity: Affinity } | { rng: Rng }): Placement {
  const { layout } = tree;
  const { depth, branching: k } = layout;
  const free = freeSlots(tree);
  if (count > free[0]) throw new UsageError(`no room for ${count} new items: the tree has ${free[0]} free leaf slots (grow it first)`);
  const slots = new Int32Array(count);
  for (let m = 0; m < count; m++) {
    let code = 0;
    for (let l = 0; l < depth; l++) {
      const fc = layout.firstChild(code);
      let best = -1;
      if ('rng' in how) {
        let r = how.rng.int(free[code]);
        for (let j = 0; j < k; j++) {
          const c = fc + j;
          if (r < free[c]) {
            best = c;
            break;
          }
          r -= free[c];
        }
      } else {
        let bestA = NaN;
        for (let j = 0; j < k; j++) {
          const c = fc + j;
          if (free[c] === 0) continue;
          const a = how.affinity(m, c);
          if (best < 0 || better(a, free[c], bestA, free[best])) {
            best = c;
            bestA = a;
          }
        }
      }
      free[code]--;
      code = best;
    }
    free[code]--;
    slots[m] = code - layout.numInternal;
  }
  return { slots };
}

/** Is (a, room) a better child than (b, bRoom)? An opinion beats none; then higher affinity; then more room. */
function better(a: number, room: number, b: number, bRoom: number): boolean {
  const ha = !Number.isNaN(a);
  const hb = !Number.isNaN(b);
  if (ha !== hb) return ha;
  if (ha && a !== b) return a > b;
  return room > bRoom;
}

/** Free leaf slots below every node code. */
export function freeSlots(tree: Tree): Int32Array {
  const { layout } = tree;
  const free = new Int32Array(layout.numNodes);
  for (let l = 0; l <= layout.depth; l++) {
    const cap = layout.branching ** (layout.depth - l);
    for (let c = layout.levelStarts[l]; c < layout.levelStarts[l + 1]; c++) free[c] = cap - tree.subtreeSize[c];
  }
  return free;
}

/**
 * The tree with new items appended (item indices numItems … numItems+m−1)
 * at the given leaf slots. `items` is the whole new catalogue: the old
 * items' ids and categories first and unchanged, category ids possibly
 * extended at the end.
 */
export function withNewItems(tree: Tree, items: TreeItems, slots: Int32Array): Tree {
  const n = tree.numItems;
  if (items.itemIds.length !== n + slots.length) throw new UsageError(`catalogue of ${items.itemIds.length} items for ${n} old and ${slots.length} new ones`);
  for (let i = 0; i < tree.items.categoryIds.length; i++) {
    if (items.categoryIds[i] !== tree.items.categoryIds[i]) throw new UsageError(`category ${i} changed from ${tree.items.categoryIds[i]} to ${items.categoryIds[i]}`);
  }
  const itemLeaf = new Int32Array(n + slots.length);
  itemLeaf.set(tree.itemLeaf);
  itemLeaf.set(slots, n);
  return new Tree(tree.layout, items, itemLeaf, tree.meta);
}

/**
 * Sums of `vectors` (one row of `dim` per item) over the items below every
 * node, with the item counts in `tree.subtreeSize`: a node's centroid is
 * its sum divided by its size.
 */
export function subtreeSums(tree: Tree, vectors: Float32Array, dim: number): Float64Array {
  const { layout } = tree;
  const sums = new Float64Array(layout.numNodes * dim);
  const first = layout.numInternal;
  for (let i = 0; i < tree.numItems; i++) {
    const code = first + tree.itemLeaf[i];
    for (let j = 0; j < dim; j++) sums[code * dim + j] = vectors[i * dim + j];
  }
  for (let c = first - 1; c >= 0; c--) {
    const fc = layout.firstChild(c);
    for (let b = 0; b < layout.branching; b++) {
      const ch = (fc + b) * dim;
      for (let j = 0; j < dim; j++) sums[c * dim + j] += sums[ch + j];
    }
  }
  return sums;
}
