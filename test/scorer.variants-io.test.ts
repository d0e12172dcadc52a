/**
 * Save → load → identical results for every scorer variant (pooling,
 * attention, attention with the hierarchical user preference, attention with
 * category embeddings and item vectors), plus the item-features algebra: the
 * materialised rows are base + category + projected vector (or the default),
 * and training moves each part.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { NetworkScorer } from '../src/scorer/session.js';
import { BeamSearch } from '../src/beam/beam.js';
import { BruteForce } from '../src/beam/brute.js';
import { Rng } from '../src/core/rng.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { trainScorer } from '../src/trainer/train.js';
import { ItemFeatures } from '../src/trainer/item-features.js';
import { readItemVectors } from '../src/data/item-vectors.js';
import { readModel, writeModel } from '../src/model/folder.js';
import type { ScorerConfig } from '../src/scorer/config.js';
import { TINY_CONFIG, bytesOf, plantedData, tempDir } from './helpers/training.js';

const data = plantedData({ groups: 8, groupSize: 6, users: 60, testUsers: 10, length: 8, seed: 9 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });

/** A vectors file: 4 values per item carrying its group, one unknown id, every fifth item without a vector. */
function vectorsFile(dir: string): string {
  const lines = data.items.itemIds
    .map((id, i) => (i % 5 === 4 ? '' : JSON.stringify({ item: id, vector: [Math.floor(i / 6) / 8, (i % 6) / 6, 1, -0.5] })))
    .filter(Boolean);
  lines.push(JSON.stringify({ item: 'not-an-item', vector: [0, 0, 0, 0] }));
  const file = join(dir, 'vectors.jsonl');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const VARIANTS: { name: string; cfg: ScorerConfig; features?: 'category' | 'both' }[] = [
  { name: 'pooling', cfg: TINY_CONFIG },
  { name: 'pooling + hierarchical', cfg: { ...TINY_CONFIG, hierarchical: true } },
  { name: 'attention', cfg: { ...TINY_CONFIG, kind: 'attention' } },
  { name: 'attention + hierarchical', cfg: { ...TINY_CONFIG, kind: 'attention', hierarchical: true } },
  { name: 'attention + category', cfg: { ...TINY_CONFIG, kind: 'attention' }, features: 'category' },
  { name: 'attention + category + vectors', cfg: { ...TINY_CONFIG, kind: 'attention', hierarchical: true }, features: 'both' },
];

for (const v of VARIANTS) {
  test(`save → load → identical results: ${v.name}`, async () => {
    await initBackend();
    const { dir, cleanup } = tempDir('variants');
    try {
      const net = ScorerNetwork.init(v.cfg, tree.layout.numInternal, tree.numItems, new Rng(3));
      const features = v.features
        ? new ItemFeatures(tree.layout.numInternal, tree.numItems, v.cfg.embDim, net.emb, {
            category: { itemCategory: data.items.itemCategory, numCategories: data.items.categoryIds.length },
            ...(v.features === 'both' ? { vectors: readItemVectors(vectorsFile(dir), data.items.itemIds) } : {}),
          }, new Rng(4))
        : undefined;
      trainScorer(tree, net, { sequences: data.sequences, features }, { epochs: 1, batchSize: 32, seed: 3 });
      await writeModel(join(dir, 'm'), { tree, network: net, seed: 3, config: {} });
      const loaded = readModel(join(dir, 'm'), { requireScorer: true });
      assert.equal(loaded.network!.config.kind, v.cfg.kind);
      for (const make of [(n: ScorerNetwork) => new BeamSearch(tree, new NetworkScorer(n, tree)), (n: ScorerNetwork) => new BruteForce(tree, new NetworkScorer(n, tree))]) {
        const a = make(net);
        const b = make(loaded.network!);
        for (const c of data.cases) {
          const x = a.retrieve(c.history, { k: 10, beam: 12 });
          const y = b.retrieve(c.history, { k: 10, beam: 12 });
          assert.deepEqual(Array.from(y.items), Array.from(x.items));
          assert.ok(bytesOf(y.scores).equals(bytesOf(x.scores)), 'scores differ bitwise');
        }
      }
      net.dispose();
      loaded.network!.dispose();
    } finally {
      cleanup();
    }
  });
}

test('item features: rows are base + category + projected vector (or the learned default); training moves every part', async () => {
  await initBackend();
  const { dir, cleanup } = tempDir('features');
  try {
    const vectors = readItemVectors(vectorsFile(dir), data.items.itemIds);
    assert.equal(vectors.dim, 4);
    assert.equal(vectors.unknownIds, 1);
    assert.deepEqual(vectors.unknownExamples, ['not-an-item']);
    assert.equal(vectors.matched, data.items.itemIds.length - Math.floor(data.items.itemIds.length / 5));
    const cfg: ScorerConfig = { ...TINY_CONFIG, kind: 'attention' };
    const d = cfg.embDim;
    const net = ScorerNetwork.init(cfg, tree.layout.numInternal, tree.numItems, new Rng(3));
    const f = new ItemFeatures(tree.layout.numInternal, tree.numItems, d, net.emb, { category: { itemCategory: data.items.itemCategory, numCategories: 8 }, vectors }, new Rng(4));
    const before = { cat: f.catTable.slice(), proj: f.proj.slice(), def: f.def.slice() };
    trainScorer(tree, net, { sequences: data.sequences, features: f }, { epochs: 1, batchSize: 32, seed: 3 });
    assert.ok(!bytesOf(f.catTable).equals(bytesOf(before.cat)), 'category table unchanged');
    assert.ok(!bytesOf(f.proj).equals(bytesOf(before.proj)), 'projection unchanged');
    assert.ok(!bytesOf(f.def).equals(bytesOf(before.def)), 'default vector unchanged');
    for (const it of [0, 4, 9, 47]) {
      const row = (tree.layout.numInternal + it) * d;
      for (let t = 0; t < d; t++) {
        let want = f.base[row + t] + f.catTable[data.items.itemCategory[it] * d + t];
        if (vectors.has[it]) for (let s = 0; s < 4; s++) want += vectors.data[it * 4 + s] * f.proj[s * d + t];
        else want += f.def[t];
        assert.ok(Math.abs(net.emb[row + t] - want) < 1e-5, `item ${it} dim ${t}: ${net.emb[row + t]} vs ${want}`);
      }
    }
    // internal node rows are the base rows
    assert.ok(bytesOf(net.emb.subarray(0, tree.layout.numInternal * d)).equals(bytesOf(f.base.subarray(0, tree.layout.numInternal * d))));
    net.dispose();
  } finally {
    cleanup();
  }
});

test('item vectors file: bad lines name file, line and value', () => {
  const { dir, cleanup } = tempDir('vectors');
  try {
    const ids = ['a', 'b', 'c'];
    const cases: [string, RegExp][] = [
      ['{"item": "a", "vector": [1, 2]}\n{"item": "b", "vector": [1, 2, 3]}\n', /v\.jsonl:2: vector of item b has 3 values, the first line's has 2/],
      ['{"item": "a", "vector": [1, 2]}\n\n{oops\n', /v\.jsonl:3: not valid JSON: "\{oops"/],
      ['{"item": "a", "vector": [1, "x"]}\n', /v\.jsonl:1: vector value 1 is not a finite number: "\\"x\\""/],
      ['{"item": "a", "vector": [1]}\n{"item": "a", "vector": [2]}\n', /v\.jsonl:2: item id given twice: "a"/],
      ['{"id": "a", "vector": [1]}\n', /v\.jsonl:1: expected \{"item": "id", "vector": \[numbers\]\}/],
      ['\n\n', /holds no vectors/],
    ];
    for (const [text, re] of cases) {
      const file = join(dir, 'v.jsonl');
      writeFileSync(file, text);
      assert.throws(() => readItemVectors(file, ids), re);
    }
  } finally {
    cleanup();
  }
});
