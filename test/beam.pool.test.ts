import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ArborError, ModelFormatError, UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, type Query } from '../src/beam/index.js';
import { OverloadError, WorkerPool, openRetrievalService } from '../src/runtime/index.js';
import { writeModel } from '../src/model/folder.js';
import { DEFAULT_SCORER_CONFIG, NetworkScorer, ScorerNetwork, initBackend } from '../src/scorer/index.js';
import { buildCategoryTree, type Tree } from '../src/tree/index.js';
import { tempDir } from './helpers/training.js';
import { makeItems } from './helpers/trees.js';

const N = 1500;
let dir: string;
let cleanup: () => void;
let tree: Tree;
let local: BeamSearch;

function queries(count: number, seed: number): Query[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, (_, i) => ({
    history: Int32Array.from({ length: rng.int(20) }, () => rng.int(N)),
    opts: { k: 10, beam: 10 + rng.int(30), excludeHistory: i % 3 === 0, categories: i % 4 === 1 ? Int32Array.from([i % 6]) : undefined },
  }));
}

before(async () => {
  await initBackend();
  ({ dir, cleanup } = tempDir('arbor-pool-'));
  tree = buildCategoryTree(makeItems(N, 6, 7), { branching: 2, seed: 7 });
  const net = ScorerNetwork.init({ ...DEFAULT_SCORER_CONFIG, hierarchical: true }, tree.layout.numInternal, N, new Rng(7));
  await writeModel(join(dir, 'model'), { tree, network: net, seed: 7, config: {} });
  local = new BeamSearch(tree, new NetworkScorer(net, tree));
});
after(() => cleanup());

describe('retrieval worker pool', () => {
  it('two workers answer batches and concurrent single queries exactly as the in-process search', async () => {
    const pool = await openRetrievalService(join(dir, 'model'), { workers: 2, batchSize: 5 });
    try {
      assert.ok(pool instanceof WorkerPool);
      assert.equal((pool as WorkerPool).workers, 2);
      const qs = queries(60, 1);
      const want = qs.map((q) => local.retrieve(q.history, q.opts));
      const got = await pool.retrieveBatch(qs);
      const singles = await Promise.all(qs.map((q) => pool.retrieve(q)));
      for (const res of [got, singles]) {
        res.forEach((r, i) => {
          assert.deepEqual(Array.from(r.items), Array.from(want[i].items), `query ${i}`);
          assert.deepEqual(Array.from(r.scores), Array.from(want[i].scores), `query ${i}`);
          assert.equal(r.pairsScored, want[i].pairsScored);
        });
      }
      assert.equal(pool.pending, 0);
    } finally {
      await pool.close();
    }
  });

  it('a bad query fails alone with its typed error; others in the same batch succeed', async () => {
    const pool = await openRetrievalService(join(dir, 'model'), { workers: 1, batchSize: 8 });
    try {
      const good = queries(3, 2);
      const bad: Query[] = [
        { history: Int32Array.from([1]), opts: { k: 5, beam: 2 } },
        { history: Int32Array.from([N + 5]), opts: { k: 5 } },
        { history: Int32Array.from([1]), opts: { k: 5, categories: Int32Array.from([99]) } },
      ];
      const all = [good[0], bad[0], good[1], bad[1], bad[2], good[2]];
      const settled = await Promise.allSettled(all.map((q) => pool.retrieve(q)));
      assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
      const msg = (i: number) => ((settled[i] as PromiseRejectedResult).reason as Error);
      assert.ok(msg(1) instanceof UsageError && /beam must be >= k \(beam 2, k 5\)/.test(msg(1).message));
      assert.match(msg(3).message, new RegExp(`history item index ${N + 5} is outside the catalogue`));
      assert.match(msg(4).message, /category index 99 is outside the model's categories/);
      assert.deepEqual(Array.from((settled[0] as PromiseFulfilledResult<{ items: Int32Array }>).value.items), Array.from(local.retrieve(good[0].history, good[0].opts).items));
    } finally {
      await pool.close();
    }
  });

  it('refuses work beyond maxPending with an OverloadError, drains on close, then refuses everything', async () => {
    const pool = await openRetrievalService(join(dir, 'model'), { workers: 1, batchSize: 4, maxPending: 10 });
    const qs = queries(10, 3);
    const accepted = pool.retrieveBatch(qs);
    assert.equal(pool.pending, 10);
    await assert.rejects(pool.retrieve(qs[0]), (e: unknown) => e instanceof OverloadError && /10 queries pending \(limit 10\)/.test((e as Error).message));
    const closing = pool.close();
    await assert.rejects(pool.retrieve(qs[0]), /closed/);
    const res = await accepted; // accepted work is answered before close resolves
    assert.equal(res.length, 10);
    await closing;
    assert.equal(pool.pending, 0);
  });

  it('a missing model folder fails the factory with the loader error; workers 0 answers in-process', async () => {
    await assert.rejects(openRetrievalService(join(dir, 'nope'), { workers: 1 }), (e: unknown) => e instanceof ArborError && /nope\/manifest\.json: model folder does not exist/.test((e as Error).message));
    await assert.rejects(openRetrievalService(join(dir, 'nope'), { workers: 0 }), ModelFormatError);
    await assert.rejects(openRetrievalService(join(dir, 'model'), { workers: -1 }), UsageError);
    const inproc = await openRetrievalService(join(dir, 'model'), { workers: 0 });
    const q = queries(1, 4)[0];
    assert.deepEqual(Array.from((await inproc.retrieve(q)).items), Array.from(local.retrieve(q.history, q.opts).items));
    await inproc.close();
  });
});
