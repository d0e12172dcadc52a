/**
 * Query filters applied inside the search: `excludeHistory` (never return an
 * item of the query's own history) and an allowed-category list. A node is
 * "open" when its subtree holds at least one allowed, non-excluded item; the
 * beam search never expands or scores a closed node, so a filtered query
 * costs no more than an unfiltered one and needs no over-fetching.
 *
 * A node's subtree covers a contiguous range of leaf slots, so the number of
 * allowed items below it is a difference of two binary searches in the sorted
 * leaf slots of the allowed items (per category, indexed once per tree), minus
 * the excluded ones counted the same way. Each check is O(log n); building a
 * query's filter costs O(allowed items) when several categories are allowed
 * (their slot lists are merged) and nothing more when one is.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import type { RetrieveOptions } from './retriever.js';

/** Sorted leaf slots of each category's items, built once per tree. */
const categorySlots = new WeakMap<Tree, Int32Array[]>();

function slotsByCategory(tree: Tree): Int32Array[] {
  let out = categorySlots.get(tree);
  if (!out) {
    const numCats = tree.items.categoryIds.length;
    const counts = new Int32Array(numCats);
    const cat = tree.items.itemCategory;
    for (let i = 0; i < cat.length; i++) if (cat[i] >= 0 && cat[i] < numCats) counts[cat[i]]++;
    out = Array.from(counts, (c) => new Int32Array(c));
    const fill = new Int32Array(numCats);
    // walking the leaves in slot order keeps every list sorted
    for (let s = 0; s < tree.leafItem.length; s++) {
      const it = tree.leafItem[s];
      if (it < 0) continue;
      const c = cat[it];
      if (c >= 0 && c < numCats) out[c][fill[c]++] = s;
    }
    categorySlots.set(tree, out);
  }
  return out;
}

/** Number of values of sorted `a` in [lo, hi). */
function countInRange(a: Int32Array, lo: number, hi: number): number {
  return lowerBound(a, hi) - lowerBound(a, lo);
}

function lowerBound(a: Int32Array, x: number): number {
  let l = 0;
  let r = a.length;
  while (l < r) {
    const m = (l + r) >>> 1;
    if (a[m] < x) l = m + 1;
    else r = m;
  }
  return l;
}

/** Checks a category filter against the tree's categories, naming the bad value. */
export function validateCategories(tree: Tree, categories: Int32Array): void {
  const n = tree.items.categoryIds.length;
  for (const c of categories) {
    if (!(Number.isInteger(c) && c >= 0 && c < n)) {
      throw new UsageError(`category index ${c} is outside the model's categories (0..${n - 1})`);
    }
  }
}

/** The per-query filter: which nodes may be expanded and which items returned. */
export class QueryFilter {
  private readonly tree: Tree;
  /** Sorted leaf slots of the allowed items, or undefined when every item is allowed. */
  private readonly allowed: Int32Array | undefined;
  /** Sorted leaf slots of allowed items that are excluded (history). */
  private readonly excluded: Int32Array;
  /** Leaf slots per node on each level: branching^(depth - level). */
  private readonly span: number[];

  private constructor(tree: Tree, allowed: Int32Array | undefined, excluded: Int32Array) {
    this.tree = tree;
    this.allowed = allowed;
    this.excluded = excluded;
    const { depth, branching } = tree.layout;
    this.span = Array.from({ length: depth + 1 }, (_, l) => Math.pow(branching, depth - l));
  }

  /**
   * The filter a query asks for, or undefined when it asks for none. Throws a
   * UsageError for a category index outside the tree's categories.
   */
  static of(tree: Tree, history: Int32Array, opts: RetrieveOptions): QueryFilter | undefined {
    const cats = opts.categories;
    if (!opts.excludeHistory && cats === undefined) return undefined;
    let allowed: Int32Array | undefined;
    if (cats !== undefined) {
      validateCategories(tree, cats);
      const lists = slotsByCategory(tree);
      const uniq = [...new Set(cats)];
      if (uniq.length === 1) allowed = lists[uniq[0]];
      else {
        let total = 0;
        for (const c of uniq) total += lists[c].length;
        allowed = new Int32Array(total);
        let o = 0;
        for (const c of uniq) {
          allowed.set(lists[c], o);
          o += lists[c].length;
        }
        allowed.sort();
      }
    }
    let excluded = new Int32Array(0);
    if (opts.excludeHistory && history.length > 0) {
      const slots: number[] = [];
      const cat = tree.items.itemCategory;
      const catSet = cats === undefined ? undefined : new Set(cats);
      for (const it of new Set(history)) {
        if (!(it >= 0 && it < tree.numItems)) continue; // the scorer reports bad history items
        if (catSet && !catSet.has(cat[it])) continue; // not allowed anyway: do not subtract twice
        slots.push(tree.itemLeaf[it]);
      }
      excluded = Int32Array.from(slots).sort();
    }
    if (allowed === undefined && excluded.length === 0) return undefined; // nothing to exclude
    return new QueryFilter(tree, allowed, excluded);
  }

  /** Allowed, non-excluded items below node `code` on level `level`. */
  count(code: number, level: number): number {
    const { layout, subtreeSize } = this.tree;
    const span = this.span[level];
    // leftmost leaf below `code`: (code·k^s + (k^s − 1)/(k − 1)) on the leaf level
    const k = layout.branching;
    const lo = code * span + (span - 1) / (k - 1) - layout.numInternal;
    const hi = lo + span;
    const allowed = this.allowed ? countInRange(this.allowed, lo, hi) : subtreeSize[code];
    return this.excluded.length === 0 ? allowed : allowed - countInRange(this.excluded, lo, hi);
  }

  /** True when node `code` on level `level` holds an allowed, non-excluded item. */
  open(code: number, level: number): boolean {
    return this.count(code, level) > 0;
  }

  /** True when item `item` may be returned. */
  allowsItem(item: number): boolean {
    const leafLevel = this.tree.layout.depth;
    return this.count(this.tree.leafCodeOf(item), leafLevel) > 0;
  }
}
