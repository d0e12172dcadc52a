/**
 * How well a tree keeps planted groups of items together (e.g. synthetic
 * interest clusters or categories), and how much a rebuild moved items.
 *
 * `groupOf[i]` is the planted group of item i (a non-negative integer), or -1
 * when unknown; items with an unknown group are ignored by every figure.
 * Every figure is computed in O(numItems + number of groups · depth) per
 * level, using the fact that the items below a node at level l occupy one
 * contiguous range of leaf slots.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';

/** Largest group id accepted (groups are counted in dense arrays). */
const MAX_GROUP = (1 << 24) - 1;

/**
 * Group purity at `level` (0 = root … depth = leaves): for every node of the
 * level, the number of its known-group items that belong to its most frequent
 * group, summed over nodes and divided by the number of known-group items.
 * That is the node purities (majority share) averaged with weights equal to
 * the nodes' known-group item counts. 1 means no node mixes groups; NaN when
 * no item has a known group. Throws a UsageError on a bad level or groupOf.
 */
export function groupPurity(tree: Tree, groupOf: Int32Array, level: number): number {
  const numGroups = checkGroups(tree, groupOf);
  const { depth } = tree.layout;
  if (!Number.isInteger(level) || level < 0 || level > depth) {
    throw new UsageError(`level must be an integer in 0..${depth}, got ${JSON.stringify(level)}`);
  }
  return purityAt(tree, groupOf, numGroups, level);
}

/**
 * Group purity (see groupPurity) at every level strictly between the root and
 * the leaves: element i is the purity at level i + 1, so the result has
 * depth − 1 entries (none for a depth-1 tree).
 */
export function purityByLevel(tree: Tree, groupOf: Int32Array): number[] {
  const numGroups = checkGroups(tree, groupOf);
  const out: number[] = [];
  for (let l = 1; l < tree.layout.depth; l++) out.push(purityAt(tree, groupOf, numGroups, l));
  return out;
}

/**
 * Group cohesion, a figure that does not depend on group sizes. For a group
 * g with m_g ≥ 2 known items:
 *
 * - L_g is the level of the deepest node holding all of g's items (the lowest
 *   common ancestor of their leaves);
 * - I_g is the deepest level at which some node of this tree holds at least
 *   m_g items (in any order), i.e. the deepest level at which a perfectly
 *   clustered tree of the same shape could hold the group in one node.
 *
 * A node holding all of g has at least m_g items, so 0 ≤ L_g ≤ I_g, and the
 * group's cohesion is L_g / I_g (1: as tightly held as the tree's node sizes
 * allow; 0: only the root holds it). The result is the unweighted mean over
 * groups with m_g ≥ 2 and I_g ≥ 1 (groups of one item are trivially held; a
 * group only the root can hold carries no information); NaN when there is no
 * such group. Throws a UsageError on a bad groupOf.
 */
export function groupCohesion(tree: Tree, groupOf: Int32Array): number {
  const numGroups = checkGroups(tree, groupOf);
  const { layout, subtreeSize, itemLeaf } = tree;
  const { depth, branching: k } = layout;
  // largest node size per level (non-increasing with the level)
  const maxSize = new Int32Array(depth + 1);
  for (let l = 0; l <= depth; l++) {
    let m = 0;
    for (let c = layout.levelStarts[l]; c < layout.levelStarts[l + 1]; c++) if (subtreeSize[c] > m) m = subtreeSize[c];
    maxSize[l] = m;
  }
  const count = new Int32Array(numGroups);
  const minSlot = new Int32Array(numGroups).fill(0x7fffffff);
  const maxSlot = new Int32Array(numGroups).fill(-1);
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i];
    if (g < 0) continue;
    count[g]++;
    const s = itemLeaf[i];
    if (s < minSlot[g]) minSlot[g] = s;
    if (s > maxSlot[g]) maxSlot[g] = s;
  }
  let sum = 0;
  let groups = 0;
  for (let g = 0; g < numGroups; g++) {
    const m = count[g];
    if (m < 2) continue;
    let ideal = 0;
    while (ideal < depth && maxSize[ideal + 1] >= m) ideal++;
    if (ideal === 0) continue;
    // the node at level l holding slot s is ⌊s / k^(depth−l)⌋ on that level: the LCA is
    // the deepest level where the extreme slots fall in the same node
    let lca = depth;
    let a = minSlot[g];
    let b = maxSlot[g];
    while (a !== b) {
      a = Math.floor(a / k);
      b = Math.floor(b / k);
      lca--;
    }
    sum += lca / ideal;
    groups++;
  }
  return groups === 0 ? NaN : sum / groups;
}

/**
 * Share of items whose leaf slot differs between two trees over the same
 * items (same item ids in the same order) and the same layout (branching and
 * depth). 0 for identical placements, 1 when every item moved. Throws a
 * UsageError when the trees do not match.
 */
export function movedFraction(before: Tree, after: Tree): number {
  const n = before.numItems;
  if (after.numItems !== n) throw new UsageError(`trees hold different items: ${n} vs ${after.numItems}`);
  const la = before.layout;
  const lb = after.layout;
  if (la.branching !== lb.branching || la.depth !== lb.depth) {
    throw new UsageError(`trees have different layouts: branching ${la.branching} depth ${la.depth} vs branching ${lb.branching} depth ${lb.depth}`);
  }
  const ia = before.items.itemIds;
  const ib = after.items.itemIds;
  if (ia !== ib) {
    for (let i = 0; i < n; i++) {
      if (ia[i] !== ib[i]) throw new UsageError(`trees hold different items: item ${i} is ${JSON.stringify(ia[i])} vs ${JSON.stringify(ib[i])}`);
    }
  }
  if (n === 0) return 0;
  let moved = 0;
  for (let i = 0; i < n; i++) if (before.itemLeaf[i] !== after.itemLeaf[i]) moved++;
  return moved / n;
}

/** Validates groupOf against the tree; returns the number of group ids (max id + 1). */
function checkGroups(tree: Tree, groupOf: Int32Array): number {
  if (!(groupOf instanceof Int32Array)) throw new UsageError('groupOf must be an Int32Array');
  if (groupOf.length !== tree.numItems) {
    throw new UsageError(`groupOf has ${groupOf.length} entries for ${tree.numItems} items`);
  }
  let max = -1;
  for (let i = 0; i < groupOf.length; i++) {
    const g = groupOf[i];
    if (g < -1 || g > MAX_GROUP) throw new UsageError(`group of item ${i} must be -1 (unknown) or in 0..${MAX_GROUP}, got ${g}`);
    if (g > max) max = g;
  }
  return max + 1;
}

/** Σ over nodes of level l of (majority count) / Σ known-group items. */
function purityAt(tree: Tree, groupOf: Int32Array, numGroups: number, level: number): number {
  const { layout, leafItem } = tree;
  const span = Math.pow(layout.branching, layout.depth - level); // leaf slots per node of this level
  const counts = new Int32Array(numGroups);
  const touched = new Int32Array(Math.min(span, tree.numItems));
  let known = 0;
  let majority = 0;
  for (let start = 0; start < leafItem.length; start += span) {
    let nt = 0;
    let best = 0;
    for (let s = start; s < start + span; s++) {
      const item = leafItem[s];
      if (item < 0) continue;
      const g = groupOf[item];
      if (g < 0) continue;
      if (counts[g] === 0) touched[nt++] = g;
      const c = ++counts[g];
      if (c > best) best = c;
      known++;
    }
    majority += best;
    for (let t = 0; t < nt; t++) counts[touched[t]] = 0;
  }
  return known === 0 ? NaN : majority / known;
}
