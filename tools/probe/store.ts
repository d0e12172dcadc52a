/**
 * Probe cases for the SQLite store and the ingest path around it: paths
 * that are not stores, stores of another version, corrupt and truncated
 * stores, special input files (pipes, /dev/zero, /dev/urandom), re-ingest
 * rules, and memory as a piped input grows.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { arbor, describe, judgeError, judgeOk, sh, storeFingerprint } from './harness.js';
import type { Probe } from './probe.js';

const UB = 'u1,i1,c1,pv,1\nu1,i2,c1,pv,2\nu2,i1,c1,pv,3\n';

/** A copy of the probe's store with pages past the first few overwritten (a corrupt file). */
function corruptStore(p: Probe, dir: string): string {
  const path = join(dir, 'bad.db');
  const bytes = readFileSync(p.store);
  for (let i = 4096 * 4; i < bytes.length - 4096; i++) bytes[i] = (i * 131 + 7) & 0xff;
  writeFileSync(path, bytes);
  return path;
}

/** Runs the store cases. */
export async function storeCases(p: Probe): Promise<void> {
  const area = 'store';
  let d = p.dir('S01');
  mkdirSync(join(d, 'adir'));
  writeFileSync(join(d, 'ub.csv'), UB);
  await p.cli('S01', area, '--db is a folder', ['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 'adir'], { code: 1, pattern: /cannot open store adir/, text: 'exit 1, "cannot open store adir …: check that the path is a file"' }, { cwd: d });
  await p.cli('S02', area, '--db in a folder that does not exist', ['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 'no/such/s.db'], { code: 1, pattern: /store no\/such\/s\.db/, text: 'exit 1 naming the store, nothing created' }, { cwd: d });
  await p.cli('S03', area, '--db is a CSV file', ['split', '--db', 'ub.csv', '--test-users', '1'], { code: 1, pattern: /ub\.csv is not an arbor store/, text: 'exit 1, "ub.csv is not an arbor store", the file untouched', after: () => (readFileSync(join(d, 'ub.csv'), 'utf8') === UB ? '' : 'the CSV was changed') }, { cwd: d });
  const other = new Database(join(d, 'other.db'));
  other.exec('CREATE TABLE foo (x)');
  other.close();
  await p.cli('S04', area, "--db is another program's SQLite file", ['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 'other.db'], { code: 1, pattern: /not an arbor store \(no meta table\)/, text: 'exit 1, not an arbor store, file unchanged' }, { cwd: d });
  copyFileSync(p.store, join(d, 'v99.db'));
  const v = new Database(join(d, 'v99.db'));
  v.prepare(`UPDATE meta SET value = '99' WHERE key = 'schema_version'`).run();
  v.close();
  await p.cli('S05', area, 'a store of schema version 99', ['split', '--db', 'v99.db', '--test-users', '1'], { code: 1, pattern: /schema version 99, expected 1/, text: 'exit 1 naming both versions' }, { cwd: d });
  await p.cli('S06', area, 'a store that does not exist (commands that read one)', ['split', '--db', 'none.db', '--test-users', '1'], { code: 1, pattern: /store not found: none\.db/, text: 'exit 1, "store not found", nothing created', after: () => (existsSync(join(d, 'none.db')) ? 'created a store' : '') }, { cwd: d });

  d = p.dir('S07');
  writeFileSync(join(d, 'one.csv'), 'u1,i1,c1,pv,1\n');
  arbor(['ingest', 'one.csv', '--format', 'userbehavior', '--db', 'one.db'], { cwd: d });
  await p.cli('S07', area, 'build-tree on a store of one item', ['build-tree', '--db', 'one.db', '--out', 'm'], { code: 1, pattern: /holds 1 items: ingest data first/, text: 'exit 1, "ingest data first"' }, { cwd: d });
  await p.cli('S08', area, 'split asking for more users than the store has', ['split', '--db', 'one.db', '--test-users', '5'], { code: 2, pattern: /cannot hold out 5 test/, text: 'exit 2 naming the counts' }, { cwd: d });
  await p.cli('S09', area, 'eval on a store without test users', ['eval', '--db', join(p.base, 'store.db'), '--model', p.model, '--max-users', '0', '-k', '5'], { code: 0, text: 'exit 0 (the fixture store has a split)' });
  copyFileSync(p.store, join(d, 'nosplit.db'));
  const ns = new Database(join(d, 'nosplit.db'));
  ns.prepare(`UPDATE users SET role = 'train'`).run();
  ns.close();
  await p.cli('S10', area, 'eval on a store whose users are all training users', ['eval', '--db', 'nosplit.db', '--model', p.model, '-k', '5'], { code: 1, pattern: /no test users .*arbor split --test-users/, text: 'exit 1, "no test users: run arbor split"' }, { cwd: d });
  writeFileSync(join(d, 'foreign.csv'), Array.from({ length: 400 }, (_, i) => `f${i % 40},z${i % 90},c1,pv,${i}`).join('\n') + '\n');
  arbor(['ingest', 'foreign.csv', '--format', 'userbehavior', '--db', 'foreign.db'], { cwd: d });
  arbor(['split', '--db', 'foreign.db', '--test-users', '5'], { cwd: d });
  await p.cli('S32', area, 'eval with a store that holds none of the model\'s items', ['eval', '--db', 'foreign.db', '--model', p.model, '-k', '5'], { code: 1, pattern: /none of the \d+ items of the model is in store foreign\.db \(its tree was built from store .*store\.db\)/, text: 'exit 1 naming both stores' }, { cwd: d });
  await p.cli('S11', area, 'retrieve --user that is not in the store', ['retrieve', '--model', p.model, '--db', p.store, '--user', 'nobody', '-k', '3'], { code: 1, pattern: /user "nobody" is not in/, text: 'exit 1 naming the user and the store' });

  d = p.dir('S12');
  const bad = corruptStore(p, d);
  for (const [id, what, args] of [
    ['S12', 'split on a store with corrupted pages', ['split', '--db', bad, '--test-users', '2']],
    ['S13', 'build-tree on a store with corrupted pages', ['build-tree', '--db', bad, '--out', join(d, 'm')]],
    ['S14', 'eval on a store with corrupted pages', ['eval', '--db', bad, '--model', p.model, '-k', '5']],
    ['S15', 'ingest into a store with corrupted pages', ['ingest', p.csv, '--format', 'userbehavior', '--db', bad]],
    ['S16', 'retrieve --user from a store with corrupted pages', ['retrieve', '--model', p.model, '--db', bad, '--user', 'u3', '-k', '3']],
  ] as [string, string, string[]][]) {
    await p.cli(id, area, what, args, { code: 1, pattern: /store .*bad\.db is corrupt .*: restore it from a copy, or ingest the data again/, text: 'exit 1, "store … is corrupt (…): restore it from a copy, or ingest the data again into a new store"' }, { cwd: d });
  }
  const head = readFileSync(p.store);
  head.fill(0x41, 0, 100);
  writeFileSync(join(d, 'header.db'), head);
  await p.cli('S17', area, 'a store whose header is overwritten', ['split', '--db', 'header.db', '--test-users', '2'], { code: 1, pattern: /header\.db is not an arbor store/, text: 'exit 1, not an arbor store' }, { cwd: d });
  const full = readFileSync(p.store);
  writeFileSync(join(d, 'half.db'), full.subarray(0, Math.floor(full.length / 2)));
  await p.cli('S18', area, 'a store truncated to half its size', ['eval', '--db', 'half.db', '--model', p.model, '-k', '5'], { code: 1, pattern: /half\.db (is corrupt|: I\/O error|is not)/, text: 'exit 1, the store is corrupt' }, { cwd: d });
  writeFileSync(join(d, 'zero.db'), '');
  await p.cli('S19', area, 'an empty (0-byte) store file given to split', ['split', '--db', 'zero.db', '--test-users', '1'], { code: 2, pattern: /only 0 users/, text: 'exit 2: an empty file is an empty new store, "only 0 users"' }, { cwd: d });

  // special input files and streams
  d = p.dir('S20');
  await p.cli('S20', area, 'ingest /dev/null', ['ingest', '/dev/null', '--format', 'userbehavior', '--db', 's.db'], { code: 0, text: 'exit 0, 0 rows' }, { cwd: d });
  await p.cli('S21', area, 'ingest /dev/zero (NUL bytes, no line end)', ['ingest', '/dev/zero', '--format', 'userbehavior', '--db', 'z.db'], { code: 1, pattern: /\/dev\/zero:1: line longer than 64 MiB/, text: 'exit 1 after 64 MiB, "line longer than 64 MiB", no store', after: () => (existsSync(join(d, 'z.db')) ? 'store left' : '') }, { cwd: d });
  await p.cli('S22', area, 'ingest /dev/urandom', ['ingest', '/dev/urandom', '--format', 'userbehavior', '--db', 'r.db'], { code: 1, pattern: /\/dev\/urandom:\d+: (not valid UTF-8|line longer|expected 5)/, text: 'exit 1 at the first line, no store' }, { cwd: d });
  await p.cli('S23', area, 'ingest - with empty standard input', ['ingest', '-', '--format', 'userbehavior', '--db', 'e.db'], { code: 0, text: 'exit 0, 0 rows' }, { cwd: d, input: '' });
  await p.cli('S24', area, 'ingest a folder', ['ingest', d, '--format', 'userbehavior', '--db', 'f.db'], { code: 1, pattern: /it is a folder \(EISDIR\)/, text: 'exit 1, "it is a folder", no store', after: () => (existsSync(join(d, 'f.db')) ? 'store left' : '') }, { cwd: d });
  await p.cli('S25', area, 'ingest a file that does not exist', ['ingest', 'nope.csv', '--format', 'userbehavior', '--db', 'n.db'], { code: 1, pattern: /cannot read nope\.csv: no such file \(ENOENT\)/, text: 'exit 1, "cannot read nope.csv: no such file", no store', after: () => (existsSync(join(d, 'n.db')) ? 'store left' : '') }, { cwd: d });
  await p.run('S26', area, 'a 70 MB line through a pipe', "head -c 70000000 /dev/zero | tr '\\0' a | arbor ingest - --format userbehavior --db l.db", 'exit 1, "-:1: line longer than 64 MiB"', () => {
    const r = sh("head -c 70000000 /dev/zero | tr '\\0' a | $ARBOR ingest - --format userbehavior --db l.db", d);
    return [describe(r), judgeError(r, 1, /^arbor: -:1: line longer than 64 MiB/)];
  });
  await p.run('S27', area, 'memory while piping 60k, 1.2M and 3.6M rows (stream, do not slurp)', 'cat big.csv | /usr/bin/time -f %M arbor ingest - ...', "peak RSS of the 3.6M-row ingest at most the 60k-row one plus SQLite's page cache (capped at 128 MiB by the store) plus 40 MB: memory follows users and items, not rows", () => {
    // the same 3,000 users and 2,000 items throughout: only the number of rows differs
    const sizes = [60_000, 1_200_000, 3_600_000];
    const kb = sizes.map((n) => {
      sh(`awk 'BEGIN { for (i = 0; i < ${n}; i++) printf "u%d,i%d,c%d,pv,%d\\n", i % 3000, (i * 7) % 2000, i % 20, 1500000000 + i }' > big.csv`, d);
      const r = sh(`cat big.csv | /usr/bin/time -f 'RSS %M' $ARBOR ingest - --format userbehavior --db m${n}.db; rm -f big.csv m${n}.db`, d);
      const m = /RSS (\d+)/.exec(r.stderr);
      return r.code === 0 && m ? Number(m[1]) : NaN;
    });
    const mb = kb.map((k) => Math.round(k / 1024));
    const ok = kb[2] <= kb[0] + 128 * 1024 + 40 * 1024;
    return [`peak RSS ${mb[0]} MB (60k rows), ${mb[1]} MB (1.2M), ${mb[2]} MB (3.6M)`, ok ? '' : 'memory grew with the rows'];
  });

  // re-ingest rules
  d = p.dir('S28');
  writeFileSync(join(d, 'a.csv'), UB);
  arbor(['ingest', 'a.csv', '--format', 'userbehavior', '--db', 's.db'], { cwd: d });
  writeFileSync(join(d, 'b.csv'), UB + 'u3,i9,c2,pv,9\n');
  await p.cli('S28', area, 'a file grown by one row, ingested again', ['ingest', 'b.csv', '--format', 'userbehavior', '--db', 's.db', ], { code: 0, text: 'exit 0, only the new row is added (identical rows are stored once)', after: (r) => (JSON.parse(r.stdout).eventsInserted === 1 ? '' : `inserted ${JSON.parse(r.stdout).eventsInserted}`) }, { cwd: d });
  await p.cli('S29', area, 'the same content from standard input after the file', ['ingest', '-', '--format', 'userbehavior', '--db', 's.db'], { code: 0, text: 'exit 0, alreadyIngested, nothing changed', after: (r) => (JSON.parse(r.stdout).alreadyIngested ? '' : 'ingested again') }, { cwd: d, input: UB });
  writeFileSync(join(d, 'seq1.txt'), 'w1 a b\n');
  writeFileSync(join(d, 'seq2.txt'), 'w1 a b\nw2 c\n');
  arbor(['ingest', 'seq1.txt', '--format', 'sequence', '--db', 'q.db'], { cwd: d });
  await p.cli('S30', area, 'a sequence file grown by a line, ingested again', ['ingest', 'seq2.txt', '--format', 'sequence', '--db', 'q.db'], { code: 1, pattern: /seq2\.txt:1: user already has behaviours in the store/, text: 'exit 1 at its first user (documented: ingest only the new lines)' }, { cwd: d });
  const before = storeFingerprint(join(d, 's.db'));
  await p.run('S31', area, 'two ingests of the same new content at once', 'arbor ingest x.csv ... & arbor ingest x.csv ...', 'both exit 0 or one waits and then reports the store locked; the rows are stored once', () => {
    writeFileSync(join(d, 'x.csv'), Array.from({ length: 50_000 }, (_, i) => `x${i % 500},j${i % 900},c1,pv,${i}`).join('\n') + '\n');
    const count = () => {
      const db = new Database(join(d, 's.db'), { readonly: true });
      const n = db.prepare('SELECT count(*) FROM events').pluck().get() as number;
      db.close();
      return n;
    };
    const earlier = count();
    const r = sh('($ARBOR ingest x.csv --format userbehavior --db s.db > o1 2> e1; echo $? > c1) & ($ARBOR ingest x.csv --format userbehavior --db s.db > o2 2> e2; echo $? > c2) & wait; cat c1 c2 e1 e2', d);
    const [c1, c2] = r.stdout.trim().split('\n');
    const events = count();
    const okCodes = (c1 === '0' || c2 === '0') && [c1, c2].every((c) => c === '0' || c === '1');
    const messages = r.stdout.split('\n').filter((l) => l.startsWith('arbor: ') && !/already ingested/.test(l));
    const locked = messages.every((m) => /is locked by another process/.test(m));
    return [`exits ${c1} and ${c2}; ${events} events (${earlier} before, the file has 50,000 rows); ${messages.join(' / ') || 'no errors'}`, okCodes && locked && events === earlier + 50_000 && before !== 'absent' ? '' : 'unexpected'];
  });
  void judgeOk;
}
