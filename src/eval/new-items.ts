/**
 * Recall restricted to a subset of the catalogue (e.g. the items that
 * joined a model through add-items): for each held-out user whose truth
 * holds at least one item of the subset, the share of those items among
 * the top k, averaged over those users. Used to judge how well added items
 * are retrieved for the users who later interact with them.
 */
import { assertPositiveInteger } from '../core/errors.js';
import type { Retriever } from '../beam/retriever.js';
import type { EvalCase } from '../data/types.js';

/** Recall on a subset of items, and how many users and truth items it rests on. */
export interface SubsetRecall {
  k: number;
  /** Mean recall over the users whose truth holds subset items (0 when there are none). */
  recall: number;
  users: number;
  truthItems: number;
}

/**
 * Recall@k of `retriever` on the truth items for which `inSubset` holds
 * (all truth items when it is omitted); `beam` as for RetrieveOptions.
 * Cases are in the retriever's item indices (negative truth entries, items
 * the model does not know, count as misses).
 */
export function subsetRecall(retriever: Retriever, cases: readonly EvalCase[], k: number, beam: number, inSubset?: (item: number) => boolean): SubsetRecall {
  assertPositiveInteger('k', k);
  let sum = 0;
  let users = 0;
  let truthItems = 0;
  for (const c of cases) {
    const want = new Set<number>();
    for (const t of c.truth) if (!inSubset || inSubset(t)) want.add(t);
    if (want.size === 0) continue;
    const got = retriever.retrieve(c.history, { k, beam }).items;
    let hits = 0;
    for (const it of got) if (want.has(it)) hits++;
    sum += hits / want.size;
    users++;
    truthItems += want.size;
  }
  return { k, recall: users ? sum / users : 0, users, truthItems };
}
