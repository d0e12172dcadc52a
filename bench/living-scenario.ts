/**
 * A seeded "living catalogue" scenario on synthetic data, shared by the
 * add-items / warm-start measurements (bench/living.ts) and their test:
 *
 *  - a share of the items are "new": day 0's store holds every event but
 *    theirs (same users, same split), day 1's store is day 0's plus all
 *    events (the new items appended to the catalogue);
 *  - the cold store is day 0's plus the new items with their categories
 *    and no events (`Store.insertItems`, as `arbor ingest-items` does);
 *  - a vectors file gives every item a side vector: its planted category's
 *    random centre plus noise (a stand-in for image or text embeddings);
 *  - with `categoryNoise` P, each item's stored category label is, with
 *    probability P, a uniformly random one (the synthetic generator's
 *    seeded label noise): behaviour and side vectors still follow the
 *    planted category, as with coarse or wrong labels in a real catalogue.
 *
 * Held-out users are chosen on day 0 and keep their role on day 1, so no
 * model ever trains on them; their day-1 histories and truths judge it.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/core/rng.js';
import { Store, generateSynthetic, type SyntheticDataset } from '../src/data/index.js';
import type { EvalCase } from '../src/data/types.js';
import { subsetRecall, subsetRecallByUser, summarizeSubsetRecall, type SubsetRecall } from '../src/eval/new-items.js';
import { readModel } from '../src/model/folder.js';
import { TreeDataset } from '../src/model/dataset.js';
import { networkSearch } from '../src/beam/network-search.js';

/** Sizes and seeds of a scenario. */
export interface ScenarioOptions {
  items: number;
  users: number;
  /** Share of the items that are new on day 1. */
  newShare: number;
  testUsers: number;
  validUsers: number;
  seed: number;
  /** Length of the side vectors (default 16). */
  vectorDim?: number;
  /** Noise of the side vectors relative to their category centre (default 0.5). */
  vectorNoise?: number;
  /** Probability that an item's stored category is replaced by a uniformly random one (default 0). */
  categoryNoise?: number;
}

/** The files of a scenario. */
export interface Scenario {
  day0: string;
  day1: string;
  cold: string;
  vectors: string;
  /** External ids of the new items. */
  newIds: Set<string>;
  /** Items with events whose stored category differs from the planted one, and the new ones among them. */
  mislabelled: { items: number; newItems: number };
}

/** Writes the scenario's stores and vectors file into `dir`. */
export function makeScenario(dir: string, o: ScenarioOptions): Scenario {
  const ds = generateSynthetic({ items: o.items, users: o.users, seed: o.seed, categoryNoise: o.categoryNoise ?? 0 });
  const rng = new Rng(o.seed ^ 0x11fe);
  const used = new Set(ds.events.map((e) => e.item));
  const newIds = new Set<string>();
  for (const it of ds.items) if (used.has(it.id) && rng.next() < o.newShare) newIds.add(it.id);
  const day0 = join(dir, 'day0.db');
  const day1 = join(dir, 'day1.db');
  const cold = join(dir, 'cold.db');
  const old: SyntheticDataset = { ...ds, events: ds.events.filter((e) => !newIds.has(e.item)) };
  let s = Store.open(day0);
  try {
    s.insertDataset(old, 'day 0');
    s.split({ testUsers: o.testUsers, validUsers: o.validUsers, seed: o.seed });
  } finally {
    s.close();
  }
  copyFileSync(day0, day1);
  copyFileSync(day0, cold);
  s = Store.open(day1, { mustExist: true });
  try {
    s.insertDataset(ds, 'day 1');
  } finally {
    s.close();
  }
  s = Store.open(cold, { mustExist: true });
  try {
    s.insertItems(ds.items.filter((it) => newIds.has(it.id)).map((it) => ({ item: it.id, category: it.category })), 'new items');
  } finally {
    s.close();
  }
  const vectors = join(dir, 'vectors.jsonl');
  const dim = o.vectorDim ?? 16;
  const noise = o.vectorNoise ?? 0.5;
  const centres = new Map<string, number[]>();
  const vr = new Rng(o.seed ^ 0x7ec);
  const lines = ds.items
    .filter((it) => used.has(it.id))
    .map((it) => {
      let c = centres.get(it.plantedCategory);
      if (!c) centres.set(it.plantedCategory, (c = Array.from({ length: dim }, () => vr.normal())));
      const v = c.map((x) => Number((x + noise * vr.normal()).toFixed(4)));
      return JSON.stringify({ item: it.id, vector: v });
    });
  writeFileSync(vectors, lines.join('\n') + '\n');
  const wrong = ds.items.filter((it) => used.has(it.id) && it.category !== it.plantedCategory);
  const mislabelled = { items: wrong.length, newItems: wrong.filter((it) => newIds.has(it.id)).length };
  return { day0, day1, cold, vectors, newIds, mislabelled };
}

/** Test users of `db` in the model's item indices (items the model lacks are misses). */
export function testCases(db: string, modelDir: string): EvalCase[] {
  const store = Store.open(db, { mustExist: true });
  try {
    const { tree } = readModel(modelDir);
    return TreeDataset.of(store, tree).cases('test').cases;
  } finally {
    store.close();
  }
}

/** A model's recall on the test users: over all truth items, over the new ones, and the new-item recall of each user it averages. */
export interface ModelRecall {
  all: SubsetRecall;
  added: SubsetRecall;
  /** Per-user new-item recall by user id (the users `added` averages over). */
  addedByUser: Map<string, number>;
}

/** Beam-search recall@k of a model folder on the test users of `db`: over all truth items, and over the new ones. */
export function measureModel(modelDir: string, db: string, newIds: Set<string>, k: number, beam: number): ModelRecall {
  const cases = testCases(db, modelDir);
  const model = readModel(modelDir, { requireScorer: true });
  try {
    const ids = model.tree.items.itemIds;
    const search = networkSearch(model.tree, model.network!);
    const per = subsetRecallByUser(search, cases, k, beam, (t) => t >= 0 && newIds.has(ids[t]));
    return {
      all: subsetRecall(search, cases, k, beam),
      added: summarizeSubsetRecall(per, k),
      addedByUser: new Map(per.map((u) => [u.user, u.recall])),
    };
  } finally {
    model.network!.dispose();
  }
}
