/**
 * The `add-items` stage: every item of the store that a trained model lacks
 * joins its tree and its scorer's embedding table, without retraining
 * (src/model/extend.ts, src/model/item-init.ts). Items with events,
 * with side data only (a category from `arbor ingest-items`, a vector in
 * --item-vectors) or with nothing at all are all added; the summary counts
 * them by the source of their first embedding. Only training users' events
 * are read, so held-out users stay unseen. The folder is rewritten
 * atomically; nothing is written when the model already holds every item.
 */
import { ArborError, UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Store } from '../data/store.js';
import { readItemVectors } from '../data/item-vectors.js';
import { readModel, writeModel } from '../model/folder.js';
import { extendModel, type PlacementRule } from '../model/extend.js';
import { autoOrder, checkSources, coOccurrence, initialRows, type EmbedSource, type InitInputs, type SideVectors, type SourceCheck } from '../model/item-init.js';
import type { TreeItems } from '../tree/tree.js';
import { checkpointFolder, hasCheckpoint } from './checkpoint.js';

/** Options of `add-items`. */
export interface AddItemsOptions {
  /** JSON-lines item vectors (see src/data/item-vectors.ts): the `vectors` source. */
  itemVectors?: string;
  /** `auto` (events, then vectors and category in the order the model's own items favour: checkSources), or one source alone (items without its evidence get the catalogue mean). */
  embedFrom?: 'auto' | Exclude<EmbedSource, 'mean'>;
  /** How new items find their leaves (default neighbours). */
  placement?: PlacementRule;
  /** Seed of the random placement (the control). */
  seed?: number;
  /** Co-occurrence window and 1/distance weighting of the `events` source (defaults CO_WINDOW, CO_DECAY). */
  coWindow?: number;
  coDecay?: boolean;
}

/** What `add-items` did. */
export interface AddItemsSummary {
  /** Items added. */
  added: number;
  /** Added items by the source of their first embedding. */
  bySource: Record<EmbedSource, number>;
  /** Added items with no training events (cold start). */
  withoutEvents: number;
  /** Categories the model did not know before. */
  newCategories: number;
  /** Levels the tree grew by (0 when the new items fitted). */
  levelsGrown: number;
  depthBefore: number;
  depthAfter: number;
  /** Items in the model afterwards. */
  numItems: number;
  placement: PlacementRule;
  embedFrom: string;
  /** Under `auto` with side vectors: how well vectors and category rebuild the model's own items, and which went first (null otherwise). */
  sourceCheck: SourceCheck | null;
  seconds: number;
}

/** Adds the store's items that the model in `dir` lacks; see the file comment. */
export async function addItemsToFolder(store: Store, dir: string, o: AddItemsOptions = {}, logger: Logger = silentLogger): Promise<AddItemsSummary> {
  const started = Date.now();
  const embedFrom = o.embedFrom ?? 'auto';
  const placement = o.placement ?? 'neighbours';
  if (!['auto', 'events', 'vectors', 'category'].includes(embedFrom)) throw new UsageError(`embed-from must be auto, events, vectors or category, got ${JSON.stringify(embedFrom)}`);
  if (!['centroid', 'node', 'neighbours', 'random'].includes(placement)) throw new UsageError(`placement must be centroid, neighbours, node or random, got ${JSON.stringify(placement)}`);
  if (embedFrom === 'vectors' && !o.itemVectors) throw new UsageError('--embed-from vectors needs --item-vectors FILE');
  if (hasCheckpoint(dir)) {
    throw new UsageError(`an interrupted training run left a checkpoint in ${checkpointFolder(dir)}: finish it (arbor train --resume) or delete that folder before adding items`);
  }
  const model = readModel(dir, { requireScorer: true });
  const { tree } = model;
  const network = model.network!;
  try {
    const cat = store.catalogue();
    const known = new Map<string, number>();
    tree.items.itemIds.forEach((id, i) => known.set(id, i));
    const newStore: number[] = [];
    cat.itemIds.forEach((id, i) => {
      if (!known.has(id)) newStore.push(i);
    });
    const summary = (added: number, extra: Partial<AddItemsSummary>): AddItemsSummary => ({
      added,
      bySource: { events: 0, vectors: 0, category: 0, mean: 0 },
      withoutEvents: 0,
      newCategories: 0,
      levelsGrown: 0,
      depthBefore: tree.layout.depth,
      depthAfter: tree.layout.depth,
      numItems: tree.numItems + added,
      placement,
      embedFrom,
      sourceCheck: null,
      seconds: (Date.now() - started) / 1000,
      ...extra,
    });
    if (newStore.length === 0) {
      if (!cat.itemIds.some((id) => known.has(id))) {
        throw new ArborError(`none of the ${tree.numItems} items of the model ${dir} is in store ${store.path}: use the store the model was trained on (--db)`);
      }
      logger.info(`the model ${dir} already holds every item of ${store.path}: nothing to add`);
      return summary(0, {});
    }
    // the extended catalogue: old items, then the new ones in store order; new categories at the end
    const n = tree.numItems;
    const categoryIds = tree.items.categoryIds.slice();
    const categoryIndex = new Map(categoryIds.map((c, i) => [c, i]));
    const newCategory = new Int32Array(newStore.length);
    newStore.forEach((s, m) => {
      const sc = cat.itemCategory[s];
      if (sc < 0) return void (newCategory[m] = -1);
      const ext = cat.categoryIds[sc];
      let c = categoryIndex.get(ext);
      if (c === undefined) {
        c = categoryIds.length;
        categoryIds.push(ext);
        categoryIndex.set(ext, c);
      }
      newCategory[m] = c;
    });
    const itemIds = [...tree.items.itemIds, ...newStore.map((s) => cat.itemIds[s])];
    const itemCategory = new Int32Array(n + newStore.length);
    itemCategory.set(tree.items.itemCategory);
    itemCategory.set(newCategory, n);
    const items: TreeItems = { itemIds, itemCategory, categoryIds };
    // store index -> extended index; training users' sequences in extended indices
    const toExt = new Int32Array(cat.itemIds.length).fill(-1);
    cat.itemIds.forEach((id, i) => {
      const k = known.get(id);
      if (k !== undefined) toExt[i] = k;
    });
    newStore.forEach((s, m) => (toExt[s] = n + m));
    const sequences = store.sequences(['train']).map((u) => Int32Array.from(u.items, (it) => toExt[it]));
    const cooc = coOccurrence(sequences, n, newStore.length, o.coWindow, o.coDecay);
    const seen = new Uint8Array(newStore.length);
    for (const s of sequences) for (const it of s) if (it >= n) seen[it - n] = 1;
    let vectors: SideVectors | undefined;
    if (o.itemVectors) {
      const v = readItemVectors(o.itemVectors, itemIds);
      if (v.unknownIds > 0) logger.warn(`item vectors ${o.itemVectors}: skipped ${v.unknownIds} line(s) whose item id is not in the store (e.g. ${v.unknownExamples.map((x) => JSON.stringify(x)).join(', ')}); add such items to the store first (arbor ingest-items)`);
      vectors = {
        dim: v.dim,
        old: v.data.subarray(0, n * v.dim),
        oldHas: v.has.subarray(0, n),
        new: v.data.subarray(n * v.dim),
        newHas: v.has.subarray(n),
      };
      let oldWith = 0;
      for (const h of vectors.oldHas) oldWith += h;
      if (oldWith === 0) logger.warn(`item vectors ${o.itemVectors}: none of the model's items has a vector, so no new item can start from its vector`);
    }
    const d = network.config.embDim;
    const ni = tree.layout.numInternal;
    const inputs: InitInputs = {
      oldRows: network.emb.subarray(ni * d, (ni + n) * d),
      dim: d,
      oldCategory: tree.items.itemCategory,
      newCategory,
      cooc,
      vectors,
    };
    const check = embedFrom === 'auto' ? checkSources(inputs) : undefined;
    if (check) {
      logger.info(`first embeddings: on ${check.items} of the model's items, side vectors rebuild the trained rows to cosine ${check.vectors.toFixed(3)}, categories to ${check.category.toFixed(3)}: ${check.first} goes first after events`);
    }
    const order: EmbedSource[] = embedFrom === 'auto' ? autoOrder(check) : [embedFrom];
    const init = initialRows(inputs, order);
    const ext = extendModel(tree, network, items, init.rows, placement, o.seed ?? model.manifest.seed, init.anchors);
    try {
      const bySource: Record<EmbedSource, number> = { events: 0, vectors: 0, category: 0, mean: 0 };
      for (const s of init.source) bySource[s]++;
      let withoutEvents = 0;
      for (const x of seen) if (!x) withoutEvents++;
      if (bySource.mean > 0) logger.warn(`${bySource.mean} new item(s) had no ${order.join(', ')} evidence and start from the mean item embedding`);
      const result = summary(newStore.length, {
        bySource,
        withoutEvents,
        newCategories: categoryIds.length - tree.items.categoryIds.length,
        levelsGrown: ext.levelsGrown,
        depthAfter: ext.tree.layout.depth,
        numItems: ext.tree.numItems,
        sourceCheck: check ?? null,
      });
      const history = Array.isArray(model.manifest.config.addItems) ? (model.manifest.config.addItems as unknown[]) : [];
      result.seconds = (Date.now() - started) / 1000;
      await writeModel(dir, {
        tree: ext.tree,
        network: ext.network,
        seed: model.manifest.seed,
        config: { ...model.manifest.config, addItems: [...history, { ...result, store: store.path, itemVectors: o.itemVectors ?? null }] },
        training: model.manifest.training,
      });
      result.seconds = (Date.now() - started) / 1000;
      return result;
    } finally {
      ext.network.dispose();
    }
  } finally {
    network.dispose();
  }
}
