/**
 * Layer-wise beam search (TDM): from the root, expand the non-empty children
 * of the kept nodes, score them in one batched call, keep the best `beam`, and
 * at the leaf level return the best k items.
 *
 * Nodes are ranked by a key that adds their own log σ(score) to the path
 * weight w times their parent's key (see PATH_RULE in retriever.ts; w comes
 * from the query, else the scorer, else 1). With w > 0 every level is
 * scored (the first levels are small), so a beam as wide as the catalogue
 * is exactly brute force. With w = 0 (TDM's node rule) a level whose
 * candidates all fit in the beam is kept without scoring, so a query costs
 * at most about branching · beam · (levels below the first full one)
 * scorings.
 *
 * Filters (`excludeHistory`, `categories`) act inside the search: a node
 * whose subtree holds no allowed item is never expanded (see filter.ts).
 * `retrieveBatch` runs several queries with their levels in lockstep, so a
 * batch costs one scoring call per level instead of one per query and level;
 * its results are those of `retrieve` query by query.
 */
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import { isBatchScorer, openBatchFallback } from '../scorer/batch.js';
import type { NodeScorer } from '../scorer/types.js';
import type { Tree } from '../tree/tree.js';
import { QueryFilter } from './filter.js';
import { PATH_RULE, defaultBeam, isPathWeight, type RetrievalResult, type RetrieveOptions, type Retriever } from './retriever.js';
import type { Query } from './retriever.js';
import { logSigmoid, sigmoid, topK } from './topk.js';

/**
 * Checks k, beam and the path weight of a query, naming the bad value; the
 * weight defaults to `scorerWeight` (a scorer's own), else the path rule.
 */
export function validateQuery(opts: RetrieveOptions, needBeam: boolean, scorerWeight?: number): { k: number; beam: number; pathWeight: number } {
  assertPositiveInteger('k', opts.k);
  const pathWeight = opts.pathWeight ?? scorerWeight ?? PATH_RULE;
  if (!isPathWeight(pathWeight)) throw new UsageError(`path weight must be a number in [0, 1], got ${JSON.stringify(pathWeight)}`);
  if (!needBeam) return { k: opts.k, beam: opts.k, pathWeight };
  const beam = opts.beam ?? defaultBeam(opts.k);
  assertPositiveInteger('beam', beam);
  if (beam < opts.k) throw new UsageError(`beam must be >= k (beam ${beam}, k ${opts.k})`);
  return { k: opts.k, beam, pathWeight };
}

/** A fresh empty result (fresh arrays: results may be transferred between threads). */
const empty = (): RetrievalResult => ({ items: new Int32Array(0), scores: new Float32Array(0), pairsScored: 0 });

/** One query's progress down the tree. */
class BeamState {
  current = new Int32Array([0]);
  /** The key of each kept node (w > 0). */
  currentKey = new Float64Array([0]);
  pairs = 0;
  result: RetrievalResult | undefined;
  /** Candidates of the level being expanded (valid after `expand` returned true). */
  cand = new Int32Array(0);
  /** w times the parent's key, of each candidate (w > 0). */
  candBase = new Float64Array(0);

  constructor(
    private readonly tree: Tree,
    private readonly k: number,
    private readonly beam: number,
    private readonly filter: QueryFilter | undefined,
    /** The path weight w. */
    private readonly w: number,
  ) {
    if (filter && !filter.open(0, 0)) this.result = empty();
  }

  /** Expands the kept nodes' open children on `level`; true when they must be scored. */
  expand(level: number): boolean {
    const { layout, subtreeSize } = this.tree;
    const kb = layout.branching;
    const f = this.filter;
    const path = this.w > 0;
    const cand = new Int32Array(this.current.length * kb);
    const base = path ? new Float64Array(cand.length) : this.candBase;
    let n = 0;
    this.current.forEach((c, i) => {
      const first = c * kb + 1;
      for (let j = 0; j < kb; j++) {
        const child = first + j;
        if (f ? f.open(child, level) : subtreeSize[child] > 0) {
          if (path) base[n] = this.w * this.currentKey[i];
          cand[n++] = child;
        }
      }
    });
    this.cand = cand.subarray(0, n);
    if (path) {
      this.candBase = base.subarray(0, n);
      return true;
    }
    if (level !== layout.depth && n <= this.beam) {
      this.current = this.cand;
      return false;
    }
    return true;
  }

  /** Takes the scores of `cand` on `level`: keeps the best `beam`, or on the leaf level ends with the best k. */
  take(level: number, scores: Float32Array): void {
    const cand = this.cand;
    this.pairs += cand.length;
    let keys: Float32Array | Float64Array = scores;
    const path = this.w > 0;
    if (path) {
      keys = new Float64Array(cand.length);
      for (let i = 0; i < cand.length; i++) keys[i] = this.candBase[i] + logSigmoid(scores[i]);
    }
    if (level === this.tree.layout.depth) {
      const best = topK(keys, this.k);
      const items = new Int32Array(best.length);
      const out = new Float32Array(best.length);
      for (let i = 0; i < best.length; i++) {
        items[i] = this.tree.itemAtLeaf(cand[best[i]]);
        out[i] = path ? Math.exp(keys[best[i]]) : sigmoid(scores[best[i]]);
      }
      this.result = { items, scores: out, pairsScored: this.pairs };
      return;
    }
    const best = topK(keys, this.beam);
    this.current = Int32Array.from(best, (p) => cand[p]);
    if (path) this.currentKey = Float64Array.from(best, (p) => keys[p]);
  }
}

/** Tree beam search over a NodeScorer. */
export class BeamSearch implements Retriever {
  readonly name = 'beam';
  readonly exact = false;
  constructor(
    readonly tree: Tree,
    readonly scorer: NodeScorer,
  ) {}

  private state(history: Int32Array, opts: RetrieveOptions): BeamState {
    const { k, beam, pathWeight } = validateQuery(opts, true, this.scorer.pathWeight);
    return new BeamState(this.tree, k, beam, QueryFilter.of(this.tree, history, opts), pathWeight);
  }

  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    const q = this.state(history, opts);
    if (q.result) return q.result;
    const session = this.scorer.open(history);
    try {
      for (let level = 1; level <= this.tree.layout.depth && !q.result; level++) {
        if (q.expand(level)) q.take(level, session.score(q.cand, level));
      }
      if (!q.result) throw new Error('unreachable: beam search ended above the leaf level');
      return q.result;
    } finally {
      session.close();
    }
  }

  /**
   * Several queries with their levels in lockstep: per level, the candidates
   * of every query that needs scoring go to the scorer in one call. Results
   * in query order, each equal to `retrieve` of that query. Every query is
   * validated before any is scored.
   */
  retrieveBatch(queries: Query[]): RetrievalResult[] {
    const states = queries.map((q) => this.state(q.history, q.opts));
    const live = states.map((_, i) => i).filter((i) => !states[i].result);
    if (live.length > 0) {
      const histories = live.map((i) => queries[i].history);
      const session = isBatchScorer(this.scorer) ? this.scorer.openBatch(histories) : openBatchFallback(this.scorer, histories);
      try {
        for (let level = 1; level <= this.tree.layout.depth; level++) {
          const scoring: number[] = []; // positions in `live`
          let total = 0;
          live.forEach((i, u) => {
            const q = states[i];
            if (!q.result && q.expand(level)) {
              scoring.push(u);
              total += q.cand.length;
            }
          });
          if (scoring.length === 0) continue;
          const users = new Int32Array(total);
          const nodes = new Int32Array(total);
          let o = 0;
          for (const u of scoring) {
            const cand = states[live[u]].cand;
            users.fill(u, o, o + cand.length);
            nodes.set(cand, o);
            o += cand.length;
          }
          const scores = session.score(users, nodes, level);
          o = 0;
          for (const u of scoring) {
            const q = states[live[u]];
            const m = q.cand.length;
            q.take(level, scores.subarray(o, o + m));
            o += m;
          }
        }
      } finally {
        session.close();
      }
    }
    return states.map((q) => {
      if (!q.result) throw new Error('unreachable: beam search ended above the leaf level');
      return q.result;
    });
  }
}
