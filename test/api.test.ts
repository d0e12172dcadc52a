/**
 * The public API as a user reaches it, through the package name `arbor`:
 * what it exports, that importing it does nothing, and the whole pipeline
 * (ingest → split → buildTree → train → evaluate → openModel) on a small
 * synthetic set, checked against a beam search run directly on the model.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import * as arbor from 'arbor';
import { BeamSearch } from '../src/beam/beam.js';
import { writeSyntheticUserBehaviorCsv } from '../src/data/synthetic.js';
import { readModel } from '../src/model/folder.js';
import { NetworkScorer } from '../src/scorer/session.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

describe('the package entry point', () => {
  it('exports openModel, the seven stages and the error classes, nothing else at run time', () => {
    assert.deepEqual(Object.keys(arbor).sort(), [
      'ArborError',
      'CheckpointError',
      'FileError',
      'InputError',
      'ModelFormatError',
      'NotFoundError',
      'StoreError',
      'UsageError',
      'addItems',
      'buildTree',
      'evaluate',
      'ingest',
      'ingestItems',
      'openModel',
      'split',
      'train',
    ]);
    for (const f of ['openModel', 'ingest', 'split', 'buildTree', 'train', 'evaluate', 'ingestItems', 'addItems'] as const) assert.equal(typeof arbor[f], 'function', f);
    assert.ok(new arbor.NotFoundError('x') instanceof arbor.ArborError);
  });

  it('importing it starts no tfjs backend, opens no file and leaves nothing running', () => {
    // a fresh process: file descriptors before and after the import, then tfjs's engine state
    // (anon_inode descriptors are Node's own event loop and thread pool handles, which it may open
    // lazily while loading modules on a busy machine: not files; nor is the node binary itself, which
    // it may map again for its own use)
    const script = `
      import { readdirSync, readlinkSync, realpathSync } from 'node:fs';
      const exe = [process.execPath, realpathSync(process.execPath)];
      const fds = () => readdirSync('/proc/self/fd').map((fd) => { try { return readlinkSync('/proc/self/fd/' + fd); } catch { return 'closed'; } }).filter((t) => t !== 'closed' && !t.startsWith('/proc/') && !t.startsWith('anon_inode:') && !exe.includes(t)).sort();
      const before = fds();
      const api = await import('arbor');
      const after = fds();
      const tf = await import('@tensorflow/tfjs');
      const engine = tf.engine();
      console.log(JSON.stringify({ exports: Object.keys(api).length, before, after, backends: Object.keys(engine.registry), instance: engine.backendInstance == null ? null : engine.backendName }));
    `;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout);
    assert.ok(got.exports > 0);
    assert.deepEqual(got.after, got.before, 'no file opened by the import');
    assert.deepEqual(got.backends, [], 'no tfjs backend initialised');
    assert.equal(got.instance, null);
    // the process ended by itself: the import started no worker, timer or server
    assert.equal(r.signal, null);
  });
});

describe('the pipeline and openModel through the API', () => {
  let dir: string;
  let db: string;
  let model: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'arbor-api-'));
    db = join(dir, 'a.db');
    model = join(dir, 'model');
    const csv = join(dir, 'synth.csv');
    writeSyntheticUserBehaviorCsv({ items: 120, users: 80, seed: 5 }, csv);
    const ing = await arbor.ingest(csv, { db, format: 'userbehavior' });
    assert.ok(ing.eventsInserted > 500);
    assert.equal((await arbor.ingest(csv, { db, format: 'userbehavior' })).alreadyIngested, true);
    assert.deepEqual(await arbor.split({ db, testUsers: 15, validUsers: 5, seed: 1 }), { testUsers: 15, validUsers: 5, trainUsers: 60, seed: 1 });
    const m = await arbor.buildTree({ db, out: model, seed: 2 });
    assert.equal(m.tree.numItems, 120);
    const s = await arbor.train({ db, model, train: { epochs: 1, workers: 0 }, seed: 3 });
    assert.equal(s.epochs.length, 1);
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('evaluate reports recall for beam search and the oracle', async () => {
    const r = await arbor.evaluate({ db, model, ks: [5, 10], baselines: ['popularity'] });
    assert.deepEqual(r.ks, [5, 10]);
    assert.deepEqual(r.methods.map((x) => [x.name, x.beam]), [['beam', 20], ['brute-force', undefined], ['popularity', undefined]]);
    for (const x of r.methods) for (const mk of x.metrics) assert.ok(mk.recall >= 0 && mk.recall <= 1);
  });

  it('buildTree refuses to replace the trained model without force', async () => {
    await assert.rejects(arbor.buildTree({ db, out: model }), (e: unknown) => e instanceof arbor.UsageError && e.message.includes(`${model} holds a trained model`) && e.message.includes('--force'));
    assert.ok(readModel(model).network, 'the scorer is still there');
  });

  it('retrieve speaks external ids and gives what beam search gives on the model', async () => {
    const m = await arbor.openModel(model, { db });
    try {
      const direct = readModel(model, { requireScorer: true });
      const ids = direct.tree.items.itemIds;
      const search = new BeamSearch(direct.tree, new NetworkScorer(direct.network!, direct.tree));
      const history = [ids[3], ids[40], 'no-such-item', ids[77]];
      const got = await m.retrieve({ history, k: 10 });
      // the history is left out by default
      const want = search.retrieve(Int32Array.of(3, 40, 77), { k: 10, beam: 20, excludeHistory: true });
      assert.deepEqual(got.items.map((x) => x.item), Array.from(want.items, (i) => ids[i]));
      assert.deepEqual(got.items.map((x) => x.score), Array.from(want.scores));
      assert.equal(got.pairsScored, want.pairsScored);
      assert.equal(got.skippedHistory, 1);
      assert.ok(got.items.every((x) => !history.includes(x.item)));
      // options: history included on request, categories (each category once), beam
      const inc = await m.retrieve({ history, k: 10, beam: 30, excludeHistory: false });
      const wantInc = search.retrieve(Int32Array.of(3, 40, 77), { k: 10, beam: 30 });
      assert.deepEqual(inc.items.map((x) => x.item), Array.from(wantInc.items, (i) => ids[i]));
      const cats = direct.tree.items.categoryIds.slice(0, 2);
      const c = await m.retrieve({ history, k: 5, categories: [cats[0], cats[1], cats[0]] });
      const catOf = new Map(ids.map((id, i) => [id, direct.tree.items.categoryIds[direct.tree.items.itemCategory[i]]]));
      assert.equal(c.items.length, 5);
      assert.ok(c.items.every((x) => cats.includes(catOf.get(x.item)!)));
      // a user of the store, and a batch in order
      const u = await m.retrieve({ user: 'u1', k: 5 });
      assert.equal(u.items.length, 5);
      const batch = await m.retrieveBatch([{ history, k: 10 }, { user: 'u1', k: 5 }]);
      assert.deepEqual(batch, [got, u]);
      const info = m.info();
      assert.equal(info.tree.numItems, 120);
      assert.ok(info.files['scorer/weights.bin']);
      direct.network!.dispose();
    } finally {
      await m.close();
    }
  });

  it('rejects bad queries with typed errors naming the field', async () => {
    const m = await arbor.openModel(model, { db });
    try {
      const usage = (field: string) => (e: unknown) => e instanceof arbor.UsageError && e.message.startsWith(field);
      await assert.rejects(m.retrieve({ history: ['1'] } as arbor.RetrieveRequest), usage('k'));
      await assert.rejects(m.retrieve({ history: ['1'], k: 0 }), usage('k'));
      await assert.rejects(m.retrieve({ history: ['1'], k: 10, beam: 5 }), usage('beam: must be >= k'));
      await assert.rejects(m.retrieve({ history: [1] as unknown as string[], k: 3 }), usage('history'));
      await assert.rejects(m.retrieve({ k: 3 }), usage('history: required'));
      await assert.rejects(m.retrieve({ history: ['1'], k: 3, categories: ['nope'] }), usage('categories: unknown category "nope"'));
      await assert.rejects(m.retrieveBatch([{ history: ['1'], k: 3 }, { history: ['1'], k: -1 }]), usage('[1].k'));
      await assert.rejects(m.retrieve({ user: 'nobody', k: 3 }), (e: unknown) => e instanceof arbor.NotFoundError && /user: "nobody" is not in the store/.test((e as Error).message));
    } finally {
      await m.close();
    }
    await assert.rejects(m.retrieve({ history: ['1'], k: 3 }), (e: unknown) => e instanceof arbor.UsageError && /is closed/.test((e as Error).message));
    const noStore = await arbor.openModel(model);
    await assert.rejects(noStore.retrieve({ user: 'u1', k: 3 }), /no store to look users up/);
    await noStore.close();
  });

  it('answers the same with worker threads', async () => {
    const local = await arbor.openModel(model);
    const pooled = await arbor.openModel(model, { workers: 2 });
    try {
      const qs = Array.from({ length: 6 }, (_, i) => ({ history: [`i${i * 7}`, `i${i * 7 + 3}`], k: 8, excludeHistory: true }));
      assert.deepEqual(await pooled.retrieveBatch(qs), await local.retrieveBatch(qs));
    } finally {
      await local.close();
      await pooled.close();
    }
  });
});

describe('a project that depends on arbor', () => {
  it('type-checks against the published types through the exports map', () => {
    const scratch = mkdtempSync(join(tmpdir(), 'arbor-consumer-'));
    try {
      mkdirSync(join(scratch, 'node_modules'));
      // what installing the package gives: node_modules/arbor is the package folder (built: dist/src/index.d.ts)
      symlinkSync(root, join(scratch, 'node_modules', 'arbor'), 'dir');
      writeFileSync(join(scratch, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
      writeFileSync(
        join(scratch, 'tsconfig.json'),
        JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: [], typeRoots: [join(root, 'node_modules', '@types')] }, files: ['main.ts'] }),
      );
      writeFileSync(
        join(scratch, 'main.ts'),
        [
          "import { openModel, buildTree, UsageError, type RetrieveResponse, type ModelSummary } from 'arbor';",
          "const m = await openModel('model', { workers: 0 });",
          "const r: RetrieveResponse = await m.retrieve({ history: ['a'], k: 10, excludeHistory: true });",
          'const first: string | undefined = r.items[0]?.item;',
          'const n: number = r.pairsScored + r.skippedHistory;',
          'const info: ModelSummary = m.info();',
          "await buildTree({ db: 'a.db', out: 'm', force: true });",
          '// @ts-expect-error k is required',
          "await m.retrieve({ history: ['a'] });",
          '// @ts-expect-error history holds item id strings',
          'await m.retrieve({ history: [1], k: 3 });',
          '// @ts-expect-error internals are not exported',
          "import type { BeamSearch } from 'arbor/dist/src/beam/beam.js';",
          'export { first, n, info, UsageError };',
          '',
        ].join('\n'),
      );
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const r = spawnSync(process.execPath, [tsc, '-p', scratch], { cwd: scratch, encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
