import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { ArborError, InputError, UsageError } from '../src/core/errors.js';
import { Store, type InputFormat } from '../src/data/index.js';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const fixture = (name: string) => join(FIXTURES, name);
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-data-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** Every table's rows, to compare a store before and after a failed ingest. */
function dump(path: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    const tables = ['meta', 'users', 'categories', 'items', 'events', 'sources'];
    return Object.fromEntries(tables.map((t) => [t, db.prepare(`SELECT rowid, * FROM ${t} ORDER BY rowid`).all()]));
  } finally {
    db.close();
  }
}

/** The category id of each item, by external item id. */
function categoriesOf(store: Store): Record<string, string | null> {
  const cat = store.catalogue();
  return Object.fromEntries(cat.itemIds.map((id, i) => [id, cat.itemCategory[i] < 0 ? null : cat.categoryIds[cat.itemCategory[i]]]));
}

function titleOf(path: string, item: string): unknown {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare('SELECT title FROM items WHERE ext = ?').pluck().get(item);
  } finally {
    db.close();
  }
}

describe('ingest: formats', () => {
  it('reads Taobao UserBehavior CSV with categories from the rows, skipping blank lines', async () => {
    const path = join(tempDir(), 's.db');
    const store = Store.open(path);
    const report = await store.ingest(fixture('userbehavior.csv'), 'userbehavior');
    assert.deepEqual(
      { ...report, file: undefined },
      {
        file: undefined, format: 'userbehavior', rowsRead: 10, rowsKept: 10, eventsInserted: 10,
        usersInserted: 3, itemsInserted: 7, categoriesInserted: 4, alreadyIngested: false,
      },
    );
    assert.deepEqual(store.stats(), { users: 3, items: 7, categories: 4, events: 10, roles: { train: 3, valid: 0, test: 0 } });
    assert.deepEqual(categoriesOf(store), { 101: '11', 102: '11', 103: '12', 104: '13', 105: '12', 106: '13', 107: '14' });
    const ids = store.catalogue().itemIds;
    assert.deepEqual([...store.userHistory('2')!].map((i) => ids[i]), ['104', '101', '105', '106']);
    store.close();
  });

  it('reads MovieLens ratings.dat with movies.dat (latin1 titles)', async () => {
    const path = join(tempDir(), 's.db');
    const store = Store.open(path);
    const report = await store.ingest(fixture('ratings.dat'), 'movielens', { items: fixture('movies.dat') });
    assert.equal(report.rowsRead, 8);
    assert.deepEqual(store.stats(), { users: 3, items: 6, categories: 5, events: 8, roles: { train: 3, valid: 0, test: 0 } });
    assert.deepEqual(categoriesOf(store), {
      10: 'Animation', 20: 'Drama', 30: 'Sci-Fi', 40: 'Documentary', 50: 'Drama', 60: 'Horror',
    });
    store.close();
    assert.equal(titleOf(path, '20'), 'Café Lumière (2003)');
    assert.equal(titleOf(path, '70'), undefined, 'items only in the items file are not inserted');
  });

  it('reads MovieLens u.data with u.item (first flagged genre)', async () => {
    const path = join(tempDir(), 's.db');
    const store = Store.open(path);
    const report = await store.ingest(fixture('u.data'), 'movielens', { items: fixture('u.item') });
    assert.equal(report.rowsKept, 6);
    assert.deepEqual(store.stats(), { users: 3, items: 4, categories: 3, events: 6, roles: { train: 3, valid: 0, test: 0 } });
    assert.deepEqual(categoriesOf(store), { 1: 'Animation', 2: 'Crime', 3: 'Western', 4: null });
    store.close();
    assert.equal(titleOf(path, '2'), 'Beta Français (1996)');
  });

  it('reads MovieLens ratings.csv with movies.csv (RFC 4180 quoting)', async () => {
    const path = join(tempDir(), 's.db');
    const store = Store.open(path);
    const report = await store.ingest(fixture('ratings.csv'), 'movielens', { items: fixture('movies.csv') });
    assert.equal(report.rowsRead, 5, 'the header is not a row');
    assert.deepEqual(store.stats(), { users: 3, items: 3, categories: 2, events: 5, roles: { train: 3, valid: 0, test: 0 } });
    assert.deepEqual(categoriesOf(store), { 1: 'Adventure', 3: null, 2: 'Comedy' });
    store.close();
    assert.equal(titleOf(path, '2'), 'Beta, Gamma and "Delta" (2001)');
    const db = new Database(path, { readonly: true });
    assert.deepEqual(db.prepare('SELECT DISTINCT behavior FROM events ORDER BY behavior').pluck().all(), ['0.5', '2.5', '4', '4.5', '5']);
    db.close();
  });

  it('reads sequence text with an attributes JSON (first attribute = category)', async () => {
    const path = join(tempDir(), 's.db');
    const store = Store.open(path);
    const report = await store.ingest(fixture('sequence.txt'), 'sequence', { items: fixture('sequence_attributes.json') });
    assert.equal(report.rowsRead, 21);
    assert.deepEqual(store.stats(), { users: 5, items: 14, categories: 3, events: 21, roles: { train: 5, valid: 0, test: 0 } });
    const cats = categoriesOf(store);
    assert.equal(cats['301'], '7');
    assert.equal(cats['305'], '9');
    assert.equal(cats['310'], null);
    assert.equal(cats['399'], undefined);
    const ids = store.catalogue().itemIds;
    assert.deepEqual([...store.userHistory('14')!].map((i) => ids[i]), ['311', '305', '312', '313', '305', '314', '311']);
    store.close();
  });

  it('strips CRLF line ends', async () => {
    const dir = tempDir();
    const file = join(dir, 'crlf.csv');
    writeFileSync(file, readFileSync(fixture('userbehavior.csv'), 'utf8').replace(/\n/g, '\r\n'));
    const store = Store.open(join(dir, 's.db'));
    await store.ingest(file, 'userbehavior');
    assert.equal(store.stats().events, 10);
    assert.ok(store.catalogue().itemIds.every((id) => !id.includes('\r')));
    store.close();
  });
});

describe('ingest: re-ingesting and options', () => {
  it('skips identical content and never duplicates overlapping rows', async () => {
    const dir = tempDir();
    const store = Store.open(join(dir, 's.db'));
    await store.ingest(fixture('userbehavior.csv'), 'userbehavior');
    const copy = join(dir, 'copy.csv');
    copyFileSync(fixture('userbehavior.csv'), copy);
    const again = await store.ingest(copy, 'userbehavior');
    assert.equal(again.alreadyIngested, true);
    assert.equal(again.eventsInserted, 0);
    const bigger = join(dir, 'bigger.csv');
    writeFileSync(bigger, readFileSync(copy, 'utf8') + '4,108,15,pv,1511560000\n');
    const overlap = await store.ingest(bigger, 'userbehavior');
    assert.deepEqual(
      [overlap.alreadyIngested, overlap.rowsRead, overlap.eventsInserted, overlap.usersInserted, overlap.itemsInserted],
      [false, 11, 1, 1, 1],
    );
    assert.deepEqual(store.stats(), { users: 4, items: 8, categories: 5, events: 11, roles: { train: 4, valid: 0, test: 0 } });
    store.close();
  });

  it('minRating drops lower ratings; a later ingest with other options adds them', async () => {
    const store = Store.open(join(tempDir(), 's.db'));
    const high = await store.ingest(fixture('ratings.dat'), 'movielens', { minRating: 4 });
    assert.deepEqual([high.rowsRead, high.rowsKept, high.eventsInserted], [8, 5, 5]);
    assert.deepEqual(categoriesOf(store), { 10: null, 30: null, 50: null, 60: null });
    const all = await store.ingest(fixture('ratings.dat'), 'movielens');
    assert.deepEqual([all.alreadyIngested, all.eventsInserted], [false, 3]);
    assert.equal(store.stats().events, 8);
    store.close();
  });

  it('fills in the category of items ingested without one', async () => {
    const store = Store.open(join(tempDir(), 's.db'));
    await store.ingest(fixture('ratings.dat'), 'movielens');
    assert.ok(Object.values(categoriesOf(store)).every((c) => c === null));
    const withItems = await store.ingest(fixture('ratings.dat'), 'movielens', { items: fixture('movies.dat') });
    assert.deepEqual([withItems.eventsInserted, withItems.itemsInserted, withItems.categoriesInserted], [0, 0, 5]);
    assert.equal(categoriesOf(store)['30'], 'Sci-Fi');
    store.close();
  });

  it('rejects options that do not apply, unknown formats and missing stores', async () => {
    const store = Store.open(join(tempDir(), 's.db'));
    await store.ingest(fixture('sequence.txt'), 'sequence');
    await assert.rejects(store.ingest(fixture('userbehavior.csv'), 'userbehavior', { minRating: 4 }), UsageError);
    await assert.rejects(store.ingest(fixture('userbehavior.csv'), 'userbehavior', { items: fixture('movies.dat') }), UsageError);
    await assert.rejects(store.ingest(fixture('userbehavior.csv'), 'csv' as InputFormat), UsageError);
    store.close();
    const missing = join(tempDir(), 'none.db');
    assert.throws(() => Store.open(missing, { mustExist: true }), (e: unknown) => e instanceof ArborError && e.message.startsWith(`store not found: ${missing}: `));
    assert.equal(existsSync(missing), false);
  });
});

interface BadCase {
  name: string;
  format: InputFormat;
  data: string;
  items?: string;
  /** Replaces line `line` (1-based) of the data file (or of the items file when `inItems`). */
  line: number;
  bad: string;
  inItems?: boolean;
  /** Expected in the message after `file:line: `. */
  expect: string;
}

const BAD: BadCase[] = [
  { name: 'userbehavior: unknown behavior', format: 'userbehavior', data: 'userbehavior.csv', line: 3, bad: '1,103,12,click,1511544200', expect: '"click"' },
  { name: 'userbehavior: missing field', format: 'userbehavior', data: 'userbehavior.csv', line: 9, bad: '3,102,pv,1511550000', expect: '"3,102,pv,1511550000"' },
  { name: 'userbehavior: bad timestamp', format: 'userbehavior', data: 'userbehavior.csv', line: 10, bad: '3,102,11,pv,15115e3', expect: '"15115e3"' },
  { name: 'ratings.dat: rating out of range', format: 'movielens', data: 'ratings.dat', line: 4, bad: '2::10::6::978300800', expect: '"6"' },
  { name: 'u.data: not tab separated', format: 'movielens', data: 'u.data', line: 2, bad: '1 2 3 876893171', expect: '"1 2 3 876893171"' },
  { name: 'ratings.csv: bad timestamp', format: 'movielens', data: 'ratings.csv', line: 6, bad: '3,3,5.0,soon', expect: '"soon"' },
  { name: 'movies.dat: missing genres', format: 'movielens', data: 'ratings.dat', items: 'movies.dat', inItems: true, line: 2, bad: '20::No Genres', expect: '"20::No Genres"' },
  { name: 'movies.csv: broken quoting', format: 'movielens', data: 'ratings.csv', items: 'movies.csv', inItems: true, line: 3, bad: '2,"Beta (2001),Comedy', expect: '"2,\\"Beta (2001),Comedy"' },
  { name: 'u.item: bad genre flag', format: 'movielens', data: 'u.data', items: 'u.item', inItems: true, line: 1, bad: '1|A (1995)|01-Jan-1995||u|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|yes', expect: '"yes"' },
  { name: 'sequence: user without items', format: 'sequence', data: 'sequence.txt', line: 3, bad: '12', expect: '"12"' },
  { name: 'sequence: user listed twice', format: 'sequence', data: 'sequence.txt', line: 4, bad: '10 303', expect: '"10"' },
  { name: 'attributes: value not an array', format: 'sequence', data: 'sequence.txt', items: 'sequence_attributes.json', inItems: true, line: 5, bad: '  "304": 8,', expect: '"8"' },
];

/** A temp copy of `name` with line `line` replaced by `bad`. */
function corrupt(dir: string, name: string, line: number, bad: string): string {
  const lines = readFileSync(fixture(name), 'latin1').split('\n');
  lines[line - 1] = bad;
  const out = join(dir, `bad-${name}`);
  writeFileSync(out, lines.join('\n'), 'latin1');
  return out;
}

describe('ingest: malformed input', () => {
  for (const c of BAD) {
    it(`${c.name}: InputError naming file:line and value, store unchanged`, async () => {
      const dir = tempDir();
      const badFile = corrupt(dir, c.inItems ? c.items! : c.data, c.line, c.bad);
      const data = c.inItems ? fixture(c.data) : badFile;
      const items = c.inItems ? badFile : c.items && fixture(c.items);
      const isExpected = (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.ok(e.message.startsWith(`${badFile}:${c.line}: `), e.message);
        assert.ok(e.message.endsWith(c.expect), e.message);
        return true;
      };

      // A store holding other data (other users: a sequence user may not come from two files) stays exactly as it was.
      const path = join(dir, 'old.db');
      const store = Store.open(path);
      if (c.format === 'sequence') await store.ingest(fixture('userbehavior.csv'), 'userbehavior');
      else await store.ingest(fixture('sequence.txt'), 'sequence');
      const stats = store.stats();
      const before = dump(path);
      await assert.rejects(store.ingest(data, c.format, { items }), isExpected);
      assert.deepEqual(store.stats(), stats);
      assert.deepEqual(dump(path), before);
      store.close();

      // A store created for this ingest is deleted.
      const fresh = join(dir, 'fresh.db');
      await assert.rejects(Store.open(fresh).ingest(data, c.format, { items }), isExpected);
      assert.equal(existsSync(fresh), false);
      assert.equal(existsSync(`${fresh}-journal`), false);
    });
  }

  it('a non-object attributes file is an InputError', async () => {
    const dir = tempDir();
    const items = join(dir, 'attrs.json');
    writeFileSync(items, '[[1, 2]]\n');
    await assert.rejects(Store.open(join(dir, 's.db')).ingest(fixture('sequence.txt'), 'sequence', { items }), (e: unknown) => {
      assert.ok(e instanceof InputError && e.message.startsWith(`${items}:1: `), String(e));
      return true;
    });
  });

  it('an unreadable items or data file is an ArborError and leaves no store behind', async () => {
    const dir = tempDir();
    const path = join(dir, 's.db');
    const missing = join(dir, 'missing.dat');
    await assert.rejects(
      Store.open(path).ingest(fixture('ratings.dat'), 'movielens', { items: missing }),
      (e: unknown) => e instanceof ArborError && e.message.includes(missing),
    );
    assert.equal(existsSync(path), false);
    await assert.rejects(Store.open(path).ingest(missing, 'movielens'), ArborError);
    assert.equal(existsSync(path), false);
  });
});
