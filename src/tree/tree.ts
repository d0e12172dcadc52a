/**
 * A tree over a catalogue: a TreeLayout plus the assignment of every item to
 * exactly one leaf slot. Leaves without an item, and internal nodes with no
 * item below them, are "empty" and never visited by search or sampling.
 */
import { ArborError } from '../core/errors.js';
import { TreeLayout } from './layout.js';

/** How a tree was first made. */
export type TreeInit = 'category' | 'random' | 'kmeans' | 'learned';

/** Catalogue facts the tree carries so a model folder is self-contained. */
export interface TreeItems {
  /** External item ids by item index. */
  itemIds: string[];
  /** Category index per item (-1: none). */
  itemCategory: Int32Array;
  /** External category ids by category index. */
  categoryIds: string[];
}

/** Build-time facts recorded with the tree. */
export interface TreeMeta {
  init: TreeInit;
  seed: number;
}

/** An item tree. Immutable once built. */
export class Tree {
  readonly layout: TreeLayout;
  readonly items: TreeItems;
  readonly meta: TreeMeta;
  /** Leaf slot of each item. */
  readonly itemLeaf: Int32Array;
  /** Item at each leaf slot, -1 when empty. */
  readonly leafItem: Int32Array;
  /** Number of items below each node code. */
  readonly subtreeSize: Int32Array;
  private readonly nonEmptyByLevel: Int32Array[];
  private readonly levelRowCache: (Int32Array | undefined)[] = [];

  constructor(layout: TreeLayout, items: TreeItems, itemLeaf: Int32Array, meta: TreeMeta) {
    const n = items.itemIds.length;
    if (itemLeaf.length !== n) throw new ArborError(`tree: ${itemLeaf.length} leaf slots for ${n} items`);
    if (items.itemCategory.length !== n) throw new ArborError(`tree: ${items.itemCategory.length} categories for ${n} items`);
    this.layout = layout;
    this.items = items;
    this.meta = meta;
    this.itemLeaf = itemLeaf;
    this.leafItem = new Int32Array(layout.numLeaves).fill(-1);
    for (let i = 0; i < n; i++) {
      const s = itemLeaf[i];
      if (!(s >= 0 && s < layout.numLeaves)) throw new ArborError(`tree: item ${i} has leaf slot ${s} outside 0..${layout.numLeaves - 1}`);
      if (this.leafItem[s] !== -1) throw new ArborError(`tree: items ${this.leafItem[s]} and ${i} share leaf slot ${s}`);
      this.leafItem[s] = i;
    }
    this.subtreeSize = new Int32Array(layout.numNodes);
    const first = layout.numInternal;
    for (let s = 0; s < layout.numLeaves; s++) if (this.leafItem[s] >= 0) this.subtreeSize[first + s] = 1;
    for (let c = first - 1; c >= 0; c--) {
      let sum = 0;
      const fc = layout.firstChild(c);
      for (let j = 0; j < layout.branching; j++) sum += this.subtreeSize[fc + j];
      this.subtreeSize[c] = sum;
    }
    this.nonEmptyByLevel = [];
    for (let l = 0; l <= layout.depth; l++) {
      const out: number[] = [];
      for (let c = layout.levelStarts[l]; c < layout.levelStarts[l + 1]; c++) if (this.subtreeSize[c] > 0) out.push(c);
      this.nonEmptyByLevel.push(Int32Array.from(out));
    }
  }

  /** Number of items. */
  get numItems(): number {
    return this.itemLeaf.length;
  }

  /** Leaf code of an item. */
  leafCodeOf(item: number): number {
    return this.layout.numInternal + this.itemLeaf[item];
  }

  /** Item of a leaf code, -1 if the leaf is empty. */
  itemAtLeaf(code: number): number {
    return this.leafItem[code - this.layout.numInternal];
  }

  /** Codes of the non-empty nodes of level `l` (ascending). */
  nonEmptyNodes(l: number): Int32Array {
    return this.nonEmptyByLevel[l];
  }

  /** The item's ancestor codes, index = level (root 0 … leaf at `depth`). */
  pathOf(item: number, out: Int32Array = new Int32Array(this.layout.depth + 1)): Int32Array {
    let c = this.leafCodeOf(item);
    for (let l = this.layout.depth; l >= 0; l--) {
      out[l] = c;
      c = Math.floor((c - 1) / this.layout.branching);
    }
    return out;
  }

  /**
   * Row of a node in the scorer's embedding table: internal nodes keep their
   * code, a leaf maps to `numInternal + item` (item embeddings follow the item
   * when a tree is re-learned). -1 for an empty leaf.
   */
  nodeRow(code: number): number {
    const ni = this.layout.numInternal;
    if (code < ni) return code;
    const item = this.leafItem[code - ni];
    return item < 0 ? -1 : ni + item;
  }

  /**
   * For every item, the embedding row that stands for it on tree level
   * `level` (JTM's hierarchical user preference): its ancestor's code on an
   * internal level, its own row (`numInternal + item`) on the leaf level.
   * Cached per level; a missing internal level is derived from the nearest
   * deeper one already cached (or from the leaves), one parent step per
   * level, caching the levels in between: O(items) per level.
   */
  levelRows(level: number): Int32Array {
    const cached = this.levelRowCache[level];
    if (cached) return cached;
    const { depth, numInternal, branching } = this.layout;
    const n = this.numItems;
    if (level >= depth) {
      const rows = new Int32Array(n);
      for (let i = 0; i < n; i++) rows[i] = numInternal + i;
      this.levelRowCache[level] = rows;
      return rows;
    }
    let from = level + 1;
    while (from < depth && !this.levelRowCache[from]) from++;
    let src: Int32Array;
    if (from < depth) src = this.levelRowCache[from]!;
    else {
      src = new Int32Array(n);
      for (let i = 0; i < n; i++) src[i] = numInternal + this.itemLeaf[i];
    }
    for (let l = from - 1; l >= level; l--) {
      const rows = new Int32Array(n);
      for (let i = 0; i < n; i++) rows[i] = ((src[i] - 1) / branching) | 0;
      this.levelRowCache[l] = rows;
      src = rows;
    }
    return src;
  }

  /** Rows in the scorer's embedding table for this tree. */
  get numRows(): number {
    return this.layout.numInternal + this.numItems;
  }
}

/**
 * Places items, given in the order they should sit on the last level, into a
 * balanced tree: each node's items are split into `branching` contiguous parts
 * whose sizes differ by at most one, recursively, so every subtree holds at
 * most its capacity and all leaves are on the last level.
 */
export function placeInOrder(layout: TreeLayout, order: Int32Array): Int32Array {
  const itemLeaf = new Int32Array(order.length).fill(-1);
  const k = layout.branching;
  const recurse = (lo: number, hi: number, level: number, slotStart: number): void => {
    const n = hi - lo;
    if (n === 0) return;
    if (level === layout.depth) {
      itemLeaf[order[lo]] = slotStart;
      return;
    }
    const childSlots = layout.levelSize(layout.depth - level - 1);
    const base = Math.floor(n / k);
    const extra = n % k;
    let p = lo;
    for (let j = 0; j < k; j++) {
      const size = base + (j < extra ? 1 : 0);
      recurse(p, p + size, level + 1, slotStart + j * childSlots);
      p += size;
    }
  };
  recurse(0, order.length, 0, 0);
  return itemLeaf;
}
