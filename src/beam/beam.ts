/**
 * Layer-wise beam search (TDM): from the root, expand the non-empty children
 * of the kept nodes, score them in one batched call, keep the best `beam`, and
 * at the leaf level return the best k items. A level whose candidates all fit
 * in the beam is kept without scoring, so a query costs at most about
 * branching · beam · (levels below the first full one) scorings.
 */
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import type { NodeScorer } from '../scorer/types.js';
import type { Tree } from '../tree/tree.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from './retriever.js';
import { sigmoid, topK } from './topk.js';

/** Checks k and beam for a query, naming the bad value. */
export function validateQuery(opts: RetrieveOptions, needBeam: boolean): { k: number; beam: number } {
  assertPositiveInteger('k', opts.k);
  if (!needBeam) return { k: opts.k, beam: opts.k };
  const beam = opts.beam ?? opts.k;
  assertPositiveInteger('beam', beam);
  if (beam < opts.k) throw new UsageError(`beam must be >= k (beam ${beam}, k ${opts.k})`);
  return { k: opts.k, beam };
}

/** Tree beam search over a NodeScorer. */
export class BeamSearch implements Retriever {
  readonly name = 'beam';
  readonly exact = false;
  constructor(
    readonly tree: Tree,
    readonly scorer: NodeScorer,
  ) {}

  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    const { k, beam } = validateQuery(opts, true);
    const { layout, subtreeSize } = this.tree;
    const kb = layout.branching;
    const session = this.scorer.open(history);
    let pairs = 0;
    try {
      let current = new Int32Array([0]);
      const buf = new Int32Array(beam * kb > 1 ? Math.max(beam * kb, kb) : kb);
      for (let level = 1; level <= layout.depth; level++) {
        // expand the kept nodes' non-empty children
        let n = 0;
        let cand = buf.length >= current.length * kb ? buf : new Int32Array(current.length * kb);
        for (const c of current) {
          const first = c * kb + 1;
          for (let j = 0; j < kb; j++) if (subtreeSize[first + j] > 0) cand[n++] = first + j;
        }
        cand = cand.subarray(0, n);
        const last = level === layout.depth;
        if (!last && n <= beam) {
          current = cand.slice();
          continue;
        }
        const scores = session.score(cand, level);
        pairs += n;
        const best = topK(scores, last ? k : beam);
        if (last) {
          const items = new Int32Array(best.length);
          const out = new Float32Array(best.length);
          best.forEach((p, i) => {
            items[i] = this.tree.itemAtLeaf(cand[p]);
            out[i] = sigmoid(scores[p]);
          });
          return { items, scores: out, pairsScored: pairs };
        }
        current = Int32Array.from(best, (p) => cand[p]);
      }
      throw new Error('unreachable: beam search ended above the leaf level');
    } finally {
      session.close();
    }
  }
}
