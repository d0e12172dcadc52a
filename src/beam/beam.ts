/**
 * Layer-wise beam search (TDM): from the root, expand the non-empty children
 * of the kept nodes, score them in one batched call, keep the best `beam`, and
 * at the leaf level return the best k items.
 *
 * How nodes are ranked is the query's rank rule (RetrieveOptions.rank, see
 * RankRule). With the
 * default `path` rule a node's key is its parent's key plus log σ(score), so
 * every level is scored (the first levels are small) and a beam as wide as
 * the catalogue is exactly brute force. With the `node` rule (TDM's own) a
 * node's key is its score, and a level whose candidates all fit in the beam
 * is kept without scoring, so a query costs at most about
 * branching · beam · (levels below the first full one) scorings.
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
import { DEFAULT_RANK, RANK_RULES, isRankRule, type RankRule, type RetrievalResult, type RetrieveOptions, type Retriever } from './retriever.js';
import type { Query } from './service.js';
import { logSigmoid, sigmoid, topK } from './topk.js';

/** Checks k, beam and the rank rule of a query, naming the bad value. */
export function validateQuery(opts: RetrieveOptions, needBeam: boolean): { k: number; beam: number; rank: RankRule } {
  assertPositiveInteger('k', opts.k);
  const rank = opts.rank ?? DEFAULT_RANK;
  if (!isRankRule(rank)) throw new UsageError(`rank must be one of ${RANK_RULES.join(', ')}, got ${JSON.stringify(rank)}`);
  if (!needBeam) return { k: opts.k, beam: opts.k, rank };
  const beam = opts.beam ?? opts.k;
  assertPositiveInteger('beam', beam);
  if (beam < opts.k) throw new UsageError(`beam must be >= k (beam ${beam}, k ${opts.k})`);
  return { k: opts.k, beam, rank };
}

/** A fresh empty result (fresh arrays: results may be transferred between threads). */
const empty = (): RetrievalResult => ({ items: new Int32Array(0), scores: new Float32Array(0), pairsScored: 0 });

/** One query's progress down the tree. */
class BeamState {
  current = new Int32Array([0]);
  /** Path rule: the key (sum of log σ down the path) of each kept node. */
  currentKey = new Float64Array([0]);
  pairs = 0;
  result: RetrievalResult | undefined;
  /** Candidates of the level being expanded (valid after `expand` returned true). */
  cand = new Int32Array(0);
  /** Path rule: the parent's key of each candidate. */
  candBase = new Float64Array(0);

  constructor(
    private readonly tree: Tree,
    private readonly k: number,
    private readonly beam: number,
    private readonly filter: QueryFilter | undefined,
    private readonly rank: RankRule,
  ) {
    if (filter && !filter.open(0, 0)) this.result = empty();
  }

  /** Expands the kept nodes' open children on `level`; true when they must be scored. */
  expand(level: number): boolean {
    const { layout, subtreeSize } = this.tree;
    const kb = layout.branching;
    const f = this.filter;
    const path = this.rank === 'path';
    const cand = new Int32Array(this.current.length * kb);
    const base = path ? new Float64Array(cand.length) : this.candBase;
    let n = 0;
    this.current.forEach((c, i) => {
      const first = c * kb + 1;
      for (let j = 0; j < kb; j++) {
        const child = first + j;
        if (f ? f.open(child, level) : subtreeSize[child] > 0) {
          if (path) base[n] = this.currentKey[i];
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
    if (this.rank === 'path') {
      keys = new Float64Array(cand.length);
      for (let i = 0; i < cand.length; i++) keys[i] = this.candBase[i] + logSigmoid(scores[i]);
    }
    if (level === this.tree.layout.depth) {
      const best = topK(keys, this.k);
      const items = new Int32Array(best.length);
      const out = new Float32Array(best.length);
      for (let i = 0; i < best.length; i++) {
        items[i] = this.tree.itemAtLeaf(cand[best[i]]);
        out[i] = this.rank === 'path' ? Math.exp(keys[best[i]]) : sigmoid(scores[best[i]]);
      }
      this.result = { items, scores: out, pairsScored: this.pairs };
      return;
    }
    const best = topK(keys, this.beam);
    this.current = Int32Array.from(best, (p) => cand[p]);
    if (this.rank === 'path') this.currentKey = Float64Array.from(best, (p) => keys[p]);
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
    const { k, beam, rank } = validateQuery(opts, true);
    return new BeamState(this.tree, k, beam, QueryFilter.of(this.tree, history, opts), rank);
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
