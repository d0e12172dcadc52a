import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UsageError } from '../src/core/errors.js';
import { Store, generateSynthetic, writeSyntheticUserBehaviorCsv, writeUserBehaviorCsv, type SyntheticDataset } from '../src/data/index.js';

const OPTS = { items: 2000, users: 300, seed: 11 };

/** Events grouped by user, in generation order. */
function byUser(ds: SyntheticDataset): Map<string, SyntheticDataset['events']> {
  const users = new Map<string, SyntheticDataset['events']>();
  for (const e of ds.events) {
    if (!users.has(e.user)) users.set(e.user, []);
    users.get(e.user)!.push(e);
  }
  return users;
}

describe('generateSynthetic', () => {
  it('is deterministic per seed', () => {
    assert.deepEqual(generateSynthetic(OPTS), generateSynthetic(OPTS));
    assert.notDeepEqual(generateSynthetic(OPTS).events, generateSynthetic({ ...OPTS, seed: 12 }).events);
  });

  it('category noise relabels about P of the items, uniformly, and leaves the events alone', () => {
    const clean = generateSynthetic(OPTS);
    assert.ok(clean.items.every((i) => i.category === i.plantedCategory));
    const half = generateSynthetic({ ...OPTS, categoryNoise: 0.5 });
    const all = generateSynthetic({ ...OPTS, categoryNoise: 1 });
    assert.deepEqual(half.events, clean.events);
    assert.deepEqual(all.events, clean.events);
    assert.deepEqual(half.items.map((i) => i.plantedCategory), clean.items.map((i) => i.category));
    const nCategories = clean.config.superCategories * clean.config.categoriesPerSuper;
    // a replaced label keeps the planted category with chance 1/nCategories
    const changed = (ds: SyntheticDataset) => ds.items.filter((i) => i.category !== i.plantedCategory).length / ds.items.length;
    const expectHalf = 0.5 * (1 - 1 / nCategories);
    assert.ok(Math.abs(changed(half) - expectHalf) < 0.05, `share relabelled at P = 0.5: ${changed(half)}`);
    assert.ok(Math.abs(changed(all) - (1 - 1 / nCategories)) < 0.03, `share relabelled at P = 1: ${changed(all)}`);
    // an item relabelled at P = 0.5 carries the same random label at P = 1
    for (let k = 0; k < half.items.length; k++) if (half.items[k].category !== half.items[k].plantedCategory) assert.equal(half.items[k].category, all.items[k].category);
    // at P = 1 the label says nothing about the item: each label's items spread over many planted categories
    const planted = new Map<string, Set<string>>();
    for (const i of all.items) planted.set(i.category, (planted.get(i.category) ?? new Set()).add(i.plantedCategory));
    const spread = [...planted.values()].reduce((a, b) => a + b.size, 0) / planted.size;
    assert.ok(spread > 10, `planted categories per label at P = 1: ${spread}`);
    assert.throws(() => generateSynthetic({ ...OPTS, categoryNoise: 1.5 }), UsageError);
  });

  it('has the requested sizes and a consistent planted hierarchy', () => {
    const ds = generateSynthetic(OPTS);
    const { superCategories, categoriesPerSuper, minEvents, maxEvents } = ds.config;
    assert.deepEqual([superCategories, categoriesPerSuper, minEvents, maxEvents], [16, 5, 20, 80]);
    assert.equal(ds.items.length, 2000);
    assert.deepEqual(ds.items.slice(0, 2).map((i) => i.id), ['i0', 'i1']);

    const superOf = new Map<string, string>();
    const sizes = new Map<string, number>();
    for (const item of ds.items) {
      assert.equal(superOf.get(item.category) ?? item.superCategory, item.superCategory, `${item.category} has one super-category`);
      superOf.set(item.category, item.superCategory);
      sizes.set(item.category, (sizes.get(item.category) ?? 0) + 1);
    }
    assert.equal(sizes.size, superCategories * categoriesPerSuper, 'every category holds items');
    assert.equal(new Set(superOf.values()).size, superCategories);
    assert.ok(new Set(sizes.values()).size > 5, 'category sizes vary');

    const users = byUser(ds);
    assert.equal(users.size, 300);
    const itemIds = new Set(ds.items.map((i) => i.id));
    const superOfItem = new Map(ds.items.map((i) => [i.id, i.superCategory]));
    let topSuperShare = 0;
    for (const events of users.values()) {
      assert.ok(events.length >= minEvents && events.length <= maxEvents);
      events.forEach((e, k) => {
        assert.ok(itemIds.has(e.item));
        assert.equal(e.behavior, 'pv');
        if (k > 0) assert.ok(e.ts > events[k - 1].ts, 'timestamps increase within a user');
      });
      const counts = new Map<string, number>();
      for (const e of events) counts.set(superOfItem.get(e.item)!, (counts.get(superOfItem.get(e.item)!) ?? 0) + 1);
      topSuperShare += Math.max(...counts.values()) / events.length / users.size;
    }
    assert.ok(topSuperShare > 0.6, `users stay mostly within one super-category (${topSuperShare.toFixed(2)})`);
  });

  it('validates its options', () => {
    assert.throws(() => generateSynthetic({ items: 0, users: 1, seed: 1 }), UsageError);
    assert.throws(() => generateSynthetic({ items: 10, users: 1, seed: 1, superCategories: 3, categoriesPerSuper: 4 }), UsageError);
    assert.throws(() => generateSynthetic({ items: 10, users: 1, seed: 1, minEvents: 5, maxEvents: 4 }), UsageError);
    assert.throws(() => generateSynthetic({ items: 10, users: 1, seed: 1, noise: 2 }), UsageError);
    const tiny = generateSynthetic({ items: 3, users: 2, seed: 1, minEvents: 1, maxEvents: 1 });
    assert.equal(tiny.events.length, 2);
  });
});

describe('synthetic data in a store', () => {
  it('round-trips through the Taobao CSV and insertDataset with the same counts', async () => {
    const ds = generateSynthetic(OPTS);
    const dir = mkdtempSync(join(tmpdir(), 'arbor-synthetic-'));
    const csv = join(dir, 'synthetic.csv');
    writeUserBehaviorCsv(ds, csv);
    const fromCsv = Store.open(join(dir, 'csv.db'));
    const report = await fromCsv.ingest(csv, 'userbehavior');
    const direct = Store.open(join(dir, 'direct.db'));
    const inserted = direct.insertDataset(ds, 'synthetic');

    const usedItems = new Set(ds.events.map((e) => e.item));
    const categoryOf = new Map(ds.items.map((i) => [i.id, i.category]));
    const expected = {
      users: 300,
      items: usedItems.size,
      categories: new Set([...usedItems].map((id) => categoryOf.get(id))).size,
      events: ds.events.length,
      roles: { train: 300, valid: 0, test: 0 },
    };
    assert.deepEqual(fromCsv.stats(), expected);
    assert.deepEqual(direct.stats(), expected);
    assert.equal(report.rowsRead, ds.events.length);
    const { format, alreadyIngested, ...counts } = report;
    assert.deepEqual([format, alreadyIngested], ['userbehavior', false]);
    assert.deepEqual({ ...inserted, file: csv }, counts);
    assert.deepEqual(fromCsv.catalogue(), direct.catalogue());
    assert.deepEqual(fromCsv.sequences(), direct.sequences());
    fromCsv.close();
    direct.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('writeSyntheticUserBehaviorCsv', () => {
  it('streams byte for byte the CSV of the generated data set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbor-synthetic-'));
    for (const opts of [OPTS, { items: 500, users: 90, seed: 5, minEvents: 1, maxEvents: 200, noise: 0.3 }, { ...OPTS, categoryNoise: 0.5 }]) {
      const ds = generateSynthetic(opts);
      writeUserBehaviorCsv(ds, join(dir, 'whole.csv'));
      assert.equal(writeSyntheticUserBehaviorCsv(opts, join(dir, 'streamed.csv')), ds.events.length);
      assert.ok(readFileSync(join(dir, 'streamed.csv')).equals(readFileSync(join(dir, 'whole.csv'))));
    }
    assert.throws(() => writeSyntheticUserBehaviorCsv({ items: 0, users: 1, seed: 1 }, join(dir, 'bad.csv')), UsageError);
    rmSync(dir, { recursive: true, force: true });
  });
});
