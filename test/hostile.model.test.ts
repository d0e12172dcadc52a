/**
 * Hostile model folders: a writer killed between the two renames of the
 * swap, content that passes its checksum but is wrong (dtype, NaN weights,
 * a bad scorer config, a manifest that disagrees with the tree), and
 * writes that must not replace what is not a model or fail half-way.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it, test } from 'node:test';
import { ModelFormatError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { readModel, writeModel } from '../src/model/index.js';
import { ScorerNetwork, initBackend } from '../src/scorer/index.js';
import { buildCategoryTree, type Tree } from '../src/tree/index.js';
import { TINY_CONFIG, tempDir } from './helpers/training.js';
import { arbor, oneLineError, shell } from './helpers/spawn.js';
import { makeItems } from './helpers/trees.js';

const temp = tempDir('hostile-model');
let tree: Tree;
let network: ScorerNetwork;

before(async () => {
  await initBackend();
  tree = buildCategoryTree(makeItems(40, 4), { branching: 2, seed: 3 });
  network = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(3));
});
after(() => {
  network?.dispose();
  temp.cleanup();
});

async function write(dir: string, seed = 3): Promise<void> {
  await writeModel(dir, { tree, network, seed, config: { build: { note: 'test' } } });
}

/** A pid that no process has (a child that has exited). */
function deadPid(): number {
  return spawnSync('true').pid!;
}

/** Rewrites `name` in the model folder with `edit` and puts its new sha256 in the manifest, so only content checks can catch it. */
function tamper(dir: string, name: string, edit: (bytes: Buffer) => Buffer | string): void {
  const data = edit(readFileSync(join(dir, name)));
  writeFileSync(join(dir, name), data);
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  manifest.files[name] = createHash('sha256').update(data).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
}

function editJson(dir: string, name: string, edit: (doc: Record<string, unknown>) => void): void {
  tamper(dir, name, (b) => {
    const doc = JSON.parse(b.toString('utf8'));
    edit(doc);
    return JSON.stringify(doc);
  });
}

function assertFormatError(fn: () => unknown, file: RegExp, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${String(e)}`);
    assert.match(e.file, file);
    assert.match(e.message, message);
    return true;
  });
}

describe('a writer killed during the swap', () => {
  it('killed between the renames (no folder at the path): the next read restores the previous model and removes the unfinished new one', async () => {
    const root = join(temp.dir, 'swap1');
    mkdirSync(root);
    const dir = join(root, 'mk');
    await write(dir, 1);
    // the state a SIGKILL between `rename(mk, .mk.old-…)` and `rename(.mk.tmp-…, mk)` leaves
    const pid = deadPid();
    const tmp = join(root, `.mk.tmp-${pid}-1700000000000`);
    await write(join(root, 'newer'), 2);
    renameSync(join(root, 'newer'), tmp);
    renameSync(dir, join(root, `.mk.old-${pid}-1700000000000`));
    assert.equal(existsSync(dir), false);
    const m = readModel(dir, { requireScorer: true });
    assert.equal(m.manifest.seed, 1, 'the previous model is back');
    m.network!.dispose();
    assert.deepEqual(readdirSync(root), ['mk']);
  });

  it('leftovers of a dead writer beside an intact folder are removed by the next write; a live writer\'s are kept', async () => {
    const root = join(temp.dir, 'swap2');
    mkdirSync(root);
    const dir = join(root, 'mk');
    await write(dir, 1);
    const dead = deadPid();
    mkdirSync(join(root, `.mk.tmp-${dead}-5`)); // killed while writing its files
    cpSync(dir, join(root, `.mk.old-${dead}-6`), { recursive: true }); // killed after the swap, before removing the old one
    const live = join(root, `.mk.tmp-${process.ppid}-7`);
    mkdirSync(live);
    await write(dir, 2);
    assert.deepEqual(readdirSync(root).sort(), [`.mk.tmp-${process.ppid}-7`, 'mk']);
    assert.equal(readModel(dir).manifest.seed, 2);
  });

  it('a real SIGKILL between the two renames of `arbor build-tree` (strace fault injection), when strace is available', (t) => {
    if (spawnSync('strace', ['-V']).status !== 0) return t.skip('strace is not installed');
    const root = join(temp.dir, 'swap3');
    mkdirSync(root);
    writeFileSync(join(root, 'ub.csv'), Array.from({ length: 60 }, (_, i) => `u${i % 6},i${i % 20},c${i % 3},pv,${1000 + i}`).join('\n') + '\n');
    assert.equal(arbor(['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 's.db'], { cwd: root }).code, 0);
    assert.equal(arbor(['build-tree', '--db', 's.db', '--out', 'mk', '--seed', '1'], { cwd: root }).code, 0);
    // the second rename() of the process is the one that moves the new folder into place; kill it there
    const killed = shell('strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 -e inject=rename,renameat,renameat2:signal=KILL:when=2 $ARBOR build-tree --db s.db --out mk --seed 2', { cwd: root });
    assert.notEqual(killed.code, 0);
    assert.equal(existsSync(join(root, 'mk')), false, 'the kill left no folder at the path');
    const r = arbor(['retrieve', '--model', 'mk', '--history', 'i1', '-k', '2'], { cwd: root });
    assert.match(r.stderr, /no trained scorer/, 'the model is readable again (it has no scorer yet)');
    assert.equal(readModel(join(root, 'mk')).manifest.seed, 1);
    assert.deepEqual(readdirSync(root).sort(), ['mk', 's.db', 'ub.csv']);
  });
});

describe('content is validated, not only the checksum', () => {
  it('a weight with dtype int32 in scorer/model.json', async () => {
    const dir = join(temp.dir, 'int32');
    await write(dir);
    editJson(dir, 'scorer/model.json', (doc) => {
      (doc.weightsManifest as { weights: { dtype: string }[] }[])[0].weights[1].dtype = 'int32';
    });
    assertFormatError(() => readModel(dir), /scorer\/model\.json$/, /dtype "int32"; arbor writes float32 only/);
  });

  it('NaN weights (all of them, or one)', async () => {
    const dir = join(temp.dir, 'nan');
    await write(dir);
    tamper(dir, 'scorer/weights.bin', (b) => {
      const f = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
      f[f.length - 1] = NaN;
      return Buffer.from(f.buffer);
    });
    assertFormatError(() => readModel(dir), /scorer\/weights\.bin$/, /weight out\/bias holds NaN at index 0/);
    tamper(dir, 'scorer/weights.bin', (b) => Buffer.from(new Float32Array(b.byteLength / 4).fill(NaN).buffer));
    assertFormatError(() => readModel(dir), /scorer\/weights\.bin$/, /holds NaN/);
  });

  it('a scorer config with windows [0, -1] names model.json', async () => {
    const dir = join(temp.dir, 'windows');
    await write(dir);
    editJson(dir, 'scorer/model.json', (doc) => {
      (doc.modelTopology as { config: { windows: number[] } }).config.windows = [0, -1];
    });
    assertFormatError(() => readModel(dir), /scorer\/model\.json$/, /modelTopology\.config: windows must be a non-empty list of positive integers/);
  });

  it('manifest tree fields that disagree with tree.msgpack', async () => {
    const dir = join(temp.dir, 'numitems');
    await write(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    manifest.tree.numItems = 999;
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
    assertFormatError(() => readModel(dir), /manifest\.json$/, /tree\.numItems is 999 but tree\.msgpack holds 40/);
  });
});

describe('writing a model folder', () => {
  it('never replaces a file or a folder that is not a model (a typo in --out)', async () => {
    const root = join(temp.dir, 'typo');
    mkdirSync(join(root, 'project'), { recursive: true });
    writeFileSync(join(root, 'project', 'notes.txt'), 'keep me');
    writeFileSync(join(root, 'data.csv'), 'keep me too');
    await assert.rejects(write(join(root, 'project')), /is not an arbor model folder/);
    await assert.rejects(write(join(root, 'data.csv')), /is a file, not a model folder/);
    assert.equal(readFileSync(join(root, 'project', 'notes.txt'), 'utf8'), 'keep me');
    assert.equal(readFileSync(join(root, 'data.csv'), 'utf8'), 'keep me too');
    mkdirSync(join(root, 'empty'));
    await write(join(root, 'empty'));
    assert.ok(existsSync(join(root, 'empty', 'manifest.json')));
  });

  it('a full disk while writing: one line, the previous model unchanged, no leftovers', async () => {
    const root = join(temp.dir, 'full');
    mkdirSync(root);
    writeFileSync(join(root, 'ub.csv'), Array.from({ length: 3000 }, (_, i) => `u${i % 60},i${i % 900},c${i % 7},pv,${1000 + i}`).join('\n') + '\n');
    assert.equal(arbor(['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 's.db'], { cwd: root }).code, 0);
    assert.equal(arbor(['build-tree', '--db', 's.db', '--out', 'mk', '--seed', '1'], { cwd: root }).code, 0);
    const before = readFileSync(join(root, 'mk', 'manifest.json'), 'utf8');
    const r = shell('ulimit -f 8; exec $ARBOR build-tree --db s.db --out mk --seed 2', { cwd: root });
    assert.equal(r.code, 1);
    assert.match(oneLineError(r), /^arbor: cannot write model folder mk: the file would exceed the file size limit \(EFBIG\): .*; the previous model folder \(if any\) is unchanged$/);
    assert.equal(readFileSync(join(root, 'mk', 'manifest.json'), 'utf8'), before);
    assert.deepEqual(readdirSync(root).sort(), ['mk', 's.db', 'ub.csv']);
  });
});

test('a model written onto a read-only file system names EROFS (a read-only bind mount; needs root and unshare)', (t) => {
  const root = join(temp.dir, 'rofs');
  mkdirSync(join(root, 'src'), { recursive: true });
  mkdirSync(join(root, 'mnt'));
  if (process.getuid?.() !== 0 || shell(`unshare -m sh -c 'mount --bind ${root}/src ${root}/mnt'`).code !== 0) return t.skip('needs root and unshare');
  writeFileSync(join(root, 'src', 'ub.csv'), Array.from({ length: 40 }, (_, i) => `u${i % 5},i${i % 12},c${i % 3},pv,${1000 + i}`).join('\n') + '\n');
  assert.equal(arbor(['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 's.db'], { cwd: join(root, 'src') }).code, 0);
  const r = shell(`unshare -m sh -c 'mount --bind src mnt && mount -o remount,ro,bind mnt && exec $ARBOR build-tree --db mnt/s.db --out mnt/m'`, { cwd: root });
  assert.equal(r.code, 1);
  assert.match(oneLineError(r), /^arbor: cannot write model folder mnt\/m: the file system is read-only \(EROFS\): choose a path on a writable file system; the previous model folder \(if any\) is unchanged$/);
});
