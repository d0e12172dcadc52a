/** A UserSource over a SQLite store: a user's events, mapped to the model's item indices. */
import type { Store } from '../data/store.js';
import { mapItems, storeToTree } from '../pipeline/items.js';
import type { Tree } from '../tree/tree.js';
import type { UserSource } from './queries.js';

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
