/**
 * Extending a trained model by new items: a full tree grows a level, the
 * embedding table keeps every old row (internal nodes at their codes, items
 * after the new internal rows), the new internal nodes start from the item
 * below them, the MLP is untouched, and the result is a valid model folder.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { Rng } from '../src/core/rng.js';
import { readModel, writeModel } from '../src/model/folder.js';
import { extendModel } from '../src/model/extend.js';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { TINY_CONFIG, tempDir } from './helpers/training.js';
import { assertTreeInvariants, makeItems } from './helpers/trees.js';

const temp = tempDir('extend');
after(temp.cleanup);

for (const rule of ['neighbours', 'centroid', 'node', 'random'] as const) {
  it(`a full tree grows a level and keeps every trained row (${rule})`, async () => {
    await initBackend();
    const tree = buildCategoryTree(makeItems(16, 4, 3, 0), { branching: 2, seed: 2 }); // 16 items fill depth 4
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(5));
    const d = TINY_CONFIG.embDim;
    const m = 3;
    const items = {
      itemIds: [...tree.items.itemIds, 'x0', 'x1', 'x2'],
      itemCategory: Int32Array.from([...tree.items.itemCategory, 0, 1, -1]),
      categoryIds: tree.items.categoryIds,
    };
    const rows = new Float32Array(m * d).map((_, i) => Math.sin(i));
    const anchors = { start: Int32Array.of(0, 2, 3, 3), item: Int32Array.of(0, 1, 5), weight: Float32Array.of(1, 2, 1) };
    const ext = extendModel(tree, net, items, rows, rule, 9, anchors);
    try {
      assert.equal(ext.levelsGrown, 1);
      const t = ext.tree;
      assertTreeInvariants(t);
      assert.equal(t.layout.depth, tree.layout.depth + 1);
      const oi = tree.layout.numInternal;
      const gi = t.layout.numInternal;
      const row = (e: Float32Array, r: number) => Array.from(e.subarray(r * d, (r + 1) * d));
      for (let c = 0; c < oi; c++) assert.deepEqual(row(ext.network.emb, c), row(net.emb, c), `internal node ${c}`);
      for (let i = 0; i < tree.numItems; i++) {
        assert.deepEqual(row(ext.network.emb, gi + i), row(net.emb, oi + i), `item ${i}`);
        // the old leaf is now the internal node above the item, with its row
        const oldLeaf = tree.leafCodeOf(i);
        assert.equal(t.layout.parent(t.leafCodeOf(i)), oldLeaf);
        assert.deepEqual(row(ext.network.emb, oldLeaf), row(net.emb, oi + i));
      }
      for (let j = 0; j < m; j++) assert.deepEqual(row(ext.network.emb, gi + tree.numItems + j), Array.from(rows.subarray(j * d, (j + 1) * d)));
      if (rule === 'neighbours') {
        // x1's only anchor is item 5: it lands beside it, in the slot the growth freed
        assert.equal(t.layout.parent(t.leafCodeOf(tree.numItems + 1)), tree.leafCodeOf(5));
      }
      const weights = (n: ScorerNetwork) => [...n.variableArrays()].map(([k, v]) => [k, Array.from(v.data)]);
      assert.deepEqual(weights(ext.network), weights(net), 'the MLP is unchanged');
      const dir = join(temp.dir, rule);
      await writeModel(dir, { tree: t, network: ext.network, seed: 1, config: {} });
      const back = readModel(dir, { requireScorer: true });
      assert.equal(back.tree.numItems, 19);
      back.network!.dispose();
    } finally {
      ext.network.dispose();
      net.dispose();
    }
  });
}
