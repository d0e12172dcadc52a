/**
 * Level-wise sampling (TDM): for a target item, its ancestor at every level
 * is a positive, and nodes drawn uniformly from the same level's non-empty
 * nodes (never the positive) are negatives. Counts grow with depth.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import type { Tree } from '../tree/tree.js';

/**
 * Negatives per level 1..depth. `spec` is either "auto" (⌈level/2⌉, so
 * 1,1,2,2,3,3,…) or an explicit comma list; each count is capped at the
 * level's non-empty nodes minus one.
 */
export function negativesPerLevel(tree: Tree, spec: string | number[] = 'auto'): number[] {
  const depth = tree.layout.depth;
  let wanted: number[];
  if (spec === 'auto') {
    wanted = Array.from({ length: depth }, (_, i) => Math.ceil((i + 1) / 2));
  } else {
    const list = Array.isArray(spec) ? spec : spec.split(',').map((x) => Number(x.trim()));
    if (list.some((x) => !Number.isInteger(x) || x < 0)) {
      throw new UsageError(`negatives must be "auto" or a comma list of non-negative integers, got ${JSON.stringify(spec)}`);
    }
    // a short list repeats its last value for deeper levels
    wanted = Array.from({ length: depth }, (_, i) => list[Math.min(i, list.length - 1)] ?? 0);
  }
  return wanted.map((w, i) => Math.min(w, tree.nonEmptyNodes(i + 1).length - 1));
}

/**
 * Writes the positive and negative node codes for `item` into `codes` at
 * `offset` (level by level: positive first, then that level's negatives) and
 * the labels into `labels`. Returns the number of pairs written.
 */
export function samplePairs(
  tree: Tree,
  item: number,
  negatives: number[],
  rng: Rng,
  codes: Int32Array,
  labels: Float32Array,
  offset: number,
  path: Int32Array,
): number {
  tree.pathOf(item, path);
  let p = offset;
  for (let level = 1; level <= tree.layout.depth; level++) p = sampleLevel(tree, level, path[level], negatives[level - 1], rng, codes, labels, p);
  return p - offset;
}

/**
 * Writes one level's positive (label 1) and `count` negatives (label 0, drawn
 * uniformly from the level's non-empty nodes, never the positive) at `p`;
 * returns the next free position.
 */
export function sampleLevel(
  tree: Tree,
  level: number,
  positive: number,
  count: number,
  rng: Rng,
  codes: Int32Array,
  labels: Float32Array,
  p: number,
): number {
  codes[p] = positive;
  labels[p++] = 1;
  const pool = tree.nonEmptyNodes(level);
  for (let j = 0; j < count; j++) {
    let c = pool[rng.int(pool.length)];
    while (c === positive) c = pool[rng.int(pool.length)];
    codes[p] = c;
    labels[p++] = 0;
  }
  return p;
}
