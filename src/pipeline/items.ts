/**
 * Mapping between a store's item indices and a model's (the tree carries its
 * own catalogue so a model folder stands alone; the two agree unless the store
 * gained items after the tree was built).
 */
import type { Store } from '../data/store.js';
import type { Catalogue, EvalCase, UserSequence } from '../data/types.js';
import type { UserSource } from '../model/queries.js';
import type { Tree } from '../tree/tree.js';

/** Store item index → tree item index (-1 when the tree does not know the item). */
export function storeToTree(catalogue: Catalogue, tree: Tree): Int32Array {
  const ids = tree.items.itemIds;
  const out = new Int32Array(catalogue.itemIds.length).fill(-1);
  const byId = new Map<string, number>();
  ids.forEach((id, i) => byId.set(id, i));
  catalogue.itemIds.forEach((id, i) => {
    out[i] = byId.get(id) ?? -1;
  });
  return out;
}

/** Re-indexes items, dropping those the tree does not know. */
export function mapItems(items: Int32Array, map: Int32Array): Int32Array {
  const out = new Int32Array(items.length);
  let n = 0;
  for (const it of items) {
    const t = map[it];
    if (t >= 0) out[n++] = t;
  }
  return n === items.length ? out : out.slice(0, n);
}

/** Re-indexes sequences into tree indices (their event weights, when present, follow the items kept). */
export function mapSequences(seqs: UserSequence[], map: Int32Array): UserSequence[] {
  return seqs.map((s) => {
    if (!s.weights) return { ...s, items: mapItems(s.items, map) };
    // keep the events' weights aligned with the items that stay
    const kept: number[] = [];
    s.items.forEach((it, j) => map[it] >= 0 && kept.push(j));
    return { ...s, items: Int32Array.from(kept, (j) => map[s.items[j]]), weights: Float32Array.from(kept, (j) => s.weights![j]) };
  });
}

/**
 * Re-indexes evaluation cases. History items the tree does not know are
 * dropped (the model cannot read them); truth items it does not know stay in
 * the truth set as distinct negative placeholders, which no method can return,
 * so recall is never inflated by leaving them out.
 */
export function mapCases(cases: EvalCase[], map: Int32Array): { cases: EvalCase[]; unknownTruth: number } {
  let unknownTruth = 0;
  const out = cases.map((c) => {
    const truth = Int32Array.from(c.truth, (it) => {
      const t = map[it];
      if (t >= 0) return t;
      unknownTruth++;
      return -1 - it;
    });
    return { user: c.user, history: mapItems(c.history, map), truth };
  });
  return { cases: out, unknownTruth };
}

/**
 * Users of `store`, their histories in `tree`'s item indices (items the tree
 * does not know are dropped). The store must stay open while this is used.
 */
export function storeUsers(store: Store, tree: Tree): UserSource {
  const map = storeToTree(store.catalogue(), tree);
  return {
    history(user: string) {
      const h = store.userHistory(user);
      return h && mapItems(h, map);
    },
  };
}
