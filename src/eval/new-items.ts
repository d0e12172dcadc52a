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
  return summarizeSubsetRecall(subsetRecallByUser(retriever, cases, k, beam, inSubset), k);
}

/** The {@link SubsetRecall} of per-user terms (mean over users, in their order). */
export function summarizeSubsetRecall(per: readonly UserSubsetRecall[], k: number): SubsetRecall {
  let sum = 0;
  let truthItems = 0;
  for (const u of per) {
    sum += u.recall;
    truthItems += u.truthItems;
  }
  return { k, recall: per.length ? sum / per.length : 0, users: per.length, truthItems };
}

/** One user's recall on a subset of items. */
export interface UserSubsetRecall {
  user: string;
  recall: number;
  /** Subset items in the user's truth. */
  truthItems: number;
}

/**
 * The per-user terms of {@link subsetRecall}, in case order: one entry for
 * each user whose truth holds subset items (for paired comparisons of two
 * models on the same users).
 */
export function subsetRecallByUser(retriever: Retriever, cases: readonly EvalCase[], k: number, beam: number, inSubset?: (item: number) => boolean): UserSubsetRecall[] {
  assertPositiveInteger('k', k);
  const out: UserSubsetRecall[] = [];
  for (const c of cases) {
    const want = new Set<number>();
    for (const t of c.truth) if (!inSubset || inSubset(t)) want.add(t);
    if (want.size === 0) continue;
    const got = retriever.retrieve(c.history, { k, beam }).items;
    let hits = 0;
    for (const it of got) if (want.has(it)) hits++;
    out.push({ user: c.user, recall: hits / want.size, truthItems: want.size });
  }
  return out;
}
