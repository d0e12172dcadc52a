/**
 * The fast ingest path: the UserBehavior byte parser against the line
 * parser (same rows, same errors, for any content and any chunking), the
 * byte-keyed id interner against a Map, line runs across chunk boundaries,
 * streaming (an endless source is read chunk by chunk), multi-row inserts
 * with repeats, and stores of schema version 1 (read as they are, upgraded
 * by the next ingest).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { InputError } from '../src/core/errors.js';
import { Store } from '../src/data/index.js';
import { decodingLines, forEachLine, forEachLineRun, type InputSource } from '../src/data/files.js';
import { formatSpec, type ByteRowSink, type RowSink } from '../src/data/formats/index.js';
import { IdInterner } from '../src/data/interner.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-fast-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** `bytes` as a source delivered in pieces cut at `cuts` (offsets, any order). */
function pieces(bytes: Buffer, cuts: number[]): InputSource {
  const at = [...new Set(cuts.map((c) => Math.min(c, bytes.length)))].sort((a, b) => a - b);
  async function* chunks(): AsyncGenerator<Buffer> {
    let from = 0;
    for (const c of [...at, bytes.length]) {
      if (c > from) yield bytes.subarray(from, c);
      from = c;
    }
  }
  return { name: 'data.csv', regular: false, size: 0, chunks: chunks() };
}

type Row = [user: string, item: string, category: string, behavior: string, ts: number, line: number];

/** Rows (and the error, if any) of the line parser alone. */
async function byLines(bytes: Buffer, cuts: number[]): Promise<{ rows: Row[]; error?: string }> {
  const rows: Row[] = [];
  let line = 0;
  const sink: RowSink = {
    event: (u, i, b, ts, c) => rows.push([u, i, c as string, b, ts, line]),
    dropped: () => assert.fail('userbehavior drops nothing'),
  };
  const parse = formatSpec('userbehavior').parser('data.csv', sink, undefined);
  try {
    await forEachLine(pieces(bytes, cuts), 'utf8', (text, no) => {
      line = no;
      parse(text, no);
    });
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return { rows, error: e.message };
  }
  return { rows };
}

/** Rows (and the error, if any) of the byte parser with the line parser behind it, as ingest runs them. */
async function byRuns(bytes: Buffer, cuts: number[]): Promise<{ rows: Row[]; error?: string }> {
  const rows: Row[] = [];
  let line = 0;
  const text = (buf: Buffer, s: number, e: number) => buf.toString('utf8', s, e);
  const users: string[] = [];
  const items: string[] = [];
  const categories: string[] = [];
  const fast: ByteRowSink = {
    user: (buf, s, e) => users.push(text(buf, s, e)) - 1,
    item: (buf, s, e, cs, ce) => {
      categories.push(text(buf, cs, ce));
      return items.push(text(buf, s, e)) - 1;
    },
    event: (u, i, b, ts, no) => rows.push([users[u], items[i], categories[i], b, ts, no]),
  };
  const slow: RowSink = {
    event: (u, i, b, ts, c) => rows.push([u, i, c as string, b, ts, line]),
    dropped: () => assert.fail('userbehavior drops nothing'),
  };
  const spec = formatSpec('userbehavior');
  const parse = spec.parser('data.csv', slow, undefined);
  const onRun = spec.runParser!('data.csv', fast, decodingLines('data.csv', 'utf8', (t, no) => {
    line = no;
    parse(t, no);
  }));
  try {
    await forEachLineRun(pieces(bytes, cuts), 'utf8', onRun);
  } catch (e) {
    assert.ok(e instanceof InputError, String(e));
    return { rows, error: e.message };
  }
  return { rows };
}

const oddPart = fc.constantFrom('"', '-', 'é', '中', ' ', '\t', '\u00a0', '\u0000', '\u007f', '\r', '~');
const oddId = fc.tuple(fc.constantFrom('u', '7', ''), oddPart, fc.constantFrom('', 'x', '1')).map((p) => p.join(''));
const field = (plain: fc.Arbitrary<string>, odd: fc.Arbitrary<string>) => fc.oneof({ weight: 5, arbitrary: plain }, { weight: 1, arbitrary: odd });
const plainTs = fc.integer({ min: 0, max: 2e9 }).map(String);
const oddTs = fc.constantFrom('0', '-0', '-15', '0012', '999999999999999', '1000000000000000', '9007199254740991', '9007199254740993', '12a', '', ' 1', '1 ', '1.5', '+1', '-');
// each field mostly plain, sometimes odd, so the byte parser meets every odd field in an otherwise plain line
const row = fc.tuple(
  field(fc.constantFrom('u1', 'u2', 'U10'), oddId),
  field(fc.constantFrom('i1', 'i2', 'i3'), oddId),
  field(fc.constantFrom('c1', 'c2'), oddId),
  field(fc.constantFrom('pv', 'cart', 'fav', 'buy'), fc.constantFrom('view', 'PV', 'pv ', '', 'buyy', 'ca', 'fa')),
  field(plainTs, oddTs),
  field(fc.constant(''), fc.constantFrom(',x', ',', '\r')),
).map(([u, i, c, b, t, extra]) => `${u},${i},${c},${b},${t}${extra}`);
const blank = fc.constantFrom('', ' ', '\t', '\r');
const content = fc.tuple(
  fc.array(fc.oneof({ weight: 8, arbitrary: row }, { weight: 1, arbitrary: blank }), { maxLength: 30 }),
  fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 30, maxLength: 30 }),
  fc.boolean(),
).map(([lines, ends, finalEnd]) => lines.map((l, k) => l + (k < lines.length - 1 || finalEnd ? ends[k] : '')).join(''));

describe('userbehavior: the byte parser reads exactly what the line parser reads', () => {
  it('same rows, line numbers and first error, for any content and any chunking', async () => {
    await fc.assert(
      fc.asyncProperty(content, fc.array(fc.nat({ max: 400 }), { maxLength: 6 }), async (text, cuts) => {
        const bytes = Buffer.from(text, 'utf8');
        assert.deepEqual(await byRuns(bytes, cuts), await byLines(bytes, cuts));
      }),
      { numRuns: 400, seed: 14 },
    );
  });

  it('bytes that are not UTF-8, a byte order mark and a last line without a line end', async () => {
    const cases = [
      Buffer.concat([Buffer.from('u1,i1,c1,pv,1\nu1,i'), Buffer.from([0xe8]), Buffer.from(',c1,pv,2\n')]),
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('u1,i1,c1,pv,1\nu2,i2,c1,buy,2')]),
      Buffer.from('u1,i1,c1,pv,1\r'),
    ];
    for (const bytes of cases) {
      for (const cuts of [[], [1], [2, 3, 17], [16, 18]]) assert.deepEqual(await byRuns(bytes, cuts), await byLines(bytes, cuts));
    }
    assert.match((await byRuns(cases[0], [])).error!, /^data\.csv:2: not valid UTF-8/);
    assert.deepEqual((await byRuns(cases[1], [2])).rows.map((r) => r[0]), ['u1', 'u2']);
  });
});

describe('line runs', () => {
  it('cover every line once, in order, across chunk boundaries and a line longer than a chunk', async () => {
    const lines = Array.from({ length: 3000 }, (_, k) => (k === 1234 ? 'x'.repeat(3 << 20) : `line ${k}`));
    const bytes = Buffer.from(lines.join('\n') + '\n');
    const dir = tempDir();
    writeFileSync(join(dir, 'big.txt'), bytes);
    const seen: string[] = [];
    const runs: [first: number, lines: number][] = [];
    await forEachLineRun(join(dir, 'big.txt'), 'utf8', (buf, start, end, first) => {
      assert.equal(first, seen.length + 1);
      const text = buf.toString('utf8', start, end);
      const got = text.split('\n');
      if (got[got.length - 1] === '') got.pop();
      seen.push(...got);
      runs.push([first, got.length]);
      return got.length;
    });
    assert.equal(seen.length, lines.length);
    assert.ok(seen.every((l, k) => l === lines[k]));
    // 1 MiB reads: the whole lines of the first, the long line once complete (4 reads later), the rest
    assert.deepEqual(runs, [[1, 1234], [1235, 1], [1236, 1765]]);
  });

  it('stream: an endless source is read one chunk ahead of the lines handed over, never slurped', async () => {
    let read = 0;
    async function* endless(): AsyncGenerator<Buffer> {
      for (let k = 0; ; k++) {
        read++;
        yield Buffer.from(`u${k},i${k % 97},c${k % 7},pv,${k}\n`.repeat(50));
      }
    }
    let lines = 0;
    const stop = new Error('enough');
    await assert.rejects(
      forEachLineRun({ name: 'endless', regular: false, size: 0, chunks: endless() }, 'utf8', (buf, start, end) => {
        let n = 0;
        for (let i = buf.indexOf(10, start); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n++;
        lines += n;
        assert.ok(read * 50 - lines <= 50, `at most one chunk read ahead (${read} chunks read, ${lines} lines handed over)`);
        if (lines >= 200_000) throw stop;
        return n;
      }),
      (e) => e === stop,
    );
  });
});

describe('IdInterner', () => {
  it('gives the dense ids of a Map, in order of first sight, through growth and for any UTF-8 text', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom('a', 'é', '中', '\u{1f600}', '')), { maxLength: 3000 }), (keys) => {
        const interner = new IdInterner('test', 4);
        const map = new Map<string, number>();
        for (const key of keys) {
          if (!map.has(key)) map.set(key, map.size + 1);
          const bytes = Buffer.from(key, 'utf8');
          const id = keys.length % 2 ? interner.internString(key) : interner.intern(bytes, 0, bytes.length);
          assert.equal(id, map.get(key));
        }
        assert.equal(interner.size, map.size);
        for (const [key, id] of map) assert.equal(interner.text(id), key);
      }),
      { numRuns: 60, seed: 3 },
    );
  });
});

describe('ingest writes rows in multi-row statements', () => {
  it('rows repeated within and across statements are stored once; new items, users and categories all land', async () => {
    const dir = tempDir();
    const rows: string[] = [];
    for (let k = 0; k < 1500; k++) rows.push(`u${k % 40},i${k},c${k % 300},${['pv', 'buy', 'cart', 'fav'][k % 4]},${1000 + k}`);
    // each row twice: right after itself, and again 700 rows later
    const lines = rows.flatMap((r, k) => (k >= 700 ? [r, r, rows[k - 700]] : [r, r]));
    writeFileSync(join(dir, 'ub.csv'), lines.join('\n') + '\n');
    const store = Store.open(join(dir, 's.db'));
    const r = await store.ingest(join(dir, 'ub.csv'), 'userbehavior');
    assert.deepEqual(
      { rowsRead: r.rowsRead, events: r.eventsInserted, users: r.usersInserted, items: r.itemsInserted, categories: r.categoriesInserted },
      { rowsRead: lines.length, events: 1500, users: 40, items: 1500, categories: 300 },
    );
    assert.deepEqual(store.stats(), { users: 40, items: 1500, categories: 300, events: 1500, roles: { train: 40, valid: 0, test: 0 } });
    const cat = store.catalogue();
    assert.ok(cat.itemIds.every((item, k) => item === `i${k}` && cat.categoryIds[cat.itemCategory[k]] === `c${k % 300}`));
    const seq = store.sequences().find((s) => s.user === 'u3')!;
    assert.deepEqual([...seq.items], rows.map((_, k) => k).filter((k) => k % 40 === 3));
    store.close();
  });
});

/** The schema of a version 1 store, as the first releases wrote it. */
const SCHEMA_V1 = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE users (id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL, role TEXT NOT NULL DEFAULT 'train');
CREATE TABLE categories (id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL);
CREATE TABLE items (id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL, category INTEGER NULL REFERENCES categories(id), title TEXT NULL);
CREATE TABLE events (user INTEGER NOT NULL, item INTEGER NOT NULL, behavior TEXT NOT NULL, ts INTEGER NOT NULL, UNIQUE(user, item, behavior, ts));
CREATE INDEX events_by_user_time ON events(user, ts);
CREATE TABLE sources (sha256 TEXT PRIMARY KEY, path TEXT, format TEXT, rows INTEGER, ingested_at TEXT, options TEXT NOT NULL DEFAULT '');
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO users (id, ext) VALUES (1, 'u1'), (2, 'u2');
INSERT INTO categories VALUES (1, 'c1');
INSERT INTO items VALUES (1, 'i1', 1, NULL), (2, 'i2', 1, NULL), (3, 'i3', NULL, NULL);
-- u1's last two events share a timestamp: ties stay in ingest order (i3 then i1)
INSERT INTO events VALUES (1, 2, 'pv', 10), (2, 1, 'pv', 5), (1, 3, 'pv', 20), (1, 1, 'pv', 20);
`;

function schemaOf(path: string): { version: string; indexes: string[] } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      version: db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get() as string,
      indexes: db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' ORDER BY name`).pluck().all() as string[],
    };
  } finally {
    db.close();
  }
}

describe('stores of schema version 1', () => {
  const v1Store = () => {
    const path = join(tempDir(), 'v1.db');
    const db = new Database(path);
    db.exec(SCHEMA_V1);
    db.close();
    return path;
  };
  const u1Items = (store: Store) => {
    const ids = store.catalogue().itemIds;
    return [...store.sequences().find((s) => s.user === 'u1')!.items].map((i) => ids[i]);
  };

  it('are read as they are', () => {
    const path = v1Store();
    const store = Store.open(path);
    assert.deepEqual(u1Items(store), ['i2', 'i3', 'i1']);
    store.close();
    assert.equal(schemaOf(path).version, '1');
  });

  it('are upgraded by the next ingest: same events and order, one unique index, repeats still ignored', async () => {
    const path = v1Store();
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), 'u1,i2,c1,pv,10\nu1,i4,c2,buy,30\n');
    const store = Store.open(path);
    const r = await store.ingest(join(dir, 'ub.csv'), 'userbehavior');
    assert.equal(r.eventsInserted, 1, 'the row already stored is ignored');
    assert.deepEqual(u1Items(store), ['i2', 'i3', 'i1', 'i4']);
    assert.deepEqual(store.stats().events, 5);
    store.close();
    assert.deepEqual(schemaOf(path), {
      version: '2',
      indexes: ['CREATE UNIQUE INDEX events_by_user_time ON events(user, ts, item, behavior)'],
    });
  });

  it('stay at version 1 when the ingest fails', async () => {
    const path = v1Store();
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), 'u1,i4,c2,buy,30\nu1,i5,c2,view,31\n');
    const store = Store.open(path);
    await assert.rejects(store.ingest(join(dir, 'ub.csv'), 'userbehavior'), (e: unknown) => e instanceof InputError && e.line === 2);
    assert.deepEqual(u1Items(store), ['i2', 'i3', 'i1']);
    store.close();
    assert.equal(schemaOf(path).version, '1');
  });
});
