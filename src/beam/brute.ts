/**
 * The brute-force oracle: scores every item's leaf with the same scorer and
 * returns the exact top k. The yardstick every beam search is compared with.
 * With filters it scores only the allowed, non-excluded items.
 */
import type { NodeScorer } from '../scorer/types.js';
import type { Tree } from '../tree/tree.js';
import { validateQuery } from './beam.js';
import { QueryFilter } from './filter.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from './retriever.js';
import { sigmoid, topK } from './topk.js';

/** Items scored per batched call. */
const CHUNK = 8192;

/** Exact top-k by scoring all leaves. */
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
    const { k } = validateQuery(opts, false);
    const filter = QueryFilter.of(this.tree, history, opts);
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
    const session = this.scorer.open(history);
    try {
      const all = new Float32Array(n);
      for (let s = 0; s < n; s += CHUNK) {
        const e = Math.min(n, s + CHUNK);
        all.set(session.score(codes.subarray(s, e), this.tree.layout.depth), s);
      }
      const best = topK(all, k);
      const scores = Float32Array.from(best, (p) => sigmoid(all[p]));
      return { items: items ? Int32Array.from(best, (p) => items[p]) : best, scores, pairsScored: n };
    } finally {
      session.close();
    }
  }
}
