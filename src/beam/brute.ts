/**
 * The brute-force oracle: the exact top k of the same scoring function the
 * beam search follows, found by scoring everything. The yardstick every beam
 * search is compared with.
 *
 * With a path weight w > 0 (RetrieveOptions.pathWeight; the path rule,
 * w = 1, by default) an item's key is its leaf's log σ(score) plus w times
 * its parent's key, recursively up to the root, so every non-empty node of
 * every level is scored once (about branching/(branching−1) × the
 * catalogue); with w = 0 (TDM's node rule) only the leaves are scored. With
 * filters only the open nodes (those above an allowed, non-excluded item)
 * are scored.
 */
import type { NodeScorer, ScoringSession } from '../scorer/types.js';
import type { Tree } from '../tree/tree.js';
import { validateQuery } from './beam.js';
import { QueryFilter } from './filter.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from './retriever.js';
import { logSigmoid, sigmoid, topK } from './topk.js';

/** Nodes scored per batched call. */
const CHUNK = 8192;

/** Exact top-k by scoring all leaves (and, with the path rule, all their ancestors). */
export class BruteForce implements Retriever {
  readonly name = 'brute-force';
  readonly exact = true;
  private readonly leafCodes: Int32Array;

  constructor(
    readonly tree: Tree,
    readonly scorer: NodeScorer,
  ) {
    this.leafCodes = Int32Array.from({ length: tree.numItems }, (_, i) => tree.leafCodeOf(i));
  }

  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    const { k, pathWeight } = validateQuery(opts, false, this.scorer.pathWeight);
    const filter = QueryFilter.of(this.tree, history, opts);
    const session = this.scorer.open(history);
    try {
      return pathWeight > 0 ? this.byPath(session, filter, k, pathWeight) : this.byLeaf(session, filter, k);
    } finally {
      session.close();
    }
  }

  /** Node rule (w = 0): every allowed leaf's own score. */
  private byLeaf(session: ScoringSession, filter: QueryFilter | undefined, k: number): RetrievalResult {
    // the items to score (all, or the allowed ones in item order)
    let items: Int32Array | undefined;
    let codes = this.leafCodes;
    if (filter) {
      const keep: number[] = [];
      for (let i = 0; i < this.tree.numItems; i++) if (filter.allowsItem(i)) keep.push(i);
      items = Int32Array.from(keep);
      codes = Int32Array.from(keep, (i) => this.leafCodes[i]);
    }
    const n = codes.length;
    if (n === 0) return { items: new Int32Array(0), scores: new Float32Array(0), pairsScored: 0 };
    const all = scoreChunked(session, codes, this.tree.layout.depth);
    const best = topK(all, k);
    const scores = Float32Array.from(best, (p) => sigmoid(all[p]));
    return { items: items ? Int32Array.from(best, (p) => items[p]) : best, scores, pairsScored: n };
  }

  /** Path weight w > 0: every open node of every level, keys accumulated from the root down. */
  private byPath(session: ScoringSession, filter: QueryFilter | undefined, k: number, w: number): RetrievalResult {
    const { layout } = this.tree;
    const key = new Float64Array(layout.numNodes);
    let pairs = 0;
    let leaves: Int32Array = new Int32Array(0);
    let leafKeys: Float64Array = new Float64Array(0);
    for (let level = 1; level <= layout.depth; level++) {
      let nodes = this.tree.nonEmptyNodes(level);
      if (filter) nodes = nodes.filter((c) => filter.open(c, level));
      if (nodes.length === 0) return { items: new Int32Array(0), scores: new Float32Array(0), pairsScored: pairs };
      const scores = scoreChunked(session, nodes, level);
      pairs += nodes.length;
      const keys = level === layout.depth ? new Float64Array(nodes.length) : undefined;
      for (let i = 0; i < nodes.length; i++) {
        const c = nodes[i];
        const v = w * key[Math.floor((c - 1) / layout.branching)] + logSigmoid(scores[i]);
        if (keys) keys[i] = v;
        else key[c] = v;
      }
      if (keys) {
        leaves = nodes;
        leafKeys = keys;
      }
    }
    const best = topK(leafKeys, k);
    return {
      items: Int32Array.from(best, (p) => this.tree.itemAtLeaf(leaves[p])),
      scores: Float32Array.from(best, (p) => Math.exp(leafKeys[p])),
      pairsScored: pairs,
    };
  }
}

/** Scores `codes` (all on `level`) in chunks of CHUNK. */
function scoreChunked(session: ScoringSession, codes: Int32Array, level: number): Float32Array {
  const all = new Float32Array(codes.length);
  for (let s = 0; s < codes.length; s += CHUNK) {
    const e = Math.min(codes.length, s + CHUNK);
    all.set(session.score(codes.subarray(s, e), level), s);
  }
  return all;
}
