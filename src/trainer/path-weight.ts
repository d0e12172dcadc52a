/**
 * Choosing a model's path weight on validation users. The path weight w
 * (see RetrieveOptions.pathWeight) decides how much a node's ancestors count
 * when beam search ranks it: 1 sums log σ over the whole path, 0 is TDM's
 * node rule. Which is best depends on the data: where every leaf is trained
 * on plenty of samples its own score is the better estimate, where most
 * items are rare the ancestors' evidence must carry it. So after every
 * epoch the trainer measures validation recall@k at each weight of a small
 * grid, averaged over beams of k and 4k (a weight that only shines at one
 * width, or whose recall falls as the beam widens, scores lower), and keeps
 * the best; ties go to the larger weight. The chosen weight travels with the
 * scorer (ScorerConfig.pathWeight), so retrieval uses it by default.
 */
import { PATH_RULE } from '../beam/retriever.js';
import type { EvalCase } from '../data/types.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import { networkSearch } from '../beam/network-search.js';

/** The path weights tried on validation users. */
export const PATH_WEIGHT_GRID: readonly number[] = [0, 0.25, 0.5, 0.625, 0.75, 0.875, 1];

/** Beam widths of the validation score, as multiples of k. */
export const VALIDATION_WIDTHS: readonly number[] = [1, 4];

/** One weight's validation score. */
export interface PathWeightTrial {
  pathWeight: number;
  /** Mean over the validation widths of recall@k. */
  recall: number;
}

/** The weight chosen and every trial. */
export interface PathWeightChoice {
  pathWeight: number;
  recall: number;
  trials: PathWeightTrial[];
}

/** Queries per batched beam search. */
const CHUNK = 64;

/**
 * Validation score of `network` at path weight `w`: recall@k of beam search,
 * averaged over beams k·VALIDATION_WIDTHS, over the cases (which need
 * history and truth).
 */
export function validationRecall(tree: Tree, network: ScorerNetwork, cases: EvalCase[], k: number, w: number = network.config.pathWeight ?? PATH_RULE): number {
  const kk = Math.min(k, tree.numItems);
  const search = networkSearch(tree, network);
  let sum = 0;
  for (const m of VALIDATION_WIDTHS) {
    for (let s = 0; s < cases.length; s += CHUNK) {
      const chunk = cases.slice(s, s + CHUNK);
      const results = search.retrieveBatch(chunk.map((c) => ({ history: c.history, opts: { k: kk, beam: kk * m, pathWeight: w } })));
      results.forEach((r, i) => {
        const truth = new Set(chunk[i].truth);
        let hits = 0;
        for (const it of r.items) if (truth.has(it)) hits++;
        sum += hits / truth.size;
      });
    }
  }
  return sum / (cases.length * VALIDATION_WIDTHS.length);
}

/** Tries every weight of `grid` on the validation cases; the best wins, ties going to the larger weight. */
export function choosePathWeight(tree: Tree, network: ScorerNetwork, cases: EvalCase[], k: number, grid: readonly number[] = PATH_WEIGHT_GRID): PathWeightChoice {
  const trials = grid.map((pathWeight) => ({ pathWeight, recall: validationRecall(tree, network, cases, k, pathWeight) }));
  let best = trials[0];
  for (const t of trials) if (t.recall > best.recall || (t.recall === best.recall && t.pathWeight > best.pathWeight)) best = t;
  return { pathWeight: best.pathWeight, recall: best.recall, trials };
}
