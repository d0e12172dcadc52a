/**
 * Hostile command lines: a store that is not the model's, numbers out of
 * range, output paths that are folders or in missing folders. Each gets
 * one line `arbor: what: what to do` and exit 1 (runtime) or 2 (usage).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/training.js';
import { arbor, oneLineError, shell } from './helpers/spawn.js';

const temp = tempDir('hostile-cli');
test.after(() => temp.cleanup());

/** A Taobao CSV: `users` users, items `${prefix}i0..`. */
function csv(users: number, items: number, prefix: string): string {
  const rows: string[] = [];
  for (let u = 0; u < users; u++) for (let j = 0; j < 8; j++) rows.push(`u${u},${prefix}i${(u * 3 + j) % items},c${j % 3},pv,${1000 + j}`);
  return rows.join('\n') + '\n';
}

test('train and eval with a store the tree was not built from: no shared item is an error naming both stores; a partial overlap warns', () => {
  const dir = temp.dir;
  writeFileSync(join(dir, 'a.csv'), csv(20, 30, ''));
  writeFileSync(join(dir, 'x.csv'), csv(20, 30, 'x'));
  writeFileSync(join(dir, 'half.csv'), csv(20, 15, ''));
  for (const [file, db] of [['a.csv', 'a.db'], ['x.csv', 'x.db'], ['half.csv', 'half.db']]) {
    assert.equal(arbor(['ingest', file, '--format', 'userbehavior', '--db', db], { cwd: dir }).code, 0);
  }
  assert.equal(arbor(['build-tree', '--db', 'a.db', '--out', 'm'], { cwd: dir }).code, 0);
  const none = arbor(['train', '--db', 'x.db', '--model', 'm', '--epochs', '1'], { cwd: dir });
  assert.equal(none.code, 1);
  assert.match(oneLineError(none), /^arbor: none of the 30 items of the model m is in store x\.db \(its tree was built from store .*a\.db\): use the store the tree was built from \(--db\), or build a new tree from this store/);
  const half = arbor(['train', '--db', 'half.db', '--model', 'm', '--epochs', '1', '--max-samples', '50', '--emb-dim', '4'], { cwd: dir });
  assert.equal(half.code, 0, half.stderr);
  assert.match(half.stderr, /warning: store half\.db holds only 15 of the 30 items of the model m \(its tree was built from store .*a\.db\): it is not the store the tree was built from/);
  // eval checks the same (before, a store without the model's items was reported as having no test users)
  assert.equal(arbor(['split', '--db', 'x.db', '--test-users', '3'], { cwd: dir }).code, 0);
  const evalNone = arbor(['eval', '--db', 'x.db', '--model', 'm', '-k', '5'], { cwd: dir });
  assert.equal(evalNone.code, 1);
  assert.match(oneLineError(evalNone), /^arbor: none of the 30 items of the model is in store x\.db \(its tree was built from store .*a\.db\)/);
});

test('numbers out of range are usage errors naming the option (not another one)', () => {
  const k = arbor(['retrieve', '--model', 'nope', '--history', 'i1', '-k', '-5']);
  assert.equal(k.code, 2);
  assert.match(oneLineError(k), /^arbor: command line: --k must be >= 1, got -5$/);
  const users = arbor(['eval', '--model', 'nope', '--max-users', '-1']);
  assert.equal(users.code, 2);
  assert.match(oneLineError(users), /--max-users must be >= 0, got -1/);
  const branching = arbor(['build-tree', '--out', 'nope', '--branching', '1']);
  assert.equal(branching.code, 2);
  assert.match(oneLineError(branching), /--branching must be >= 2/);
  const emb = arbor(['train', '--model', 'nope', '--emb-dim', '1000000000']);
  assert.equal(emb.code, 2);
  assert.match(oneLineError(emb), /--emb-dim must be between 1 and 4096, got 1000000000/);
  const port = arbor(['serve', '--model', 'nope', '--port', '-1']);
  assert.equal(port.code, 2);
  assert.match(oneLineError(port), /--port must be between 0 and 65535, got -1/);
});

test('synth --out a symbolic link writes the file it points to; --out a FIFO writes into the pipe', () => {
  const dir = join(temp.dir, 'links');
  mkdirSync(dir);
  writeFileSync(join(dir, 'real.csv'), 'old');
  symlinkSync('real.csv', join(dir, 'link.csv'));
  assert.equal(arbor(['synth', '--out', 'link.csv', '--items', '20', '--users', '5'], { cwd: dir }).code, 0);
  assert.ok(lstatSync(join(dir, 'link.csv')).isSymbolicLink(), 'the link is kept');
  assert.match(readFileSync(join(dir, 'real.csv'), 'utf8'), /^u\d+,i\d+,/);
  assert.equal(spawnSync('mkfifo', [join(dir, 'pipe')]).status, 0);
  const r = shell('cat pipe > got.csv & $ARBOR synth --out pipe --items 20 --users 5; wait', { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(lstatSync(join(dir, 'pipe')).isFIFO(), 'the FIFO is not replaced by a file');
  assert.match(readFileSync(join(dir, 'got.csv'), 'utf8'), /^u\d+,i\d+,/);
});

test('synth --out a folder, or into a missing folder: one line naming the path, nothing written', () => {
  const folder = join(temp.dir, 'out-folder');
  mkdirSync(folder);
  const isDir = arbor(['synth', '--out', folder, '--items', '20', '--users', '5']);
  assert.equal(isDir.code, 1);
  assert.match(oneLineError(isDir), new RegExp(`^arbor: cannot write ${folder}: it is a folder \\(EISDIR\\): give the path of a file$`));
  const missing = join(temp.dir, 'no', 'such', 'x.csv');
  const r = arbor(['synth', '--out', missing, '--items', '20', '--users', '5']);
  assert.equal(r.code, 1);
  assert.match(oneLineError(r), /its folder does not exist \(ENOENT\): create the folder first or choose another path$/);
});

test('commander\'s own usage errors are one `arbor:` line too (unknown option, bad choice, missing argument, unknown command)', () => {
  const cases: [string[], RegExp][] = [
    [['split', '--tets-users', '3'], /^arbor: unknown option '--tets-users' \(Did you mean --test-users\?\): run arbor split --help for usage$/],
    [['serve', '--log-level', 'loud'], /^arbor: option '--log-level <LEVEL>' argument 'loud' is invalid\. Allowed choices are .*: run arbor serve --help for usage$/],
    [['ingest', '--format', 'userbehavior'], /^arbor: missing required argument 'file': run arbor ingest --help for usage$/],
    [['bogus'], /^arbor: unknown command 'bogus': run arbor --help for usage$/],
  ];
  for (const [args, pattern] of cases) {
    const r = arbor(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(oneLineError(r), pattern);
  }
});

test('train --workers is capped like serve and retrieve', () => {
  const r = arbor(['train', '--db', 'none.db', '--model', 'none', '--workers', '1000']);
  assert.equal(r.code, 2);
  assert.match(oneLineError(r), /--workers must be between 0 and \d+ \(at most twice the CPU cores/);
});

test('retrieve --input: bytes that are not UTF-8 name the line; a missing file says what to do', () => {
  const dir = join(temp.dir, 'input');
  mkdirSync(dir);
  writeFileSync(join(dir, 'q.jsonl'), Buffer.concat([Buffer.from('{"history": ["i1"]}\n{"history": ["i'), Buffer.from([0xe8]), Buffer.from('"]}\n')]));
  // the file is read before the model, so no model is needed to see these errors
  const bad = arbor(['retrieve', '--model', 'none', '--input', 'q.jsonl'], { cwd: dir });
  assert.equal(bad.code, 1);
  assert.match(oneLineError(bad), /^arbor: q\.jsonl:2: not valid UTF-8 \(byte 0xe8 at column 16/);
  const missing = arbor(['retrieve', '--model', 'none', '--input', 'nope.jsonl'], { cwd: dir });
  assert.equal(missing.code, 1);
  assert.match(oneLineError(missing), /^arbor: cannot read nope\.jsonl: no such file \(ENOENT\): check the path$/);
});

test('standard output: a reader that goes away ends the command quietly; a full device is one line', () => {
  const closed = shell('$ARBOR --help | head -1; $ARBOR ingest --help | head -1');
  assert.equal(closed.code, 0);
  assert.equal(closed.stderr, '', 'no EPIPE stack');
  const full = shell('$ARBOR --help > /dev/full');
  assert.equal(full.code, 1);
  assert.match(oneLineError(full), /^arbor: cannot write standard output: the disk is full \(ENOSPC\): free space on its file system, then retry$/);
});

test('synth on a full disk (file size limit): exit 1, no partial file (short writes are not lost silently)', () => {
  const dir = join(temp.dir, 'synth-full');
  mkdirSync(dir);
  const r = shell('ulimit -f 16; exec $ARBOR synth --out s.csv --items 2000 --users 500', { cwd: dir });
  assert.equal(r.code, 1);
  assert.match(oneLineError(r), /^arbor: cannot write s\.csv: the file would exceed the file size limit \(EFBIG\)/);
  assert.deepEqual(readdirSync(dir), []);
});
