/**
 * The store-to-tree data set: a store's users and held-out cases in a
 * model's item indices. The tree carries its own catalogue so a model folder
 * stands alone; the two agree unless the store gained items after the tree
 * was built. Every stage, the CLI, the service and the bench read a store
 * for a tree through `TreeDataset`.
 */
import { resolve } from 'node:path';
import { ArborError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Store } from '../data/store.js';
import type { Catalogue, EvalCase, UserRole, UserSequence } from '../data/types.js';
import type { Model } from './folder.js';
import type { UserSource } from './queries.js';
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

/** A store read in a tree's item indices. */
export class TreeDataset {
  private constructor(
    readonly store: Store,
    readonly tree: Tree,
    /** Store item index → tree item index (-1: the tree does not know the item). */
    readonly map: Int32Array,
  ) {}

  /** `store` in `tree`'s indices, without checking that they belong together (see `forModel`). */
  static of(store: Store, tree: Tree): TreeDataset {
    return new TreeDataset(store, tree, storeToTree(store.catalogue(), tree));
  }

  /**
   * `store` in the indices of `model`'s tree, after checking they belong
   * together. A store only grows, so the store a tree was built from holds
   * every item of the tree: none of them in `store` is an ArborError naming
   * both; some of them missing, or a store path other than the one recorded
   * at build-tree, is a warning. `dir` names the model in messages.
   */
  static forModel(store: Store, model: Model, dir?: string, logger: Logger = silentLogger): TreeDataset {
    const name = dir === undefined ? 'the model' : `the model ${dir}`;
    const { tree } = model;
    const data = TreeDataset.of(store, tree);
    let known = 0;
    for (const t of data.map) if (t >= 0) known++;
    const builtFrom = (model.manifest.config.build as { store?: unknown } | undefined)?.store;
    const from = typeof builtFrom === 'string' ? ` (its tree was built from store ${builtFrom})` : '';
    if (known === 0) {
      throw new ArborError(
        `none of the ${tree.numItems} items of ${name} is in store ${store.path}${from}: use the store the tree was built from (--db), or build a new tree from this store (arbor build-tree --db ${store.path})`,
      );
    }
    if (known < tree.numItems) {
      logger.warn(`store ${store.path} holds only ${known} of the ${tree.numItems} items of ${name}${from}: it is not the store the tree was built from; items it lacks get no behaviours`);
    } else if (typeof builtFrom === 'string' && resolve(builtFrom) !== resolve(store.path)) {
      logger.warn(`${name} was built from store ${builtFrom}, this run reads ${store.path} (it holds all the model's items: fine if it is a copy or a superset)`);
    }
    return data;
  }

  /**
   * The sequences of the users of `roles` (default: training users), items
   * the tree does not know dropped; `opts` as for Store.sequences (behaviour
   * weights, which follow the items kept).
   */
  sequences(roles: UserRole[] = ['train'], opts: Parameters<Store['sequences']>[1] = {}): UserSequence[] {
    return mapSequences(this.store.sequences(roles, opts), this.map);
  }

  /** The training users' item sequences, as the trainer and tree learning take them. */
  trainSequences(): Int32Array[] {
    return this.sequences(['train']).map((s) => s.items);
  }

  /** The held-out cases of `role` (see `mapCases` for items the tree does not know). */
  cases(role: 'valid' | 'test'): { cases: EvalCase[]; unknownTruth: number } {
    return mapCases(this.store.evalCases(role), this.map);
  }

  /** Looks users' histories up in the tree's indices (the store must stay open while this is used). */
  users(): UserSource {
    const { store, map } = this;
    return {
      history(user: string) {
        const h = store.userHistory(user);
        return h && { items: mapItems(h, map), skipped: h.length - countKnown(h, map) };
      },
    };
  }
}

/** How many of `items` the map knows. */
function countKnown(items: Int32Array, map: Int32Array): number {
  let n = 0;
  for (const it of items) if (map[it] >= 0) n++;
  return n;
}
