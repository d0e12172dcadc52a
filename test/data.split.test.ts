import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { UsageError } from '../src/core/errors.js';
import { Store, halfSplit } from '../src/data/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-split-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A store holding fixtures/sequence.txt: users 10, 11, 12, 14 have >= 2 events, user 13 has one. */
async function sequenceStore(): Promise<Store> {
  const store = Store.open(join(tempDir(), 's.db'));
  await store.ingest(join(FIXTURES, 'sequence.txt'), 'sequence');
  return store;
}

function rolesOf(store: Store): Record<string, string> {
  return Object.fromEntries(store.sequences().map((s) => [s.user, s.role]));
}

/** External item ids of item indices. */
function ext(store: Store, items: Int32Array): string[] {
  const ids = store.catalogue().itemIds;
  return [...items].map((i) => ids[i]);
}

describe('split', () => {
  it('is deterministic per seed, with disjoint roles of the right sizes', async () => {
    const a = await sequenceStore();
    const b = await sequenceStore();
    assert.equal(a.hasSplit(), false);
    const report = a.split({ testUsers: 2, validUsers: 1, seed: 7 });
    assert.deepEqual(report, { testUsers: 2, validUsers: 1, trainUsers: 2, seed: 7 });
    b.split({ testUsers: 2, validUsers: 1, seed: 7 });
    assert.equal(a.hasSplit(), true);
    assert.deepEqual(rolesOf(a), rolesOf(b));
    assert.deepEqual(a.stats().roles, { train: 2, valid: 1, test: 2 });
    const test = a.sequences(['test']).map((s) => s.user);
    const valid = a.sequences(['valid']).map((s) => s.user);
    const train = a.sequences(['train']).map((s) => s.user);
    assert.equal(new Set([...test, ...valid, ...train]).size, 5);
    assert.ok(!test.includes('13') && !valid.includes('13'), 'a user with one event is never held out');

    const seen = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      a.split({ testUsers: 2, validUsers: 1, seed });
      assert.deepEqual(a.stats().roles, { train: 2, valid: 1, test: 2 }, 'each split starts from all-train');
      seen.add(JSON.stringify(rolesOf(a)));
    }
    assert.ok(seen.size > 1, 'different seeds give different splits');
    a.close();
    b.close();
  });

  it('refuses to hold out more users than are eligible, naming the numbers', async () => {
    const store = await sequenceStore();
    assert.throws(() => store.split({ testUsers: 3, validUsers: 2, seed: 1 }), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /3 test \+ 2 validation users: only 4 users have at least 2 events/);
      return true;
    });
    store.split({ testUsers: 5, validUsers: 0, seed: 1, minEvents: 1 });
    assert.throws(() => store.split({ testUsers: 1, validUsers: 0, seed: 1, minEvents: 0 }), UsageError);
    assert.throws(() => store.split({ testUsers: -1, validUsers: 0, seed: 1 }), UsageError);
    store.close();
  });

  it('evalCases cut each held-out history in half, truth = distinct items of the rest', async () => {
    const store = await sequenceStore();
    store.split({ testUsers: 4, validUsers: 0, seed: 3 });
    const cases = Object.fromEntries(
      store.evalCases('test').map((c) => [c.user, { history: ext(store, c.history), truth: ext(store, c.truth) }]),
    );
    assert.deepEqual(cases, {
      10: { history: ['301', '302'], truth: ['303', '304', '305'] },
      11: { history: ['306', '302', '307'], truth: ['301', '308', '307'] },
      12: { history: ['309'], truth: ['310'] },
      14: { history: ['311', '305', '312'], truth: ['313', '305', '314', '311'] },
    });
    assert.deepEqual(store.evalCases('valid'), []);
    store.close();
  });

  it('halfSplit keeps first occurrences in order', () => {
    const { history, truth } = halfSplit(Int32Array.from([5, 6, 7, 8, 7, 9, 8]));
    assert.deepEqual([...history], [5, 6, 7]);
    assert.deepEqual([...truth], [8, 7, 9]);
  });
});

describe('sequences', () => {
  it('orders by timestamp, ties in file order, users by index', async () => {
    const dir = tempDir();
    const file = join(dir, 'ub.csv');
    writeFileSync(file, ['b,3,1,pv,30', 'a,1,1,pv,20', 'b,1,1,pv,10', 'b,2,1,pv,30', 'a,2,1,cart,5', 'b,4,1,pv,20'].join('\n'));
    const store = Store.open(join(dir, 's.db'));
    await store.ingest(file, 'userbehavior');
    const seqs = store.sequences().map((s) => ({ user: s.user, role: s.role, items: ext(store, s.items) }));
    assert.deepEqual(seqs, [
      { user: 'b', role: 'train', items: ['1', '4', '3', '2'] },
      { user: 'a', role: 'train', items: ['2', '1'] },
    ]);
    assert.deepEqual(ext(store, store.userHistory('b')!), ['1', '4', '3', '2']);
    assert.equal(store.userHistory('nobody'), undefined);
    assert.deepEqual(store.sequences([]), []);
    store.close();
  });
});
