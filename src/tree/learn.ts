/**
 * JTM tree learning (Zhu et al., "Joint Optimization of Tree-based Index and
 * Deep Model for Recommender Systems", NeurIPS 2019, Algorithm 2).
 *
 * Given the current tree, training pairs (user context, target item) and a
 * node scorer, items are re-assigned to leaves so as to maximise
 *   Σ over pairs Σ over internal levels j ≥ 1 of log p(ancestor_j(target) | user),
 * greedily from the root down, `gap` levels per step:
 *
 * - At step level l every item sits under a node n of level l of the tree
 *   being built. Its candidates are n's descendants at level l + dl,
 *   dl = min(gap, depth − l); its score for candidate c is the sum over its
 *   pairs of the log-probabilities of c's ancestors on levels l+1 …
 *   min(l+dl, depth−1). The leaf level is never scored: a leaf is scored
 *   through its item's own embedding, so that term does not depend on where
 *   the item goes. In a step that reaches the leaves, items are therefore
 *   matched to the last internal level's nodes (sibling leaves would tie),
 *   and an item keeps its own leaf when it stays under the same parent.
 * - Each candidate takes exactly as many items as `placeInOrder` would put
 *   in its subtree for n's item count, so the learned tree is as balanced as
 *   a freshly built one and its subtree sizes are the same.
 * - Items are matched to candidates by deferred acceptance: an item proposes
 *   to its best remaining candidate; a full candidate keeps the items that
 *   would lose most by moving to their next choice (largest regret) and
 *   rejects the rest. Items without pairs keep their place where there is
 *   room and fill what is left in their current leaf order.
 *
 * Cost per step: the scorer sees every (pair, node) row once for each node
 * of the scored levels under the pair's current node that can still receive
 * an item — at most Σ_{d ≤ gap} k^d rows per pair — so time is linear in the
 * number of pairs; the score table of one node (its items × its candidates)
 * is the largest allocation, so memory is linear in items (for a fixed gap).
 */
import { performance } from 'node:perf_hooks';
import { ArborError, UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Rng } from '../core/rng.js';
import { Tree } from './tree.js';

/** Levels assigned per tree-learning step when the caller gives none (the JTM paper's d). */
export const DEFAULT_LEARN_GAP = 7;

/** Default upper bound on (pair, node) rows per scorer call. */
export const DEFAULT_LEARN_ROWS_PER_CALL = 16384;

/** Training pairs as tree learning sees them: only their target items (the scorer knows the users). */
export interface LearnTreeData {
  /** Number of pairs. */
  numPairs: number;
  /** Target item index of each pair (length `numPairs`). */
  target: Int32Array;
}

/**
 * Log-probabilities (≤ 0) of node `nodes[i]`, an internal node code on level
 * `level` of the tree passed to `learnTree`, for the user of pair `pairs[i]`.
 * Returns one value per row (values below −1e6, −∞ included, count as −1e6;
 * NaN is an error). Both argument arrays are reused by the next call (copy
 * them to keep them); the result is read before the next call.
 */
export type PairNodeScorer = (pairs: Int32Array, nodes: Int32Array, level: number) => Float32Array;

/** Tree-learning knobs. */
export interface LearnTreeOptions {
  /** Levels assigned per step (default 7). Memory per step grows as branching^gap. */
  gap?: number;
  /** Pairs used per item: 0 (default) all, otherwise a seeded random subset of at most this many. */
  maxPairsPerItem?: number;
  /** Seed of the pair subsets; recorded in the learned tree's meta. */
  seed: number;
  /** Progress display (silent by default). */
  logger?: Logger;
  /** Upper bound on rows per scorer call (default 16384); exceeded only when one pair needs more nodes of one level. */
  rowsPerCall?: number;
  /**
   * Learn only the first `steps` steps from the root (each `gap` levels;
   * default: all). Below them every item keeps its place under its node
   * where there is room, and newcomers fill the rest in leaf order.
   */
  steps?: number;
}

/** Outcome of `learnTree`. */
export interface LearnTreeResult {
  /** The learned tree: same layout and items, meta `{ init: 'learned', seed }`. */
  tree: Tree;
  /** Fraction of items whose leaf slot changed. */
  moved: number;
  /** Wall-clock seconds spent. */
  seconds: number;
  /** (pair, node) rows scored in total. */
  scoredNodes: number;
}

/**
 * Log-probabilities are floored here, so a scorer may return −∞ (a
 * probability that underflowed) without wiping out the finite part of a
 * path's sum; real log-probabilities of float32 probabilities are ≥ −104.
 */
const LOG_P_FLOOR = -1e6;

/** Calls the scorer and checks that it returned one value per row. */
function callScorer(score: PairNodeScorer, pairs: Int32Array, nodes: Int32Array, level: number, who: string): Float32Array {
  const out = score(pairs, nodes, level);
  if (!out || out.length !== pairs.length) {
    throw new ArborError(`${who}: the scorer returned ${out ? out.length : 'nothing'} values for ${pairs.length} rows on level ${level}`);
  }
  return out;
}

/** A scorer value floored at LOG_P_FLOOR; NaN and +∞ are errors. */
function floored(v: number, who: string, pair: number, node: number, level: number): number {
  if (!(v < Infinity)) throw new ArborError(`${who}: the scorer returned ${v} for pair ${pair}, node ${node} on level ${level}`);
  return v < LOG_P_FLOOR ? LOG_P_FLOOR : v;
}

/**
 * Learns a new leaf assignment for `tree` from training pairs and a node
 * scorer (JTM tree learning). See the module comment for the objective, the
 * capacity rule and the matching. Deterministic for a given input and seed.
 *
 * @throws UsageError on bad options or data (target out of range, …).
 * @throws ArborError when the scorer returns the wrong number of values or NaN.
 */
export function learnTree(tree: Tree, data: LearnTreeData, score: PairNodeScorer, opts: LearnTreeOptions): LearnTreeResult {
  const started = performance.now();
  const gap = opts.gap ?? DEFAULT_LEARN_GAP;
  const maxPairs = opts.maxPairsPerItem ?? 0;
  const rowsPerCall = opts.rowsPerCall ?? DEFAULT_LEARN_ROWS_PER_CALL;
  assertPositiveInteger('tree-learning gap', gap);
  assertNonNegativeInteger('maxPairsPerItem', maxPairs);
  assertPositiveInteger('rows per scorer call', rowsPerCall);
  if (opts.steps !== undefined) assertPositiveInteger('tree-learning steps', opts.steps);
  if (!Number.isInteger(opts.seed)) throw new UsageError(`seed must be an integer, got ${JSON.stringify(opts.seed)}`);
  if (typeof score !== 'function') throw new UsageError('tree learning needs a scorer function');
  assertNonNegativeInteger('numPairs', data.numPairs);
  if (data.target.length !== data.numPairs) {
    throw new UsageError(`tree learning: ${data.target.length} targets for ${data.numPairs} pairs`);
  }
  const logger = opts.logger ?? silentLogger;
  const { layout } = tree;
  const depth = layout.depth;
  const n = tree.numItems;
  const pairs = pairsByItem(n, data, maxPairs, opts.seed);

  // Items in input leaf order; every group of the tree being built is a contiguous run of it.
  const order = new Int32Array(n);
  {
    let q = 0;
    for (const it of tree.leafItem) if (it >= 0) order[q++] = it;
  }
  const ctx: StepContext = {
    tree,
    score,
    pairStart: pairs.start,
    pairList: pairs.list,
    rowsPerCall,
    order,
    scratch: new Scratch(),
    scoredNodes: 0,
  };

  let groupCode = Int32Array.of(0);
  let groupStart = Int32Array.of(0);
  let groupSize = Int32Array.of(n);
  let numGroups = 1;
  const numSteps = Math.ceil(depth / gap);
  const bar = logger.progress('tree learning', numSteps * n);
  let done = 0;
  let reported = 0;
  const reportEvery = Math.max(1, Math.floor((numSteps * n) / 1000));
  try {
    for (let l = 0, step = 1; l < depth; l += gap, step++) {
      const dl = Math.min(gap, depth - l);
      const nextCode = new Int32Array(n);
      const nextStart = new Int32Array(n);
      const nextSize = new Int32Array(n);
      let nextGroups = 0;
      for (let g = 0; g < numGroups; g++) {
        const cands = learnGroup(ctx, groupCode[g], groupStart[g], groupSize[g], l, dl, step <= (opts.steps ?? numSteps));
        let s = groupStart[g];
        for (let c = 0; c < cands.code.length; c++) {
          nextCode[nextGroups] = cands.code[c];
          nextStart[nextGroups] = s;
          nextSize[nextGroups] = cands.cap[c];
          s += cands.cap[c];
          nextGroups++;
        }
        done += groupSize[g];
        if (done - reported >= reportEvery) {
          reported = done;
          bar.update(done, { step: `${step}/${numSteps}`, rows: ctx.scoredNodes });
        }
      }
      groupCode = nextCode;
      groupStart = nextStart;
      groupSize = nextSize;
      numGroups = nextGroups;
    }
    bar.update(done, { step: `${numSteps}/${numSteps}`, rows: ctx.scoredNodes });
  } finally {
    bar.stop();
  }

  const first = layout.numInternal;
  const itemLeaf = new Int32Array(n).fill(-1);
  for (let g = 0; g < numGroups; g++) {
    if (groupSize[g] !== 1 || layout.level(groupCode[g]) !== depth) {
      throw new ArborError(`tree learning: internal error, group ${groupCode[g]} of ${groupSize[g]} items at the end`);
    }
    itemLeaf[order[groupStart[g]]] = groupCode[g] - first;
  }
  let movedCount = 0;
  for (let i = 0; i < n; i++) if (itemLeaf[i] !== tree.itemLeaf[i]) movedCount++;
  const learned = new Tree(layout, tree.items, itemLeaf, { init: 'learned', seed: opts.seed });
  return {
    tree: learned,
    moved: n === 0 ? 0 : movedCount / n,
    seconds: (performance.now() - started) / 1000,
    scoredNodes: ctx.scoredNodes,
  };
}

/**
 * Pairs grouped by target item (CSR: pairs of item i are
 * `list[start[i] .. start[i+1])`, ascending), at most `maxPerItem` per item
 * (0: all) chosen by a seeded partial shuffle.
 */
function pairsByItem(n: number, data: LearnTreeData, maxPerItem: number, seed: number): { start: Int32Array; list: Int32Array } {
  const { numPairs, target } = data;
  const count = new Int32Array(n + 1);
  for (let p = 0; p < numPairs; p++) {
    const t = target[p];
    if (!(t >= 0 && t < n)) throw new UsageError(`tree learning: pair ${p} has target item ${t}, outside 0..${n - 1}`);
    count[t + 1]++;
  }
  for (let i = 0; i < n; i++) count[i + 1] += count[i];
  const all = new Int32Array(numPairs);
  const fill = count.slice(0, n);
  for (let p = 0; p < numPairs; p++) all[fill[target[p]]++] = p;
  if (maxPerItem === 0) return { start: count, list: all };

  const rng = new Rng(seed);
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i] + Math.min(maxPerItem, count[i + 1] - count[i]);
  const list = new Int32Array(start[n]);
  for (let i = 0; i < n; i++) {
    const lo = count[i];
    const cnt = count[i + 1] - lo;
    if (cnt <= maxPerItem) {
      list.set(all.subarray(lo, lo + cnt), start[i]);
      continue;
    }
    const seg = all.subarray(lo, lo + cnt);
    for (let j = 0; j < maxPerItem; j++) {
      const r = j + rng.int(cnt - j);
      const t = seg[j];
      seg[j] = seg[r];
      seg[r] = t;
    }
    const chosen = seg.slice(0, maxPerItem).sort();
    list.set(chosen, start[i]);
  }
  return { start, list };
}

/** State shared by the groups of all steps. */
interface StepContext {
  tree: Tree;
  score: PairNodeScorer;
  pairStart: Int32Array;
  pairList: Int32Array;
  rowsPerCall: number;
  /** Items, grouped by their node in the tree being built. */
  order: Int32Array;
  scratch: Scratch;
  scoredNodes: number;
}

/** Reusable buffers, grown on demand. */
class Scratch {
  matrix = new Float64Array(0);
  reqPairs = new Int32Array(0);
  reqNodes = new Int32Array(0);
  accA = new Float64Array(0);
  accB = new Float64Array(0);

  /** A zeroed score table of `size` entries. */
  table(size: number, what: () => string): Float64Array {
    if (this.matrix.length < size) {
      this.matrix = new Float64Array(0);
      try {
        this.matrix = new Float64Array(size);
      } catch (e) {
        if (e instanceof RangeError) throw new ArborError(`tree learning: cannot allocate ${what()}; use a smaller gap`);
        throw e;
      }
      return this.matrix.subarray(0, size);
    }
    const t = this.matrix.subarray(0, size);
    t.fill(0);
    return t;
  }

  /** Request and accumulator buffers for `rows` rows. */
  rows(rows: number): void {
    if (this.reqPairs.length < rows) {
      this.reqPairs = new Int32Array(rows);
      this.reqNodes = new Int32Array(rows);
      this.accA = new Float64Array(rows);
      this.accB = new Float64Array(rows);
    }
  }
}

/** The nodes under a group's node that can receive items, level by level. */
interface SubtreePlan {
  /** Codes per relative depth d = 0 … dl (ascending). */
  code: Int32Array[];
  /** Capacity (placeInOrder item count) per node. */
  cap: Int32Array[];
  /** Index of each node's parent in the previous depth's arrays. */
  parent: Int32Array[];
}

/**
 * Splits `m` items under `node` as placeInOrder does (k contiguous parts
 * whose sizes differ by at most one, larger parts first) down `dl` levels,
 * keeping only nodes that receive at least one item.
 */
function planSubtree(node: number, m: number, k: number, dl: number): SubtreePlan {
  const plan: SubtreePlan = { code: [Int32Array.of(node)], cap: [Int32Array.of(m)], parent: [Int32Array.of(-1)] };
  for (let d = 1; d <= dl; d++) {
    const pc = plan.code[d - 1];
    const pcap = plan.cap[d - 1];
    let cnt = 0;
    for (let i = 0; i < pc.length; i++) cnt += Math.min(pcap[i], k);
    const code = new Int32Array(cnt);
    const cap = new Int32Array(cnt);
    const parent = new Int32Array(cnt);
    let q = 0;
    for (let i = 0; i < pc.length; i++) {
      const c = pcap[i];
      const base = Math.floor(c / k);
      const extra = c % k;
      const fc = pc[i] * k + 1;
      const nch = Math.min(c, k);
      for (let j = 0; j < nch; j++) {
        code[q] = fc + j;
        cap[q] = base + (j < extra ? 1 : 0);
        parent[q] = i;
        q++;
      }
    }
    plan.code.push(code);
    plan.cap.push(cap);
    plan.parent.push(parent);
  }
  return plan;
}

/** Index of `code` in the ascending array `codes`, −1 if absent. */
function indexOf(codes: Int32Array, code: number): number {
  let lo = 0;
  let hi = codes.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = codes[mid];
    if (v === code) return mid;
    if (v < code) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * One node of one step: scores the items of the group `order[lo .. lo+m)`
 * under `node` (level l) for its candidates dl levels down, matches them to
 * candidates within capacity, and reorders the run by candidate. Returns
 * the candidates (ascending codes) with their capacities, which are also the
 * sizes of the new runs in order.
 */
function learnGroup(ctx: StepContext, node: number, lo: number, m: number, l: number, dl: number, scored: boolean): { code: Int32Array; cap: Int32Array } {
  const { tree, order, pairStart } = ctx;
  const { layout } = tree;
  const depth = layout.depth;
  const plan = planSubtree(node, m, layout.branching, dl);
  // Scored levels: l+1 … l+dI (internal levels only).
  const dI = Math.min(dl, depth - 1 - l);
  // Items are matched to the nodes of the deepest scored level (relative depth mD). When the step
  // reaches the leaves (dI = dl − 1), sibling leaves would score alike: matching to the leaves
  // themselves would make every first choice's regret 0 and let ties, not regrets, decide.
  const mD = dI >= 1 ? dI : dl;
  const candCode = plan.code[mD];
  const candCap = plan.cap[mD];
  const K = candCode.length;

  // Candidate each item currently sits under (input tree), −1 if not under this node.
  const current = new Int32Array(m);
  for (let q = 0; q < m; q++) {
    const it = order[lo + q];
    current[q] = indexOf(candCode, layout.ancestorAt(tree.leafCodeOf(it), depth, l + mD));
  }

  // Rows of the score table: items with pairs (all scores are zero for the others).
  let ms = 0;
  const rowPos = new Int32Array(m);
  if (K > 1 && dI >= 1 && scored) {
    for (let q = 0; q < m; q++) {
      const it = order[lo + q];
      if (pairStart[it + 1] > pairStart[it]) rowPos[ms++] = q;
    }
  }

  const choice = new Int32Array(m).fill(-1);
  if (ms > 0) {
    const M = ctx.scratch.table(ms * K, () => `a ${ms} × ${K} score table for node ${node}`);
    accumulateScores(ctx, plan, M, rowPos.subarray(0, ms), lo, K, l, dI);
    const rowCurrent = new Int32Array(ms);
    const rowItem = new Int32Array(ms);
    for (let r = 0; r < ms; r++) {
      rowCurrent[r] = current[rowPos[r]];
      rowItem[r] = order[lo + rowPos[r]];
    }
    const held = match(M, ms, K, candCap, rowCurrent, rowItem);
    for (let r = 0; r < ms; r++) choice[rowPos[r]] = held[r];
  }
  fillRest(choice, current, candCap, node);

  let final = choice;
  if (mD < dl) {
    // Leaves under each matched node: an item keeps its own leaf when it stayed under that node,
    // the others fill the free leaves in leaf order.
    const leafCode = plan.code[dl];
    const leafParent = plan.parent[dl];
    const leafCurrent = new Int32Array(m);
    for (let q = 0; q < m; q++) {
      const c = indexOf(leafCode, tree.leafCodeOf(order[lo + q]));
      leafCurrent[q] = c >= 0 && leafParent[c] === choice[q] ? c : -1;
    }
    final = new Int32Array(m).fill(-1);
    const left = Int32Array.from(plan.cap[dl]);
    for (let q = 0; q < m; q++) {
      const c = leafCurrent[q];
      if (c >= 0 && left[c] > 0) {
        final[q] = c;
        left[c]--;
      }
    }
    // first free leaf under each matched node
    const firstLeaf = new Int32Array(K).fill(-1);
    for (let c = leafCode.length - 1; c >= 0; c--) firstLeaf[leafParent[c]] = c;
    for (let q = 0; q < m; q++) {
      if (final[q] >= 0) continue;
      let c = firstLeaf[choice[q]];
      while (c < leafCode.length && leafParent[c] === choice[q] && left[c] === 0) c++;
      if (c === leafCode.length || leafParent[c] !== choice[q]) throw new ArborError(`tree learning: internal error, no free leaf under node ${candCode[choice[q]]}`);
      final[q] = c;
      left[c]--;
    }
  }
  const outCode = plan.code[dl];
  const outCap = plan.cap[dl];
  const KO = outCode.length;

  // Reorder the run by candidate, stably (keeps input leaf order within each candidate).
  const pos = new Int32Array(KO + 1);
  for (let c = 0; c < KO; c++) pos[c + 1] = pos[c] + outCap[c];
  const fill = pos.slice(0, KO);
  const run = order.slice(lo, lo + m);
  for (let q = 0; q < m; q++) order[lo + fill[final[q]]++] = run[q];
  for (let c = 0; c < KO; c++) {
    if (fill[c] !== pos[c + 1]) throw new ArborError(`tree learning: internal error, candidate ${outCode[c]} under node ${node} not filled`);
  }
  return { code: outCode, cap: outCap };
}

/**
 * Completes a matching in place: items without a candidate (no scores) take
 * their current candidate where it has room, then what is left, in order.
 */
function fillRest(choice: Int32Array, current: Int32Array, cap: Int32Array, node: number): void {
  const K = cap.length;
  const m = choice.length;
  const left = Int32Array.from(cap);
  for (let q = 0; q < m; q++) if (choice[q] >= 0) left[choice[q]]--;
  for (let q = 0; q < m; q++) {
    if (choice[q] >= 0) continue;
    const c = current[q];
    if (c >= 0 && left[c] > 0) {
      choice[q] = c;
      left[c]--;
    }
  }
  let sweep = 0;
  for (let q = 0; q < m; q++) {
    if (choice[q] >= 0) continue;
    while (sweep < K && left[sweep] === 0) sweep++;
    if (sweep === K) throw new ArborError(`tree learning: internal error, no room left under node ${node}`);
    choice[q] = sweep;
    left[sweep]--;
  }
}

/**
 * Fills the score table M (ms rows × K candidates): row r accumulates, over
 * the pairs of item order[lo + rowPos[r]], the path log-probability of every
 * candidate. Pairs are streamed in batches; each batch is scored level by
 * level, S(child) = S(parent) + log p(child).
 */
function accumulateScores(
  ctx: StepContext,
  plan: SubtreePlan,
  M: Float64Array,
  rowPos: Int32Array,
  lo: number,
  K: number,
  l: number,
  dI: number,
): void {
  const { order, pairStart, pairList, scratch } = ctx;
  // One call per scored level and batch; the widest level's call fills rowsPerCall.
  let widest = 0;
  for (let d = 1; d <= dI; d++) widest = Math.max(widest, plan.code[d].length);
  const B = Math.max(1, Math.floor(ctx.rowsPerCall / widest));
  scratch.rows(B * widest);
  const batchPair = new Int32Array(B);
  const batchRow = new Int32Array(B);

  const flush = (bn: number): void => {
    let prev = scratch.accA;
    let cur = scratch.accB;
    for (let d = 1; d <= dI; d++) {
      const codes = plan.code[d];
      const parent = plan.parent[d];
      const Nd = codes.length;
      const Np = plan.code[d - 1].length;
      const rows = bn * Nd;
      const reqPairs = scratch.reqPairs.subarray(0, rows);
      const reqNodes = scratch.reqNodes.subarray(0, rows);
      for (let b = 0; b < bn; b++) {
        reqPairs.fill(batchPair[b], b * Nd, b * Nd + Nd);
        reqNodes.set(codes, b * Nd);
      }
      const level = l + d;
      const out = callScorer(ctx.score, reqPairs, reqNodes, level, 'tree learning');
      ctx.scoredNodes += rows;
      for (let b = 0; b < bn; b++) {
        const o = b * Nd;
        const po = b * Np;
        for (let x = 0; x < Nd; x++) {
          const v = floored(out[o + x], 'tree learning', reqPairs[o + x], codes[x], level);
          cur[o + x] = d === 1 ? v : prev[po + parent[x]] + v;
        }
      }
      const t = prev;
      prev = cur;
      cur = t;
    }
    // prev holds the path sums at depth dI, the candidates' level.
    for (let b = 0; b < bn; b++) {
      const row = batchRow[b] * K;
      const o = b * K;
      for (let x = 0; x < K; x++) M[row + x] += prev[o + x];
    }
  };

  let bn = 0;
  for (let r = 0; r < rowPos.length; r++) {
    const it = order[lo + rowPos[r]];
    for (let e = pairStart[it]; e < pairStart[it + 1]; e++) {
      batchPair[bn] = pairList[e];
      batchRow[bn] = r;
      if (++bn === B) {
        flush(bn);
        bn = 0;
      }
    }
  }
  if (bn > 0) flush(bn);
}

/**
 * Deferred acceptance of ms items (rows of M) into K candidates with the
 * given capacities (Σ capacity ≥ ms). An item ranks candidates by score,
 * then its current candidate first, then lower index; a full candidate keeps
 * the items with the largest regret (score here minus score at the item's
 * next choice; +∞ at its last), ties to the lower item index. Returns the
 * candidate each row ends in.
 */
function match(M: Float64Array, ms: number, K: number, cap: Int32Array, current: Int32Array, item: Int32Array): Int32Array {
  const better = (base: number, cur: number, a: number, b: number): boolean => {
    const sa = M[base + a];
    const sb = M[base + b];
    if (sa !== sb) return sa > sb;
    if (a === cur) return true;
    if (b === cur) return false;
    return a < b;
  };
  const prop = new Int32Array(ms);
  const next = new Int32Array(ms);
  const regret = new Float64Array(ms);
  const rank = new Int32Array(ms);
  const sorted: (Int32Array | undefined)[] = new Array(ms);
  const setRegret = (r: number): void => {
    regret[r] = next[r] < 0 ? Infinity : M[r * K + prop[r]] - M[r * K + next[r]];
  };
  // First and second choices by one scan; a full ranking only for items rejected at least once.
  for (let r = 0; r < ms; r++) {
    const base = r * K;
    const cur = current[r];
    let b1 = 0;
    let b2 = -1;
    for (let c = 1; c < K; c++) {
      if (better(base, cur, c, b1)) {
        b2 = b1;
        b1 = c;
      } else if (b2 < 0 || better(base, cur, c, b2)) {
        b2 = c;
      }
    }
    prop[r] = b1;
    next[r] = b2;
    setRegret(r);
  }
  const advance = (r: number): void => {
    let s = sorted[r];
    if (!s) {
      const base = r * K;
      const cur = current[r];
      s = new Int32Array(K);
      for (let c = 0; c < K; c++) s[c] = c;
      s.sort((a, b) => (a === b ? 0 : better(base, cur, a, b) ? -1 : 1));
      sorted[r] = s;
    }
    const k = ++rank[r];
    if (k >= K) throw new ArborError('tree learning: internal error, an item was rejected by every candidate');
    prop[r] = s[k];
    next[r] = k + 1 < K ? s[k + 1] : -1;
    setRegret(r);
  };

  // One binary min-heap per candidate (worst held item on top), stored back to back.
  const heapOff = new Int32Array(K + 1);
  for (let c = 0; c < K; c++) heapOff[c + 1] = heapOff[c] + cap[c];
  const heap = new Int32Array(heapOff[K]);
  const heapLen = new Int32Array(K);
  const worse = (a: number, b: number): boolean => regret[a] < regret[b] || (regret[a] === regret[b] && item[a] > item[b]);
  const siftUp = (off: number, i: number): void => {
    const x = heap[off + i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(x, heap[off + p])) break;
      heap[off + i] = heap[off + p];
      i = p;
    }
    heap[off + i] = x;
  };
  const siftDown = (off: number, len: number, i: number): void => {
    const x = heap[off + i];
    for (;;) {
      let w = 2 * i + 1;
      if (w >= len) break;
      if (w + 1 < len && worse(heap[off + w + 1], heap[off + w])) w++;
      if (!worse(heap[off + w], x)) break;
      heap[off + i] = heap[off + w];
      i = w;
    }
    heap[off + i] = x;
  };

  const free = new Int32Array(ms);
  let top = 0;
  for (let r = ms - 1; r >= 0; r--) free[top++] = r;
  while (top > 0) {
    const r = free[--top];
    const c = prop[r];
    const off = heapOff[c];
    const len = heapLen[c];
    if (len < cap[c]) {
      heap[off + len] = r;
      heapLen[c] = len + 1;
      siftUp(off, len);
      continue;
    }
    const w = heap[off];
    if (worse(w, r)) {
      heap[off] = r;
      siftDown(off, len, 0);
      advance(w);
      free[top++] = w;
    } else {
      advance(r);
      free[top++] = r;
    }
  }
  const out = new Int32Array(ms);
  for (let c = 0; c < K; c++) for (let i = 0; i < heapLen[c]; i++) out[heap[heapOff[c] + i]] = c;
  return out;
}

/** Mean log-likelihood per pair of the targets' ancestors, by level (see `pathLogLikelihood`). */
export interface PathLogLikelihood {
  /** Pairs scored. */
  pairs: number;
  /** perLevel[j] = mean over pairs of log p(ancestor on level j | user); index 0 (the root) is 0. */
  perLevel: number[];
  /** Sum of perLevel: the tree-learning objective per pair. */
  total: number;
}

/**
 * The tree-learning objective of `tree` on `data`: for each internal level
 * j ≥ 1, the mean over pairs of log p(ancestor_j(target) | user), floored as
 * in `learnTree`. With the training pairs it is what `learnTree` raises; with
 * held-out pairs it shows whether that gain generalises.
 */
export function pathLogLikelihood(tree: Tree, data: LearnTreeData, score: PairNodeScorer, rowsPerCall = DEFAULT_LEARN_ROWS_PER_CALL): PathLogLikelihood {
  assertPositiveInteger('rows per scorer call', rowsPerCall);
  const { layout } = tree;
  const depth = layout.depth;
  const n = data.numPairs;
  const sums = new Float64Array(depth);
  const pairs = new Int32Array(Math.min(rowsPerCall, Math.max(1, n)));
  const nodes = new Int32Array(pairs.length);
  for (let p = 0; p < n; p++) {
    const t = data.target[p];
    if (!(t >= 0 && t < tree.numItems)) throw new UsageError(`path log-likelihood: pair ${p} has target item ${t}, outside 0..${tree.numItems - 1}`);
  }
  for (let level = 1; level < depth; level++) {
    for (let s = 0; s < n; s += pairs.length) {
      const e = Math.min(n, s + pairs.length);
      for (let p = s; p < e; p++) {
        pairs[p - s] = p;
        nodes[p - s] = layout.ancestorAt(tree.leafCodeOf(data.target[p]), depth, level);
      }
      const out = callScorer(score, pairs.subarray(0, e - s), nodes.subarray(0, e - s), level, 'path log-likelihood');
      for (let i = 0; i < e - s; i++) sums[level] += floored(out[i], 'path log-likelihood', s + i, nodes[i], level);
    }
  }
  const perLevel = Array.from(sums, (x) => (n === 0 ? 0 : x / n));
  return { pairs: n, perLevel, total: perLevel.reduce((a, b) => a + b, 0) };
}
