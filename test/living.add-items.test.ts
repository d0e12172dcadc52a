/**
 * add-items on a seeded living-catalogue scenario (bench/living-scenario.ts):
 * items new on day 1 are added to a model trained on day 0, without
 * retraining, and must be retrieved for the test users who later meet them
 * nearly as well as by a model retrained from scratch on day 1, and far
 * better than when placed at random leaves. Items with side data only (cold
 * start) are judged the same way. Then warm-started training on day 1.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../src/core/log.js';
import { Store } from '../src/data/index.js';
import { readModel } from '../src/model/folder.js';
import { QueryResolver } from '../src/model/queries.js';
import { addItemsToFolder, type AddItemsOptions } from '../src/pipeline/add-items.js';
import { createModelFolder, trainModelFolder, type TrainModelOptions } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import { assertTreeInvariants } from './helpers/trees.js';
import { tempDir } from './helpers/training.js';
import { makeScenario, measureModel, type Scenario } from '../bench/living-scenario.js';

const temp = tempDir('living');
after(temp.cleanup);
const SEED = 11;
const K = 20;
const train = (epochs: number, extra: Partial<TrainModelOptions> = {}): TrainModelOptions => ({
  train: { epochs, workers: 0, batchSize: 256 },
  embDim: 16,
  seed: SEED,
  hierarchical: true,
  ...extra,
});

async function within<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = Store.open(db, { mustExist: true });
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

describe('add-items on a living catalogue', () => {
  let sc: Scenario;
  const m0 = join(temp.dir, 'm0');
  const scratch = join(temp.dir, 'scratch');
  let scratchNew = 0;

  before(async () => {
    await initBackend();
    sc = makeScenario(temp.dir, { items: 1000, users: 600, newShare: 0.1, testUsers: 150, validUsers: 50, seed: SEED });
    for (const [dir, db] of [[m0, sc.day0], [scratch, sc.day1]] as const) {
      await within(db, (s) => createModelFolder(s, dir, { init: 'category', branching: 2, seed: SEED }));
      await within(db, (s) => trainModelFolder(s, dir, train(2), silentLogger));
    }
    scratchNew = measureModel(scratch, sc.day1, sc.newIds, K, 2 * K).added.recall;
  });

  const added = async (name: string, db: string, o: AddItemsOptions) => {
    const dir = join(temp.dir, name);
    cpSync(m0, dir, { recursive: true });
    const summary = await within(db, (s) => addItemsToFolder(s, dir, { seed: SEED, ...o }, silentLogger));
    return { dir, summary, recall: measureModel(dir, sc.day1, sc.newIds, K, 2 * K) };
  };

  // measured at this size (seed 11): added 0.72× the retrained recall@20 and 4.4× the random-leaf control; cold 0.39× and 8.3×
  it('new items with events reach most of the retrained model\'s recall on the users who meet them, far above random leaves', async () => {
    const def = await added('default', sc.day1, {});
    const control = await added('random', sc.day1, { placement: 'random' });
    assert.equal(def.summary.added, sc.newIds.size);
    const b = def.summary.bySource;
    assert.equal(b.events + b.vectors + b.category + b.mean, sc.newIds.size);
    assert.ok(b.events >= 0.9 * sc.newIds.size, `${b.events} of ${sc.newIds.size} new items start from their training events`);
    assert.equal(b.events, sc.newIds.size - def.summary.withoutEvents, 'exactly the items with training events start from them');
    assert.ok(def.recall.added.users >= 30, `${def.recall.added.users} test users meet new items`);
    const ratio = def.recall.added.recall / scratchNew;
    const overControl = def.recall.added.recall / Math.max(control.recall.added.recall, 1e-9);
    assert.ok(ratio >= 0.6, `added items reach ${(ratio * 100).toFixed(1)} % of the retrained recall@${K} (${def.recall.added.recall.toFixed(3)} vs ${scratchNew.toFixed(3)})`);
    assert.ok(overControl >= 3, `${overControl.toFixed(2)}× the random-leaf control (${control.recall.added.recall.toFixed(3)})`);
    const model = readModel(def.dir, { requireScorer: true });
    try {
      assertTreeInvariants(model.tree);
      // histories with the new items are read, not skipped
      const ids = [...sc.newIds].slice(0, 3);
      const r = new QueryResolver(model.tree, { k: 10 }).resolve({ history: ids });
      assert.equal(r.skippedHistory, 0);
      assert.equal(r.query.history.length, 3);
    } finally {
      model.network!.dispose();
    }
  });

  it('cold items (a category, no events) start from their category and land near it', async () => {
    const cold = await added('cold', sc.cold, {});
    const control = await added('cold-random', sc.cold, { placement: 'random' });
    assert.equal(cold.summary.withoutEvents, sc.newIds.size);
    assert.equal(cold.summary.bySource.category, sc.newIds.size);
    const ratio = cold.recall.added.recall / scratchNew;
    assert.ok(ratio >= 0.3, `cold items reach ${(ratio * 100).toFixed(1)} % of the retrained recall@${K}`);
    assert.ok(cold.recall.added.recall >= 3 * control.recall.added.recall, `${cold.recall.added.recall.toFixed(3)} vs random ${control.recall.added.recall.toFixed(3)}`);
    // then the events arrive: adding again finds nothing new
    const again = await within(sc.day1, (s) => addItemsToFolder(s, cold.dir, {}, silentLogger));
    assert.equal(again.added, 0);
  });

  it('warm start trains from the folder\'s weights on the current events and keeps the added items', async () => {
    const dir = join(temp.dir, 'warm');
    cpSync(m0, dir, { recursive: true });
    await within(sc.day1, (s) => addItemsToFolder(s, dir, {}, silentLogger));
    const beforeWarm = measureModel(dir, sc.day1, sc.newIds, K, 2 * K);
    const { summary } = await within(sc.day1, (s) => trainModelFolder(s, dir, train(1, { warmStart: true, embDim: 99, scorer: 'attention' }), silentLogger));
    const afterWarm = measureModel(dir, sc.day1, sc.newIds, K, 2 * K);
    const model = readModel(dir, { requireScorer: true });
    try {
      assert.equal(model.network!.config.embDim, 16, 'the shape comes from the folder');
      assert.equal(model.network!.config.kind, 'pooling');
      assert.equal(model.tree.numItems, readModel(scratch).tree.numItems);
    } finally {
      model.network!.dispose();
    }
    assert.equal(summary.epochs.length, 1);
    assert.ok(afterWarm.all.recall >= beforeWarm.all.recall - 0.02, `one warm epoch: ${beforeWarm.all.recall.toFixed(3)} → ${afterWarm.all.recall.toFixed(3)}`);
    assert.ok(!existsSync(join(dir, 'checkpoint')));
  });

  it('refuses what does not fit: warm start without a scorer, with --joint or --item-vectors', async () => {
    const bare = join(temp.dir, 'bare');
    await within(sc.day1, (s) => createModelFolder(s, bare, { init: 'category', branching: 2, seed: SEED }));
    await assert.rejects(within(sc.day1, (s) => trainModelFolder(s, bare, train(1, { warmStart: true }), silentLogger)), /no trained scorer/);
    await assert.rejects(within(sc.day1, (s) => trainModelFolder(s, m0, train(1, { warmStart: true, itemVectors: sc.vectors }), silentLogger)), /--item-vectors/);
    await assert.rejects(within(sc.day1, (s) => trainModelFolder(s, m0, train(1, { warmStart: true, joint: { rounds: 1, gap: 3, maxPairsPerItem: 0 } }), silentLogger)), /--joint/);
    await assert.rejects(within(sc.day1, (s) => addItemsToFolder(s, bare, {}, silentLogger)), /no trained scorer/);
    await assert.rejects(within(sc.day1, (s) => addItemsToFolder(s, m0, { embedFrom: 'vectors' }, silentLogger)), /--item-vectors/);
  });
});
