/**
 * The TDM tree rebuild: recursive balanced k-means over item embeddings.
 *
 * At every node the node's items are split into `branching` groups whose
 * sizes are exactly the sizes `placeInOrder` gives that node's children (k
 * contiguous parts differing by at most one, the larger parts first), then
 * each group is split again, down to single items. The concatenated groups
 * form the leaf order handed to `fromOrder`, so group j of a node is exactly
 * the item set of the node's j-th child.
 *
 * One split is Lloyd's algorithm with the assignment step replaced by an
 * assignment under exact capacities (group j receives exactly cap[j] items):
 * k-means++ seeding from the build's Rng, then up to `iterations` rounds of
 * "balanced assignment → recompute centroids", stopping early when the
 * assignment no longer changes (then the split is a fixed point: the centroids
 * are the groups' means and the groups are the best capacity-respecting
 * assignment to those centroids in the sense below).
 *
 * Cost of item x in group j is the squared Euclidean distance ‖x − c_j‖², the
 * k-means objective. ‖x‖² is the same for every group, so the code compares
 * ‖c_j‖² − 2·x·c_j.
 *
 * Balanced assignment, branching 2: items are ordered by
 * ‖x − c_0‖² − ‖x − c_1‖² ascending and the first cap[0] go to group 0 (a
 * linear-time selection, not a sort). For fixed centroids this is the exact
 * optimum of the capacity-constrained problem (an exchange argument: swapping
 * any a in group 0 with any b in group 1 changes the cost by
 * key(b) − key(a) ≥ 0); in particular the items a too-large side gives up are
 * those nearest the boundary, never arbitrary ones.
 *
 * Balanced assignment, branching k > 2: greedy by regret, then pairwise exact
 * rebalancing. Items are visited in descending regret (second-cheapest cost −
 * cheapest cost; a stable radix sort, ties in ascending item position) and each
 * takes its cheapest group that still has room. Then, for every pair of groups
 * (a, b), the items of a ∪ b are re-split by the exact two-group rule above
 * with the pair's sizes (done as swaps of a's highest against b's lowest
 * a-minus-b costs, touching only the items that can move). Every pair step
 * lowers the cost or leaves the pair alone; a sweep over all pairs that changes
 * nothing means no swap of two items between any two groups lowers the cost.
 * Sweeps stop at the first such sweep or after MAX_PAIR_SWEEPS (2): on large,
 * overlapping nodes pairwise exchange converges slowly (with 8 sweeps the top
 * levels of a 1M-item build still hit the cap, at twice the build time and no
 * measurable purity gain), and the next round refines further anyway.
 *
 * Determinism: all randomness (seeding, selection pivots and samples) comes
 * from one Rng seeded with `seed`, nodes are visited depth-first in a fixed
 * order, and ties (identical embeddings, equal keys) are broken by position.
 *
 * Cost: per node of n items and per round, one dot product per item for k = 2
 * and k for k > 2 (plus O(k · n) per pair sweep), so O(N · dim · k ·
 * iterations · depth) for the tree; the centroid update only touches the items
 * that changed group. Scratch, allocated once per build: two float32 copies of
 * the embeddings (rows are kept in node order so every node reads one
 * contiguous block), a few N-sized int32/float64 arrays and, for k > 2, N · k
 * float64 costs. A node with at most `branching` items is not clustered (each
 * child receives at most one item).
 */
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { fromOrder, type BuildTreeOptions } from './build.js';
import type { Tree, TreeItems } from './tree.js';

/** Options of the k-means tree builder. */
export interface KMeansTreeOptions extends BuildTreeOptions {
  /** Most assignment/centroid rounds per node (default DEFAULT_KMEANS_ITERATIONS). */
  iterations?: number;
}

/** Default number of balanced k-means rounds per node. */
export const DEFAULT_KMEANS_ITERATIONS = 10;

/** Most sweeps of pairwise rebalancing per assignment when branching > 2 (see the module comment). */
const MAX_PAIR_SWEEPS = 2;

/**
 * Builds a tree by recursive balanced k-means over item embeddings (TDM's
 * tree learning step; see the module comment for the algorithm).
 * `embeddings` holds numItems × dim values, row-major (row i is item i).
 * Deterministic for a given seed. Throws a UsageError on bad options, a
 * length mismatch or a non-finite embedding value.
 */
export function buildKMeansTree(items: TreeItems, embeddings: Float32Array, dim: number, opts: KMeansTreeOptions): Tree {
  const order = kMeansLeafOrder(embeddings, items.itemIds.length, dim, opts);
  return fromOrder(items, order, opts, 'kmeans');
}

/**
 * The leaf order `buildKMeansTree` hands to `fromOrder`: item indices such
 * that `placeInOrder` puts each balanced k-means group of every node under
 * its own child. Same validation as `buildKMeansTree`.
 */
export function kMeansLeafOrder(embeddings: Float32Array, numItems: number, dim: number, opts: KMeansTreeOptions): Int32Array {
  assertPositiveInteger('embedding dimension', dim);
  const k = opts.branching;
  if (!Number.isInteger(k) || k < 2) throw new UsageError(`branching must be an integer >= 2, got ${JSON.stringify(k)}`);
  const iterations = opts.iterations ?? DEFAULT_KMEANS_ITERATIONS;
  assertPositiveInteger('k-means iterations', iterations);
  if (!Number.isInteger(opts.seed)) throw new UsageError(`seed must be an integer, got ${JSON.stringify(opts.seed)}`);
  if (!Number.isInteger(numItems) || numItems < 0) throw new UsageError(`number of items must be a non-negative integer, got ${numItems}`);
  if (embeddings.length !== numItems * dim) {
    throw new UsageError(`embeddings hold ${embeddings.length} values, expected ${numItems} items × ${dim} = ${numItems * dim}`);
  }
  for (let i = 0; i < embeddings.length; i++) {
    if (!Number.isFinite(embeddings[i])) {
      throw new UsageError(`embedding of item ${Math.floor(i / dim)} has a non-finite value ${embeddings[i]} at dimension ${i % dim}`);
    }
  }
  const splitter = new Splitter(embeddings, numItems, dim, k, iterations, new Rng(opts.seed));
  splitter.split(0, numItems, 0);
  return splitter.order;
}

/**
 * Scratch and state of one build; positions index `order`. The hot loops are
 * small module-level kernels (one loop each): V8 optimises those reliably,
 * while long methods with several big loops kept falling back to the
 * interpreter after on-stack-replacement deoptimisations (measured: 3× slower).
 */
class Splitter {
  /** Item at each position; segments of it are nodes, kept in ascending item order. */
  readonly order: Int32Array;
  /** Embedding rows in position order (row p belongs to item order[p]), so every node reads a contiguous block. */
  private readonly emb: Float32Array;
  private readonly embTmp: Float32Array;
  private readonly dim: number;
  private readonly k: number;
  private readonly iterations: number;
  private readonly rng: Rng;
  /** Group per position, and the previous round's copy. */
  private readonly label: Int32Array;
  private readonly prevLabel: Int32Array;
  private readonly tmpIdx: Int32Array;
  /** Per-position key (2-group rule, k-means++ distances, pair keys). */
  private readonly key: Float64Array;
  /** Scratch copy for selection. */
  private readonly sel: Float64Array;
  /** Per-position costs, position·k + group (k > 2 only). */
  private readonly cost: Float64Array;
  /** Regret per position as float32, and its bit view (k > 2 only). */
  private readonly regret: Float32Array;
  private readonly regretBits: Uint32Array;
  private readonly sortKey: Uint32Array;
  private readonly sortPos: Int32Array;
  private readonly sortKeyTmp: Uint32Array;
  private readonly sortPosTmp: Int32Array;
  /** Positions of each group, in CSR form with group j at [capStart[j], capStart[j] + cap[j]). */
  private readonly members: Int32Array;
  private readonly pairPos: Int32Array;
  private readonly centroids: Float64Array;
  /** Per-group sums of the rows, updated by the rows that change group. */
  private readonly sums: Float64Array;
  private readonly cnorm: Float64Array;
  private readonly w: Float64Array;
  private readonly cap: Int32Array;
  private readonly capStart: Int32Array;
  private readonly room: Int32Array;
  private readonly radixCount: Int32Array;
  /** Child bounds of the nodes on the current recursion path, k + 1 per depth. */
  private readonly bounds: Int32Array;
  /** Result of selectWithCount: [value, number of keys below it]. */
  private readonly found = new Float64Array(2);

  constructor(emb: Float32Array, n: number, dim: number, k: number, iterations: number, rng: Rng) {
    this.emb = emb.slice(0, n * dim);
    this.embTmp = new Float32Array(n * dim);
    this.dim = dim;
    this.k = k;
    this.iterations = iterations;
    this.rng = rng;
    this.order = new Int32Array(n);
    for (let i = 0; i < n; i++) this.order[i] = i;
    this.label = new Int32Array(n);
    this.prevLabel = new Int32Array(n);
    this.tmpIdx = new Int32Array(n);
    this.key = new Float64Array(n);
    this.sel = new Float64Array(n);
    const big = k > 2 && n > k;
    this.cost = new Float64Array(big ? n * k : 0);
    this.regret = new Float32Array(big ? n : 0);
    this.regretBits = new Uint32Array(this.regret.buffer);
    this.sortKey = new Uint32Array(big ? n : 0);
    this.sortPos = new Int32Array(big ? n : 0);
    this.sortKeyTmp = new Uint32Array(big ? n : 0);
    this.sortPosTmp = new Int32Array(big ? n : 0);
    this.members = new Int32Array(big ? n : 0);
    this.pairPos = new Int32Array(big ? n : 0);
    this.centroids = new Float64Array(k * dim);
    this.sums = new Float64Array(k * dim);
    this.cnorm = new Float64Array(k);
    this.w = new Float64Array(dim);
    this.cap = new Int32Array(k);
    this.capStart = new Int32Array(k + 1);
    this.room = new Int32Array(k);
    this.radixCount = new Int32Array(256);
    // depth of the recursion ≤ ⌈log_k n⌉ ≤ 31 (n < 2^31)
    this.bounds = new Int32Array(33 * (k + 1));
  }

  /** Splits positions [lo, hi) into k balanced groups and recurses. */
  split(lo: number, hi: number, depth: number): void {
    const n = hi - lo;
    const k = this.k;
    if (n <= k) return; // every child gets at most one item: nothing to cluster
    const base = Math.floor(n / k);
    const extra = n % k;
    const { cap, capStart } = this;
    capStart[0] = lo;
    for (let j = 0; j < k; j++) {
      cap[j] = base + (j < extra ? 1 : 0);
      capStart[j + 1] = capStart[j] + cap[j];
    }
    this.seedCentroids(lo, hi);
    const { label, prevLabel, sums, emb, dim, iterations } = this;
    for (let it = 0; it < iterations; it++) {
      if (it > 0) copyInts(label, lo, prevLabel, lo, hi - lo);
      if (k === 2) this.assignTwo(lo, hi);
      else this.assignMany(lo, hi);
      if (it === 0) {
        if (iterations === 1) break;
        sums.fill(0);
        sumRowsByLabel(emb, dim, label, sums, lo, hi);
      } else if (applyMoves(emb, dim, label, prevLabel, sums, lo, hi) === 0) break; // a fixed point
      if (it + 1 < iterations) this.centroidsFromSums();
    }
    this.partition(lo, hi);
    // capStart is overwritten by the recursion: take the child bounds first
    const { bounds } = this;
    const at = depth * (k + 1);
    copyInts(capStart, 0, bounds, at, k + 1);
    for (let j = 0; j < k; j++) this.split(bounds[at + j], bounds[at + j + 1], depth + 1);
  }

  /** k-means++ seeding: first centroid uniform, each next one with probability ∝ squared distance to the nearest chosen. */
  private seedCentroids(lo: number, hi: number): void {
    const { k, dim, emb, centroids, key, rng } = this;
    const n = hi - lo;
    const first = lo + rng.int(n);
    copyRow(emb, first * dim, centroids, 0, dim);
    let total = minDist2(emb, dim, centroids, 0, key, lo, hi, true);
    for (let j = 1; j < k; j++) {
      let pick = total > 0 ? pickByWeight(key, lo, hi, rng.next() * total) : -1;
      if (pick < 0) pick = lo + rng.int(n); // all items coincide with chosen centroids
      copyRow(emb, pick * dim, centroids, j * dim, dim);
      if (j + 1 < k) total = minDist2(emb, dim, centroids, j * dim, key, lo, hi, false);
    }
    this.updateNorms();
  }

  private updateNorms(): void {
    const { k, dim, centroids, cnorm } = this;
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) s += centroids[j * dim + d] * centroids[j * dim + d];
      cnorm[j] = s;
    }
  }

  /** Centroids := means of the current groups, from their row sums (every group holds cap[j] ≥ 1 rows). */
  private centroidsFromSums(): void {
    const { k, dim, centroids, sums, cap } = this;
    for (let j = 0; j < k; j++) {
      const inv = 1 / cap[j];
      for (let d = 0; d < dim; d++) centroids[j * dim + d] = sums[j * dim + d] * inv;
    }
    this.updateNorms();
  }

  /** Exact balanced 2-group assignment: key = ‖x−c0‖² − ‖x−c1‖², the cap[0] smallest keys go to group 0. */
  private assignTwo(lo: number, hi: number): void {
    const { dim, emb, centroids, cnorm, key, w } = this;
    for (let d = 0; d < dim; d++) w[d] = centroids[d] - centroids[dim + d];
    twoGroupKeys(emb, dim, w, cnorm[0] - cnorm[1], key, lo, hi);
    // the cap[0] smallest keys go to group 0; equal keys at the threshold in position order
    const m = hi - lo;
    const take = this.cap[0];
    selectWithCount(key, lo, m, take - 1, this.sel, this.rng, this.found);
    labelByThreshold(key, lo, m, this.found[0], take - this.found[1], this.label);
  }

  /** Balanced k-group assignment: greedy by regret, then pairwise exact rebalancing sweeps. */
  private assignMany(lo: number, hi: number): void {
    const { k, dim, emb, centroids, cnorm, cost, label, regret, regretBits, sortKey, sortPos, room, cap, capStart, members, key, pairPos } = this;
    const n = hi - lo;
    costsAndRegrets(emb, dim, k, centroids, cnorm, cost, label, regret, lo, hi);
    regretSortKeys(regretBits, sortKey, sortPos, lo, n);
    radixSort(sortKey, sortPos, this.sortKeyTmp, this.sortPosTmp, n, this.radixCount);
    room.set(cap);
    greedyFill(sortPos, n, label, cost, k, room);
    // member lists: group j at [capStart[j], capStart[j] + cap[j]), positions ascending
    room.fill(0);
    for (let p = lo; p < hi; p++) {
      const g = label[p];
      members[capStart[g] + room[g]++] = p;
    }
    for (let sweep = 0; sweep < MAX_PAIR_SWEEPS; sweep++) {
      let changed = 0;
      for (let a = 0; a < k; a++) for (let b = a + 1; b < k; b++) changed += this.rebalancePair(a, b, lo);
      if (changed === 0) break;
    }
  }

  /**
   * The exact 2-group re-split of groups a and b (sizes kept): with key =
   * cost in a − cost in b, a must end up holding the cap[a] smallest keys of
   * a ∪ b. Members of a with keys ≤ b's minimum and members of b with keys ≥
   * a's maximum stay put, so only the remaining candidates are gathered and
   * the threshold is selected among them; then the members beyond it are
   * swapped pairwise (ties at the threshold stay where they are as far as
   * possible). Afterwards every key in a is ≤ every key in b, the optimum for
   * the pair. Returns the number of items moved.
   */
  private rebalancePair(a: number, b: number, lo: number): number {
    const { cost, k, members, capStart, cap, key, sel, label, pairPos, found } = this;
    const sa = capStart[a];
    const na = cap[a];
    const sb = capStart[b];
    const nb = cap[b];
    // keyA = cost_a − cost_b over a's members; −(min key over b) = max of cost_b − cost_a over b's members
    const maxA = maxKey(cost, k, a, b, members, sa, na);
    const minB = -maxKey(cost, k, b, a, members, sb, nb);
    if (!(maxA > minB)) return 0; // already optimal
    const la = gatherKeys(cost, k, a, b, members, sa, na, minB, true, key, lo);
    const lb = gatherKeys(cost, k, a, b, members, sb, nb, maxA, false, key, lo + la);
    // a keeps its non-candidates and must hold the la smallest candidate keys
    selectWithCount(key, lo, la + lb, la - 1, sel, this.rng, found);
    const v = found[0];
    const keep = la - found[1]; // how many keys equal to v a ends up with
    countAboveAndAt(key, lo, la, v, found);
    const tiesA = found[1];
    const outTies = tiesA > keep ? tiesA - keep : 0;
    const inTies = keep > tiesA ? keep - tiesA : 0;
    const s = found[0] + outTies;
    pickBeyond(cost, k, a, b, members, sa, na, v, outTies, pairPos, lo);
    pickBeyond(cost, k, b, a, members, sb, nb, -v, inTies, pairPos, lo + s);
    for (let i = 0; i < s; i++) {
      const ia = pairPos[lo + i];
      const ib = pairPos[lo + s + i];
      const pa = members[ia];
      members[ia] = members[ib];
      members[ib] = pa;
      label[pa] = b;
      label[members[ia]] = a;
    }
    return 2 * s;
  }

  /** Stable partition of order[lo, hi) and its embedding rows by label: group j lands at [capStart[j], capStart[j+1]). */
  private partition(lo: number, hi: number): void {
    const { k, dim, order, emb, embTmp, label, tmpIdx, capStart, room } = this;
    for (let j = 0; j < k; j++) room[j] = capStart[j];
    permuteByLabel(order, emb, dim, label, room, tmpIdx, embTmp, lo, hi);
    copyInts(tmpIdx, lo, order, lo, hi - lo);
    if (hi - lo > 64) emb.set(embTmp.subarray(lo * dim, hi * dim), lo * dim);
    else for (let i = lo * dim; i < hi * dim; i++) emb[i] = embTmp[i];
  }
}

/** dst[dstAt, dstAt + count) := src[srcAt, srcAt + count) (no allocation for the many tiny copies). */
function copyInts(src: Int32Array, srcAt: number, dst: Int32Array, dstAt: number, count: number): void {
  if (count > 64) dst.set(src.subarray(srcAt, srcAt + count), dstAt);
  else for (let i = 0; i < count; i++) dst[dstAt + i] = src[srcAt + i];
}

/** A float32 row into a float64 buffer. */
function copyRow(src: Float32Array, srcAt: number, dst: Float64Array, dstAt: number, dim: number): void {
  for (let d = 0; d < dim; d++) dst[dstAt + d] = src[srcAt + d];
}

/** Moves the rows whose group changed (prev → label) between the group sums; returns how many changed. */
function applyMoves(emb: Float32Array, dim: number, label: Int32Array, prev: Int32Array, sums: Float64Array, lo: number, hi: number): number {
  let changed = 0;
  for (let p = lo; p < hi; p++) {
    const to = label[p];
    const from = prev[p];
    if (to === from) continue;
    changed++;
    const r = p * dim;
    const t = to * dim;
    const f = from * dim;
    for (let d = 0; d < dim; d++) {
      const x = emb[r + d];
      sums[t + d] += x;
      sums[f + d] -= x;
    }
  }
  return changed;
}

/**
 * out[p] = squared distance of row p to the centroid at cen[ci ..] (init) or
 * the minimum of out[p] and that distance; returns Σ out[lo, hi).
 */
function minDist2(emb: Float32Array, dim: number, cen: Float64Array, ci: number, out: Float64Array, lo: number, hi: number, init: boolean): number {
  let total = 0;
  for (let p = lo; p < hi; p++) {
    const d2 = sqDist(emb, p * dim, cen, ci, dim);
    const v = init || d2 < out[p] ? d2 : out[p];
    out[p] = v;
    total += v;
  }
  return total;
}

/** The first position of [lo, hi) whose cumulative weight exceeds r (the last positive one on round-off; -1 if none). */
function pickByWeight(weight: Float64Array, lo: number, hi: number, r: number): number {
  let pick = -1;
  for (let p = lo; p < hi; p++) {
    const x = weight[p];
    if (x > 0) {
      pick = p;
      r -= x;
      if (r < 0) return p;
    }
  }
  return pick;
}

/** centroids[label[p]] += row p for p in [lo, hi). */
function sumRowsByLabel(emb: Float32Array, dim: number, label: Int32Array, centroids: Float64Array, lo: number, hi: number): void {
  for (let p = lo; p < hi; p++) {
    const r = p * dim;
    const c = label[p] * dim;
    for (let d = 0; d < dim; d++) centroids[c + d] += emb[r + d];
  }
}

/** key[p] = b − 2·(row p · w): ‖x−c0‖² − ‖x−c1‖² up to the common ‖x‖² when w = c0 − c1, b = ‖c0‖² − ‖c1‖². */
function twoGroupKeys(emb: Float32Array, dim: number, w: Float64Array, b: number, key: Float64Array, lo: number, hi: number): void {
  for (let p = lo; p < hi; p++) key[p] = b - 2 * dot(emb, p * dim, w, 0, dim);
}

/** Number of key[lo, lo + m) below v. */
function countLess(key: Float64Array, lo: number, m: number, v: number): number {
  let less = 0;
  for (let i = lo; i < lo + m; i++) if (key[i] < v) less++;
  return less;
}

/** Segments at least this long are selected through a sample (see selectWithCount). */
const SAMPLED_SELECT_MIN = 4096;

/**
 * The value v of rank r (0-based) among key[lo, lo + m) and how many keys are
 * below v, written to out[0] and out[1]; `sel` is scratch. Long segments first
 * bracket the rank with the order statistics of a seeded random sample of
 * ~8·√m keys (± 4 sample standard deviations), gather the keys inside the
 * bracket in one pass and select among those (Floyd–Rivest style, about one
 * pass instead of four); when the bracket misses, or for short segments, a
 * plain quickselect over a copy.
 */
function selectWithCount(key: Float64Array, lo: number, m: number, r: number, sel: Float64Array, rng: Rng, out: Float64Array): void {
  if (m >= SAMPLED_SELECT_MIN) {
    const size = Math.floor(8 * Math.sqrt(m));
    for (let i = 0; i < size; i++) sel[i] = key[lo + rng.int(m)];
    const sample = sel.subarray(0, size).sort();
    const t = Math.floor((r / m) * size);
    const delta = Math.ceil(4 * Math.sqrt(size));
    const lowV = t - delta < 0 ? -Infinity : sample[t - delta];
    const highV = t + delta >= size ? Infinity : sample[t + delta];
    const mid = gatherBracket(key, lo, m, lowV, highV, sel, out);
    const below = out[0];
    if (below <= r && r < below + mid) {
      const v = selectRank(sel, mid, r - below, rng);
      out[0] = v;
      out[1] = below + countLess(sel, 0, mid, v);
      return;
    }
  }
  if (m > 64) sel.set(key.subarray(lo, lo + m));
  else for (let i = 0; i < m; i++) sel[i] = key[lo + i];
  const v = selectRank(sel, m, r, rng);
  out[0] = v;
  out[1] = countLess(key, lo, m, v);
}

/** Copies the keys of key[lo, lo + m) within [lowV, highV] to sel[0, …) and returns how many; out[0] := how many are below lowV. */
function gatherBracket(key: Float64Array, lo: number, m: number, lowV: number, highV: number, sel: Float64Array, out: Float64Array): number {
  let mid = 0;
  let below = 0;
  for (let i = lo; i < lo + m; i++) {
    const x = key[i];
    if (x < lowV) below++;
    else if (x <= highV) sel[mid++] = x;
  }
  out[0] = below;
  return mid;
}

/** label[p] := 0 for the keys of [lo, lo + m) below v and the first `ties` equal to v, else 1. */
function labelByThreshold(key: Float64Array, lo: number, m: number, v: number, ties: number, label: Int32Array): void {
  for (let p = lo; p < lo + m; p++) {
    const x = key[p];
    let g = 1;
    if (x < v) g = 0;
    else if (x === v && ties > 0) {
      g = 0;
      ties--;
    }
    label[p] = g;
  }
}

/** cost[p·k + j] = ‖c_j‖² − 2·x·c_j; label[p] = cheapest group; regret[p − lo] = second-cheapest − cheapest. */
function costsAndRegrets(emb: Float32Array, dim: number, k: number, centroids: Float64Array, cnorm: Float64Array, cost: Float64Array, label: Int32Array, regret: Float32Array, lo: number, hi: number): void {
  for (let p = lo; p < hi; p++) {
    const r = p * dim;
    let best = Infinity;
    let second = Infinity;
    let bestJ = 0;
    for (let j = 0; j < k; j++) {
      const v = cnorm[j] - 2 * dot(emb, r, centroids, j * dim, dim);
      cost[p * k + j] = v;
      if (v < best) {
        second = best;
        best = v;
        bestJ = j;
      } else if (v < second) second = v;
    }
    label[p] = bestJ;
    regret[p - lo] = second - best;
  }
}

/** Sort keys for descending regret: regrets are non-negative floats, whose bits ascend with the value. */
function regretSortKeys(regretBits: Uint32Array, sortKey: Uint32Array, sortPos: Int32Array, lo: number, n: number): void {
  for (let i = 0; i < n; i++) {
    sortKey[i] = ~regretBits[i] >>> 0;
    sortPos[i] = lo + i;
  }
}

/** Visits positions in the given order; each takes its cheapest group with room (label holds the cheapest overall). */
function greedyFill(sortPos: Int32Array, n: number, label: Int32Array, cost: Float64Array, k: number, room: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const p = sortPos[i];
    let g = label[p];
    if (room[g] === 0) {
      let best = Infinity;
      for (let j = 0; j < k; j++) {
        if (room[j] > 0 && cost[p * k + j] < best) {
          best = cost[p * k + j];
          g = j;
        }
      }
    }
    label[p] = g;
    room[g]--;
  }
}

/** Max over members[start, start + count) of cost[p·k + x] − cost[p·k + y]. */
function maxKey(cost: Float64Array, k: number, x: number, y: number, members: Int32Array, start: number, count: number): number {
  let max = -Infinity;
  for (let i = start; i < start + count; i++) {
    const p = members[i];
    const v = cost[p * k + x] - cost[p * k + y];
    if (v > max) max = v;
  }
  return max;
}

/**
 * Writes the keys cost[p·k + a] − cost[p·k + b] of members[start, start + count)
 * that lie above `bound` (above = true) or below it (above = false) to
 * out[at, …); returns how many.
 */
function gatherKeys(cost: Float64Array, k: number, a: number, b: number, members: Int32Array, start: number, count: number, bound: number, above: boolean, out: Float64Array, at: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const p = members[i];
    const v = cost[p * k + a] - cost[p * k + b];
    if (above ? v > bound : v < bound) out[at + n++] = v;
  }
  return n;
}

/** out[0] := how many of key[lo, lo + m) exceed v, out[1] := how many equal it. */
function countAboveAndAt(key: Float64Array, lo: number, m: number, v: number, out: Float64Array): void {
  let above = 0;
  let at = 0;
  for (let i = lo; i < lo + m; i++) {
    const x = key[i];
    if (x > v) above++;
    else if (x === v) at++;
  }
  out[0] = above;
  out[1] = at;
}

/**
 * Writes to out[at, …) the indices into `members` of the members whose key
 * cost[p·k + x] − cost[p·k + y] exceeds t, plus the first `ties` whose key equals t.
 */
function pickBeyond(cost: Float64Array, k: number, x: number, y: number, members: Int32Array, start: number, count: number, t: number, ties: number, out: Int32Array, at: number): void {
  let n = at;
  for (let i = start; i < start + count; i++) {
    const p = members[i];
    const v = cost[p * k + x] - cost[p * k + y];
    if (v > t) out[n++] = i;
    else if (v === t && ties > 0) {
      out[n++] = i;
      ties--;
    }
  }
}

/** Stable scatter of order and rows of [lo, hi) to next[label] (advanced as it goes) in the tmp buffers. */
function permuteByLabel(order: Int32Array, emb: Float32Array, dim: number, label: Int32Array, next: Int32Array, tmpIdx: Int32Array, embTmp: Float32Array, lo: number, hi: number): void {
  for (let p = lo; p < hi; p++) {
    const q = next[label[p]]++;
    tmpIdx[q] = order[p];
    const src = p * dim;
    const dst = q * dim;
    for (let d = 0; d < dim; d++) embTmp[dst + d] = emb[src + d];
  }
}

/**
 * Dot product of a[ai, ai + dim) and b[bi, bi + dim). Four accumulators
 * break the chain of dependent additions (the hot loop of the build).
 */
function dot(a: Float32Array, ai: number, b: Float64Array, bi: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    s0 += a[ai + d] * b[bi + d];
    s1 += a[ai + d + 1] * b[bi + d + 1];
    s2 += a[ai + d + 2] * b[bi + d + 2];
    s3 += a[ai + d + 3] * b[bi + d + 3];
  }
  for (; d < dim; d++) s0 += a[ai + d] * b[bi + d];
  return s0 + s1 + (s2 + s3);
}

/** Squared Euclidean distance between a[ai, ai + dim) and b[bi, bi + dim) (four accumulators, as dot). */
function sqDist(a: Float32Array, ai: number, b: Float64Array, bi: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 3 < dim; d += 4) {
    const v0 = a[ai + d] - b[bi + d];
    const v1 = a[ai + d + 1] - b[bi + d + 1];
    const v2 = a[ai + d + 2] - b[bi + d + 2];
    const v3 = a[ai + d + 3] - b[bi + d + 3];
    s0 += v0 * v0;
    s1 += v1 * v1;
    s2 += v2 * v2;
    s3 += v3 * v3;
  }
  for (; d < dim; d++) {
    const v = a[ai + d] - b[bi + d];
    s0 += v * v;
  }
  return s0 + s1 + (s2 + s3);
}

/**
 * The value of rank r (0-based) among a[0, m): quickselect with a seeded
 * random pivot and Hoare partitioning (linear on average, also when many keys
 * are equal: equal keys split evenly), insertion sort below 17 keys.
 * Reorders a[0, m).
 */
function selectRank(a: Float64Array, m: number, r: number, rng: Rng): number {
  let lo = 0;
  let hi = m - 1;
  while (hi - lo > 16) {
    // Hoare partition around a random pivot: afterwards a[lo..j] ≤ pivot, a[i..hi] ≥ pivot
    // and everything strictly between j and i equals the pivot
    const pivot = a[lo + rng.int(hi - lo + 1)];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (pivot < a[j]) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (r <= j) hi = j;
    else if (r >= i) lo = i;
    else return pivot;
  }
  // insertion sort of the short rest
  for (let i = lo + 1; i <= hi; i++) {
    const x = a[i];
    let j = i - 1;
    while (j >= lo && a[j] > x) {
      a[j + 1] = a[j];
      j--;
    }
    a[j + 1] = x;
  }
  return a[r];
}

/** Stable LSD radix sort of keys[0, m) (8 bits a pass, 4 passes) carrying vals along; the result ends in keys/vals. */
function radixSort(keys: Uint32Array, vals: Int32Array, tmpKeys: Uint32Array, tmpVals: Int32Array, m: number, count: Int32Array): void {
  let srcK = keys;
  let srcV = vals;
  let dstK = tmpKeys;
  let dstV = tmpVals;
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0);
    for (let i = 0; i < m; i++) count[(srcK[i] >>> shift) & 255]++;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < m; i++) {
      const kk = srcK[i];
      const at = count[(kk >>> shift) & 255]++;
      dstK[at] = kk;
      dstV[at] = srcV[i];
    }
    const tk = srcK;
    srcK = dstK;
    dstK = tk;
    const tv = srcV;
    srcV = dstV;
    dstV = tv;
  }
}
