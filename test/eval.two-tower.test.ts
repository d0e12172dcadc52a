import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.js';
import type { EvalCase } from '../src/data/types.js';
import { ExactInnerProduct, HnswInnerProduct, innerProductIndex, loadHnswlib } from '../src/eval/ann.js';
import { evaluate } from '../src/eval/evaluate.js';
import { PopularityRetriever } from '../src/eval/popularity.js';
import { TwoTowerRetriever, trainTwoTower } from '../src/eval/two-tower.js';
import { initBackend } from '../src/scorer/backend.js';

function randomUnitVectors(n: number, dim: number, rng: Rng): Float32Array {
  const v = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let t = 0; t < dim; t++) norm += (v[i * dim + t] = rng.normal()) ** 2;
    for (let t = 0; t < dim; t++) v[i * dim + t] /= Math.sqrt(norm);
  }
  return v;
}

test('exact inner-product search returns the true top k, best first', () => {
  const v = Float32Array.of(1, 0, 0, 1, 0.6, 0.8, -1, 0);
  const r = new ExactInnerProduct(v, 2).search(Float32Array.of(0.8, 0.6), 3);
  assert.deepEqual(Array.from(r.ids), [2, 0, 1]);
  assert.ok(Math.abs(r.scores[0] - 0.96) < 1e-6);
});

test('HNSW (hnswlib-node) finds >= 95 % of the exact top 10 on random vectors, and the same graph for the same seed', (t) => {
  if (!loadHnswlib()) {
    t.skip('hnswlib-node is not installed (optional dependency)');
    return;
  }
  const rng = new Rng(9);
  const dim = 16;
  const vectors = randomUnitVectors(4000, dim, rng);
  const queries = randomUnitVectors(100, dim, rng);
  const exact = new ExactInnerProduct(vectors, dim);
  const hnsw = new HnswInnerProduct(vectors, dim, { seed: 1 });
  const again = new HnswInnerProduct(vectors, dim, { seed: 1 });
  let found = 0;
  for (let q = 0; q < 100; q++) {
    const query = queries.subarray(q * dim, (q + 1) * dim);
    const want = new Set(exact.search(query, 10).ids);
    const got = hnsw.search(query, 10);
    for (const id of got.ids) if (want.has(id)) found++;
    assert.deepEqual(Array.from(again.search(query, 10).ids), Array.from(got.ids));
    // scores are the inner products, best first
    for (let i = 1; i < got.scores.length; i++) assert.ok(got.scores[i - 1] >= got.scores[i] - 1e-6);
  }
  assert.ok(found / 1000 >= 0.95, `HNSW recall ${found / 1000}`);
  assert.equal(innerProductIndex(vectors, dim, { seed: 1 }).kind, 'hnsw');
  assert.equal(innerProductIndex(vectors, dim, { seed: 1, exact: true }).kind, 'exact');
  // k above the catalogue returns the catalogue
  assert.equal(new HnswInnerProduct(vectors.subarray(0, 5 * dim), dim, { seed: 1 }).search(queries.subarray(0, dim), 10).ids.length, 5);
});

/**
 * Users each follow one of 8 planted groups of 30 items, drawing from it with
 * a skewed popularity; across groups, popularity differs too, so the global
 * popularity ranking is a real but weak baseline.
 */
function plantedUsers(count: number, rng: Rng): Int32Array[] {
  return Array.from({ length: count }, () => {
    const g = Math.min(7, Math.floor(8 * rng.next() ** 1.5));
    return Int32Array.from({ length: 14 }, () => g * 30 + Math.floor(30 * rng.next() ** 2));
  });
}

const asCases = (users: Int32Array[], prefix: string): EvalCase[] =>
  users.map((s, i) => ({ user: `${prefix}${i}`, history: s.subarray(0, 7), truth: Int32Array.from(new Set(s.subarray(7))) }));

test('two-tower learns a planted group structure well above popularity, deterministically', async () => {
  await initBackend();
  const rng = new Rng(21);
  const train = plantedUsers(500, rng);
  const valid = asCases(plantedUsers(40, rng), 'v');
  const tests = asCases(plantedUsers(100, rng), 't');
  const options = { embDim: 16, hidden: 32, outDim: 16, batchSize: 128, epochs: 8, seed: 3 };
  const { model, summary } = trainTwoTower({ sequences: train, numItems: 240, valid }, options);
  assert.ok(summary.epochs.length >= 2 && summary.bestEpoch >= 1 && summary.validUsers === 40);
  assert.ok(summary.epochs.every((e) => Number.isFinite(e.loss) && e.validRecall !== undefined));
  const tower = new TwoTowerRetriever(model, { seed: 3, exactIndex: true });
  const pop = new PopularityRetriever(train.map((items, i) => ({ user: `u${i}`, role: 'train' as const, items })), 240);
  const report = evaluate([{ retriever: tower }, { retriever: pop }], tests, [10]);
  const [rt, rp] = report.methods.map((m) => m.metrics[0].recall);
  assert.ok(rt > 1.5 * rp && rt > 0.3, `two-tower recall@10 ${rt}, popularity ${rp}`);
  // the same seed gives the same item vectors
  const again = trainTwoTower({ sequences: train, numItems: 240, valid }, options);
  assert.deepEqual(again.model.itemVectors(), model.itemVectors());
  // with categories (the planted groups), the item tower sees them too
  const withCats = trainTwoTower({ sequences: train, numItems: 240, valid, itemCategory: Int32Array.from({ length: 240 }, (_, i) => Math.floor(i / 30)) }, { ...options, epochs: 2 });
  assert.ok(withCats.model.catEmb !== undefined && withCats.model.itemInDim === 32);
  // excludeHistory drops the history's items
  const h = tests[0].history;
  const ex = tower.retrieve(h, { k: 10, excludeHistory: true });
  assert.equal(ex.items.length, 10);
  assert.ok(Array.from(ex.items).every((it) => !h.includes(it)));
  for (const m of [model, again.model, withCats.model]) m.dispose();
});
