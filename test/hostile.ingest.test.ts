/**
 * Hostile input to ingest: pipes and standard input, bytes that are not
 * UTF-8, a user split over two sequence files, deeply nested JSON, and the
 * store's faults (locked, corrupt, full, read-only). Each must end with a
 * typed one-line error naming the file, and no half-ingested store.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { InputError, StoreError } from '../src/core/errors.js';
import { Store } from '../src/data/index.js';
import { arbor, bash, oneLineError, openUp, shell } from './helpers/spawn.js';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-hostile-'));
  dirs.push(dir);
  return dir;
};
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** A Taobao CSV of `users` users with `per` rows each (distinct timestamps). */
function taobao(users: number, per: number, prefix = ''): string {
  const rows: string[] = [];
  for (let u = 0; u < users; u++) for (let j = 0; j < per; j++) rows.push(`${prefix}u${u},${prefix}i${(u * 7 + j) % 50},c${j % 5},pv,${1500000000 + u * 100 + j}`);
  return rows.join('\n') + '\n';
}

function counts(path: string): { events: number; sources: number } {
  const db = new Database(path, { readonly: true });
  try {
    return {
      events: db.prepare('SELECT count(*) FROM events').pluck().get() as number,
      sources: db.prepare('SELECT count(*) FROM sources').pluck().get() as number,
    };
  } finally {
    db.close();
  }
}

describe('ingest from pipes and standard input', () => {
  const csv = taobao(40, 30);
  const rows = 40 * 30;

  it('`ingest -` and `ingest /dev/stdin` read standard input (here a socket) and store every row; the same content again (stdin or file) adds nothing', () => {
    const dir = tempDir();
    const file = join(dir, 'ub.csv');
    writeFileSync(file, csv);
    const db = join(dir, 'p.db');
    const first = arbor(['ingest', '-', '--format', 'userbehavior', '--db', db], { input: csv });
    assert.equal(first.code, 0, first.stderr);
    const rep = JSON.parse(first.stdout);
    assert.equal(rep.rowsRead, rows);
    assert.equal(rep.eventsInserted, rows);
    assert.equal(rep.alreadyIngested, false);
    assert.deepEqual(counts(db), { events: rows, sources: 1 });
    // the file with the same bytes is recognised as already ingested
    const again = arbor(['ingest', file, '--format', 'userbehavior', '--db', db]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(JSON.parse(again.stdout).alreadyIngested, true);
    // and so is the same content through /dev/stdin, detected after reading
    const viaDev = arbor(['ingest', '/dev/stdin', '--format', 'userbehavior', '--db', db], { input: csv });
    assert.equal(viaDev.code, 0, viaDev.stderr);
    assert.equal(JSON.parse(viaDev.stdout).alreadyIngested, true);
    assert.deepEqual(counts(db), { events: rows, sources: 1 });
    // /dev/stdin into a fresh store
    const db2 = join(dir, 'q.db');
    const fresh = arbor(['ingest', '/dev/stdin', '--format', 'userbehavior', '--db', db2], { input: csv });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.equal(JSON.parse(fresh.stdout).rowsRead, rows);
    assert.deepEqual(counts(db2), { events: rows, sources: 1 });
  });

  it('`cat file | arbor ingest -` and `cat file | arbor ingest /dev/stdin` from a shell pipe store every row', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), csv);
    const r = shell('cat ub.csv | $ARBOR ingest - --format userbehavior --db a.db && cat ub.csv | $ARBOR ingest /dev/stdin --format userbehavior --db b.db', { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    for (const line of r.stdout.trim().split('\n')) assert.equal(JSON.parse(line).eventsInserted, rows);
    assert.deepEqual(counts(join(dir, 'a.db')), { events: rows, sources: 1 });
    assert.deepEqual(counts(join(dir, 'b.db')), { events: rows, sources: 1 });
  });

  it('`<(cat file)` (a pipe named /dev/fd/N) stores every row, and the real file is then already ingested', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), csv);
    const r = bash('$ARBOR ingest <(cat ub.csv) --format userbehavior --db p.db && $ARBOR ingest ub.csv --format userbehavior --db p.db', { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const [piped, file] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(piped.rowsRead, rows);
    assert.equal(piped.eventsInserted, rows);
    assert.equal(file.alreadyIngested, true);
    assert.deepEqual(counts(join(dir, 'p.db')), { events: rows, sources: 1 });
  });

  it('a named pipe (FIFO) through the library; a malformed row in a pipe records nothing, so the real file still ingests', { timeout: 30_000 }, async () => {
    const dir = tempDir();
    const fifo = join(dir, 'in.fifo');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const path = join(dir, 's.db');
    const store = Store.open(path);
    try {
      const writer = spawn('sh', ['-c', `cat > '${fifo}'`], { stdio: ['pipe', 'ignore', 'ignore'] });
      writer.stdin.end(csv);
      const r = await store.ingest(fifo, 'userbehavior');
      assert.equal(r.rowsRead, rows);
      assert.equal(store.stats().events, rows);
    } finally {
      store.close();
    }
    const bad = csv.replace(/\n[^\n]*\n$/, '\nu1,i1,c1,view,1500000000\n');
    const db = join(dir, 'b.db');
    const failed = arbor(['ingest', '-', '--format', 'userbehavior', '--db', db], { input: bad });
    assert.equal(failed.code, 1);
    assert.match(oneLineError(failed), /^arbor: -:1200: behavior_type must be pv, cart, fav or buy: "view"$/);
    assert.equal(existsSync(db), false, 'no store is left behind');
    writeFileSync(join(dir, 'ub.csv'), csv);
    const good = arbor(['ingest', join(dir, 'ub.csv'), '--format', 'userbehavior', '--db', db]);
    assert.equal(good.code, 0, good.stderr);
    assert.equal(JSON.parse(good.stdout).eventsInserted, rows);
  });
});

describe('ids that are not valid UTF-8 are refused, not merged', () => {
  const cases: { format: 'userbehavior' | 'sequence' | 'movielens'; bytes: Buffer; line: number }[] = [
    { format: 'userbehavior', bytes: Buffer.concat([Buffer.from('u1,i1,c1,pv,1\nu1,i'), Buffer.from([0xe8]), Buffer.from(',c1,pv,2\nu1,i'), Buffer.from([0xe9]), Buffer.from(',c1,pv,3\n')]), line: 2 },
    { format: 'sequence', bytes: Buffer.concat([Buffer.from('u1 a b\nu'), Buffer.from([0xe8]), Buffer.from(' a\nu'), Buffer.from([0xe9]), Buffer.from(' b\n')]), line: 2 },
    { format: 'movielens', bytes: Buffer.concat([Buffer.from('1\t1\t5\t10\n1\t'), Buffer.from([0xff, 0x41]), Buffer.from('\t4\t11\n')]), line: 2 },
  ];
  for (const c of cases) {
    it(`${c.format}: an InputError naming the file, the line and the byte; no store left`, async () => {
      const dir = tempDir();
      const file = join(dir, 'data.txt');
      writeFileSync(file, c.bytes);
      const path = join(dir, 's.db');
      const store = Store.open(path);
      await assert.rejects(store.ingest(file, c.format), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.equal(e.line, c.line);
        assert.match(e.message, new RegExp(`^${file}:${c.line}: not valid UTF-8 \\(byte 0x(e8|ff) at column \\d+`));
        return true;
      });
      store.close();
      assert.equal(existsSync(path), false);
    });
  }

  it('an items JSON file with a key that is not UTF-8 names its line', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seq.txt'), 'u1 a b\n');
    writeFileSync(join(dir, 'items.json'), Buffer.concat([Buffer.from('{\n"a": [1],\n"'), Buffer.from([0xe8]), Buffer.from('": [2]\n}\n')]));
    const store = Store.open(join(dir, 's.db'));
    await assert.rejects(store.ingest(join(dir, 'seq.txt'), 'sequence', { items: join(dir, 'items.json') }), (e: unknown) => e instanceof InputError && e.line === 3);
    store.close();
  });

  it('a UTF-8 byte order mark at the start is not part of the first id', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), '\ufeffu1,i1,c1,pv,1\nu1,i2,c1,pv,2\n');
    const store = Store.open(join(dir, 's.db'));
    await store.ingest(join(dir, 'ub.csv'), 'userbehavior');
    assert.deepEqual(store.sequences().map((s) => s.user), ['u1']);
    store.close();
  });
});

describe('ids with control characters, items files with a key twice', () => {
  it('a NUL or another control character in an id is an InputError (userbehavior and sequence)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), 'u1,i1,c1,pv,1\nu1,i\u00002,c1,pv,2\n');
    writeFileSync(join(dir, 'seq.txt'), 'u1 a b\nu2 c\u001bd\n');
    await assert.rejects(Store.open(join(dir, 'a.db')).ingest(join(dir, 'ub.csv'), 'userbehavior'), (e: unknown) => e instanceof InputError && e.line === 2 && /item_id holds a control character \(code 0\)/.test(e.message));
    await assert.rejects(Store.open(join(dir, 'b.db')).ingest(join(dir, 'seq.txt'), 'sequence'), (e: unknown) => e instanceof InputError && e.line === 2 && /control character/.test(e.message));
  });

  it('an items JSON file with the same item id twice names the second line (JSON.parse would keep the last silently)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seq.txt'), 'u1 a b\n');
    writeFileSync(join(dir, 'attrs.json'), '{\n  "a": [1],\n  "b": {"a": 2},\n  "a": [3]\n}\n');
    const store = Store.open(join(dir, 's.db'));
    await assert.rejects(store.ingest(join(dir, 'seq.txt'), 'sequence', { items: join(dir, 'attrs.json') }), (e: unknown) => {
      assert.ok(e instanceof InputError, String(e));
      assert.equal(e.line, 4);
      assert.equal(e.value, 'a');
      assert.match(e.message, /item id given twice/);
      return true;
    });
    store.close();
  });
});

describe('sequence files have no timestamps: a user must come from one line of one file', () => {
  it('the same user in a second sequence file is refused naming the file, line and user; the store is unchanged', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'u1 x y z\nu2 x\n');
    writeFileSync(join(dir, 'b.txt'), 'u3 y\nu1 p q\n');
    writeFileSync(join(dir, 'c.txt'), 'u4 y z\n');
    const store = Store.open(join(dir, 's.db'));
    try {
      await store.ingest(join(dir, 'a.txt'), 'sequence');
      const before = store.sequences();
      await assert.rejects(store.ingest(join(dir, 'b.txt'), 'sequence'), (e: unknown) => {
        assert.ok(e instanceof InputError, String(e));
        assert.equal(e.line, 2);
        assert.equal(e.value, 'u1');
        assert.match(e.message, /user already has behaviours in the store/);
        return true;
      });
      assert.deepEqual(store.sequences(), before);
      await store.ingest(join(dir, 'c.txt'), 'sequence');
      assert.deepEqual(store.sequences().map((s) => s.user), ['u1', 'u2', 'u4']);
    } finally {
      store.close();
    }
  });

  it('timestamped rows for a user of a sequence file, and sequence rows for a user with timestamps, are refused', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seq.txt'), 'u1 i1 i2\n');
    writeFileSync(join(dir, 'ub.csv'), 'u9,i1,c1,pv,5\nu1,i3,c1,pv,7\n');
    writeFileSync(join(dir, 'ub2.csv'), 'u5,i1,c1,pv,5\n');
    writeFileSync(join(dir, 'seq2.txt'), 'u5 i2 i3\n');
    const store = Store.open(join(dir, 's.db'));
    try {
      await store.ingest(join(dir, 'seq.txt'), 'sequence');
      await assert.rejects(store.ingest(join(dir, 'ub.csv'), 'userbehavior'), (e: unknown) => e instanceof InputError && e.line === 2 && e.value === 'u1');
      await store.ingest(join(dir, 'ub2.csv'), 'userbehavior');
      await assert.rejects(store.ingest(join(dir, 'seq2.txt'), 'sequence'), (e: unknown) => e instanceof InputError && e.line === 1 && e.value === 'u5');
      assert.equal(store.stats().events, 3);
    } finally {
      store.close();
    }
  });
});

describe('deeply nested JSON', () => {
  it('an --items JSON nested 100k levels deep is an InputError, not a stack overflow', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seq.txt'), 'u1 a b\n');
    writeFileSync(join(dir, 'deep.json'), `{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`);
    const r = arbor(['ingest', join(dir, 'seq.txt'), '--format', 'sequence', '--items', join(dir, 'deep.json'), '--db', join(dir, 's.db')]);
    assert.equal(r.code, 1);
    assert.match(oneLineError(r), /deep\.json:1: attributes of item "a" must be numbers or strings: "\[… nested too deeply to show …\]"/);
  });
});

describe('store faults are StoreErrors naming the file, never a stack', () => {
  it('a store locked by another connection: StoreError "locked" after the busy timeout, and the CLI says what to do', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), taobao(3, 4));
    const path = join(dir, 's.db');
    const s0 = Store.open(path);
    await s0.ingest(join(dir, 'ub.csv'), 'userbehavior');
    s0.close();
    const holder = new Database(path);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      writeFileSync(join(dir, 'more.csv'), taobao(2, 2, 'x'));
      assert.throws(() => Store.open(path, { busyTimeoutMs: 50 }).stats(), (e: unknown) => e instanceof StoreError && e.fault === 'locked' && e.file === path);
      const r = arbor(['ingest', join(dir, 'more.csv'), '--format', 'userbehavior', '--db', path]);
      assert.equal(r.code, 1);
      assert.match(oneLineError(r), new RegExp(`^arbor: store ${path} is locked by another process .*: wait until the other arbor command using it .* has finished, then retry$`));
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    assert.equal(counts(path).events, 12);
  });

  it('corrupted pages: StoreError "corrupt" naming the file (split through the CLI: one line, exit 1)', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), taobao(60, 40));
    const path = join(dir, 's.db');
    const s0 = Store.open(path);
    await s0.ingest(join(dir, 'ub.csv'), 'userbehavior');
    s0.close();
    const bytes = readFileSync(path);
    for (let i = 4096 * 3; i < bytes.length - 4096; i++) bytes[i] = (i * 131) & 0xff;
    writeFileSync(path, bytes);
    const store = Store.open(path);
    assert.throws(() => store.sequences(), (e: unknown) => e instanceof StoreError && e.fault === 'corrupt' && e.file === path);
    store.close();
    const r = arbor(['split', '--db', path, '--test-users', '5']);
    assert.equal(r.code, 1);
    assert.match(oneLineError(r), new RegExp(`^arbor: store ${path} is corrupt \\(.*\\): restore it from a copy, or ingest the data again into a new store$`));
  });

  it('a file that is not a database: StoreError "not-a-store"', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'x.db'), 'user,item\n'.repeat(500));
    assert.throws(() => Store.open(join(dir, 'x.db')), (e: unknown) => e instanceof StoreError && e.fault === 'not-a-store');
  });

  it('a full disk (file size limit): one line naming the store; a new store leaves no file, an existing one keeps its content', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'ub.csv'), taobao(200, 30));
    writeFileSync(join(dir, 'small.csv'), taobao(2, 3, 's'));
    // no file may grow at all: the new store cannot be set up
    const none = shell('ulimit -f 0; exec $ARBOR ingest ub.csv --format userbehavior --db new.db', { cwd: dir });
    assert.equal(none.code, 1);
    assert.match(oneLineError(none), /^arbor: store new\.db: .*(disk is full|I\/O error).*: .*retry/);
    assert.equal(existsSync(join(dir, 'new.db')), false, 'no 0-byte store left');
    // an existing small store cannot grow to take the big file
    assert.equal(arbor(['ingest', join(dir, 'small.csv'), '--format', 'userbehavior', '--db', join(dir, 'old.db')]).code, 0);
    const before = counts(join(dir, 'old.db'));
    const full = shell('ulimit -f 80; exec $ARBOR ingest ub.csv --format userbehavior --db old.db', { cwd: dir });
    assert.equal(full.code, 1);
    assert.match(oneLineError(full), /^arbor: store old\.db: /);
    assert.deepEqual(counts(join(dir, 'old.db')), before);
  });

  it('read-only store file, read-only folder: one line naming the store, nothing created or changed', () => {
    const dir = tempDir();
    openUp(dir);
    writeFileSync(join(dir, 'ub.csv'), taobao(3, 4));
    chmodSync(join(dir, 'ub.csv'), 0o644);
    const ro = join(dir, 'ro.db');
    assert.equal(arbor(['ingest', join(dir, 'ub.csv'), '--format', 'userbehavior', '--db', ro]).code, 0);
    chmodSync(ro, 0o444);
    writeFileSync(join(dir, 'more.csv'), taobao(2, 2, 'x'));
    chmodSync(join(dir, 'more.csv'), 0o644);
    const r = arbor(['ingest', join(dir, 'more.csv'), '--format', 'userbehavior', '--db', ro], { unprivileged: true });
    assert.equal(r.code, 1);
    assert.match(oneLineError(r), new RegExp(`^arbor: store ${ro} cannot be written .*read-only.*give another --db$`));
    assert.equal(counts(ro).events, 12);
    // split writes the users' roles: the same message
    const split = arbor(['split', '--db', ro, '--test-users', '1', '--json'], { unprivileged: true });
    assert.equal(split.code, 1);
    assert.match(oneLineError(split), /cannot be written .*read-only/);
    const folder = join(dir, 'locked');
    mkdirSync(folder);
    chmodSync(folder, 0o555);
    const created = arbor(['ingest', join(dir, 'more.csv'), '--format', 'userbehavior', '--db', join(folder, 'n.db')], { unprivileged: true });
    assert.equal(created.code, 1);
    assert.match(oneLineError(created), /^arbor: (cannot open store|store) .*n\.db/);
    assert.equal(existsSync(join(folder, 'n.db')), false);
  });
});
