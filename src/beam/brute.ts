/**
 * The brute-force oracle: scores every item's leaf with the same scorer and
 * returns the exact top k. The yardstick every beam search is compared with.
 */
import type { NodeScorer } from '../scorer/types.js';
import type { Tree } from '../tree/tree.js';
import { validateQuery } from './beam.js';
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
    const n = this.tree.numItems;
    const session = this.scorer.open(history);
    try {
      const all = new Float32Array(n);
      for (let s = 0; s < n; s += CHUNK) {
        const e = Math.min(n, s + CHUNK);
        all.set(session.score(this.leafCodes.subarray(s, e), this.tree.layout.depth), s);
      }
      const best = topK(all, k);
      return { items: best, scores: Float32Array.from(best, (i) => sigmoid(all[i])), pairsScored: n };
    } finally {
      session.close();
    }
  }
}
