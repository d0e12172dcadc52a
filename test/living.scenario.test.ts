/**
 * The living-catalogue scenario's label noise (bench/living-scenario.ts):
 * with `categoryNoise` P the stores hold a random category for about P of
 * the items, the same one on every store, while the events and the side
 * vectors (which follow the planted category) are those of the clean
 * scenario.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Store } from '../src/data/index.js';
import { tempDir } from './helpers/training.js';
import { makeScenario } from '../bench/living-scenario.js';

const temp = tempDir('living-scenario');
after(temp.cleanup);

/** External category id of every item of a store, by item id. */
function labels(db: string): Map<string, string> {
  const s = Store.open(db, { mustExist: true });
  try {
    const c = s.catalogue();
    return new Map(c.itemIds.map((id, i) => [id, c.itemCategory[i] < 0 ? '' : c.categoryIds[c.itemCategory[i]]]));
  } finally {
    s.close();
  }
}

it('category noise relabels about P of the stored items, seeded, and leaves events and side vectors alone', () => {
  const make = (name: string, categoryNoise: number) => {
    const dir = join(temp.dir, name);
    mkdirSync(dir);
    return makeScenario(dir, { items: 600, users: 200, newShare: 0.1, testUsers: 40, validUsers: 20, seed: 5, categoryNoise });
  };
  const clean = make('clean', 0);
  const noisy = make('noisy', 0.5);
  const again = make('again', 0.5);
  assert.deepEqual(clean.mislabelled, { items: 0, newItems: 0 });
  assert.deepEqual(noisy.newIds, clean.newIds);
  assert.deepEqual(again.mislabelled, noisy.mislabelled);
  assert.equal(readFileSync(noisy.vectors, 'utf8'), readFileSync(clean.vectors, 'utf8'), 'side vectors follow the planted category');
  const planted = labels(clean.day1);
  const stored = labels(noisy.day1);
  assert.deepEqual(labels(again.day1), stored);
  let changed = 0;
  for (const [id, c] of planted) if (stored.get(id) !== c) changed++;
  assert.equal(changed, noisy.mislabelled.items);
  // 24 categories: a replaced label keeps the planted one with chance 1/24
  const share = changed / planted.size;
  assert.ok(share > 0.4 && share < 0.6, `share relabelled at P = 0.5: ${share}`);
  // the cold store carries the same (noisy) labels for the new items, and day 0 for the old ones
  const cold = labels(noisy.cold);
  const day0 = labels(noisy.day0);
  for (const id of noisy.newIds) assert.equal(cold.get(id), stored.get(id));
  for (const [id, c] of day0) assert.equal(c, stored.get(id));
  for (const db of ['day0', 'day1'] as const) {
    const a = Store.open(clean[db], { mustExist: true });
    const b = Store.open(noisy[db], { mustExist: true });
    try {
      assert.deepEqual(b.sequences(), a.sequences(), `${db} events`);
    } finally {
      a.close();
      b.close();
    }
  }
});
