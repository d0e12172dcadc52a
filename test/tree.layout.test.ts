import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UsageError } from '../src/core/errors.js';
import { TreeLayout, buildCategoryTree, buildRandomTree, fromOrder, type Tree } from '../src/tree/index.js';
import { assertTreeInvariants, leafOrder, makeItems } from './helpers/trees.js';

/** A random catalogue and build options; small item counts are drawn more often. */
const treeCase = fc.record({
  branching: fc.integer({ min: 2, max: 5 }),
  n: fc.oneof(fc.integer({ min: 2, max: 40 }), fc.integer({ min: 2, max: 3000 })),
  numCats: fc.integer({ min: 0, max: 40 }),
  catSeed: fc.integer({ min: 0, max: 0x7fffffff }),
  seed: fc.integer({ min: 0, max: 0x7fffffff }),
});

const builders = { random: buildRandomTree, category: buildCategoryTree };

/** Sibling subtree sizes of every node differ by at most one. */
function assertBalanced(tree: Tree): void {
  const { layout, subtreeSize } = tree;
  for (let c = 0; c < layout.numInternal; c++) {
    const fc0 = layout.firstChild(c);
    let lo = Infinity;
    let hi = -Infinity;
    for (let j = 0; j < layout.branching; j++) {
      lo = Math.min(lo, subtreeSize[fc0 + j]);
      hi = Math.max(hi, subtreeSize[fc0 + j]);
    }
    if (hi - lo > 1) assert.fail(`children of node ${c} hold ${lo}..${hi} items`);
  }
}

describe('TreeLayout arithmetic', () => {
  it('numbers a small ternary tree level by level', () => {
    const l = new TreeLayout(3, 2);
    assert.deepEqual(l.levelStarts, [0, 1, 4, 13]);
    assert.equal(l.numNodes, 13);
    assert.equal(l.numInternal, 4);
    assert.equal(l.numLeaves, 9);
    assert.deepEqual([0, 1, 3, 4, 12].map((c) => l.level(c)), [0, 1, 1, 2, 2]);
    assert.deepEqual([0, 1, 3, 4, 6, 7, 12].map((c) => l.parent(c)), [-1, 0, 0, 1, 1, 2, 3]);
    assert.equal(l.firstChild(2), 7);
    assert.equal(l.leafCode(0), 4);
    assert.equal(l.leafCode(8), 12);
    assert.equal(l.ancestorAt(12, 2, 0), 0);
    assert.equal(l.ancestorAt(12, 2, 1), 3);
  });

  it('forItems picks the minimal depth, exactly at the powers of the branching', () => {
    for (let k = 2; k <= 5; k++) {
      for (let d = 1; Math.pow(k, d) <= 3125; d++) {
        assert.equal(TreeLayout.forItems(k ** d, k).depth, d, `${k ** d} items, branching ${k}`);
        assert.equal(TreeLayout.forItems(k ** d + 1, k).depth, d + 1, `${k ** d + 1} items, branching ${k}`);
      }
    }
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 5 }), fc.integer({ min: 2, max: 100_000 }), (k, n) => {
        const { depth } = TreeLayout.forItems(n, k);
        return k ** (depth - 1) < n && n <= k ** depth;
      }),
    );
  });

  it('rejects bad geometry with a UsageError', () => {
    assert.throws(() => new TreeLayout(1, 3), UsageError);
    assert.throws(() => new TreeLayout(2.5, 3), UsageError);
    assert.throws(() => new TreeLayout(2, 0), UsageError);
    assert.throws(() => new TreeLayout(2, 31), UsageError);
    assert.throws(() => TreeLayout.forItems(1, 2), UsageError);
    assert.throws(() => TreeLayout.forItems(10, 2.5), UsageError);
  });

  it('parent(firstChild(c) + j) === c for every internal code (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 1, max: 6 }), (k, d) => {
        const l = new TreeLayout(k, d);
        for (let c = 0; c < l.numInternal; c++) {
          for (let j = 0; j < k; j++) if (l.parent(l.firstChild(c) + j) !== c) return false;
        }
        return l.firstChild(l.numInternal - 1) + k === l.numNodes;
      }),
    );
  });

  // Run in child processes with a time limit: the failure mode is an endless loop.
  it('forItems rejects branching 1 and 0 instead of looping forever', async () => {
    const layoutUrl = new URL('../src/tree/layout.js', import.meta.url).href;
    const run = (k: number) =>
      new Promise<{ out: string; killed: boolean }>((done) => {
        const script = `import { TreeLayout } from ${JSON.stringify(layoutUrl)};
          try { TreeLayout.forItems(10, ${k}); console.log('returned'); } catch (e) { console.log(e.name); }`;
        execFile(process.execPath, ['--input-type=module', '-e', script], { timeout: 2000 }, (err, stdout) =>
          done({ out: stdout.trim(), killed: Boolean(err && (err as { killed?: boolean }).killed) }),
        );
      });
    const results = await Promise.all([1, 0].map(run));
    results.forEach((r, i) => {
      assert.ok(!r.killed, `forItems(10, ${[1, 0][i]}) did not return within 2 s`);
      assert.equal(r.out, 'UsageError');
    });
  });
});

describe('built trees (property tests)', () => {
  for (const [name, build] of Object.entries(builders)) {
    it(`${name} trees satisfy every structural invariant, are balanced and of minimal depth`, () => {
      fc.assert(
        fc.property(treeCase, ({ branching, n, numCats, catSeed, seed }) => {
          const tree = build(makeItems(n, numCats, catSeed), { branching, seed });
          assertTreeInvariants(tree);
          assertBalanced(tree);
          const { depth } = tree.layout;
          assert.ok(branching ** (depth - 1) < n && n <= branching ** depth, `depth ${depth} for ${n} items, branching ${branching}`);
          assert.equal(tree.layout.branching, branching);
          assert.deepEqual(tree.meta, { init: name, seed });
        }),
        { numRuns: 60 },
      );
    });

    it(`${name} trees: same seed gives the same itemLeaf, another seed (almost always) another`, () => {
      fc.assert(
        fc.property(
          treeCase.filter((c) => c.n >= 12),
          fc.integer({ min: 0, max: 0x7fffffff }),
          ({ branching, n, numCats, catSeed, seed }, other) => {
            fc.pre(other !== seed);
            const items = makeItems(n, numCats, catSeed);
            const a = build(items, { branching, seed });
            const b = build(items, { branching, seed });
            const c = build(items, { branching, seed: other });
            assert.deepEqual(Array.from(a.itemLeaf), Array.from(b.itemLeaf));
            // with >= 12 items the chance of an equal order is below 1 / 12!
            assert.notDeepEqual(Array.from(a.itemLeaf), Array.from(c.itemLeaf));
          },
        ),
        { numRuns: 40 },
      );
    });
  }

  it('category trees keep each category (and the uncategorised items) contiguous in leaf order', () => {
    fc.assert(
      fc.property(treeCase, fc.double({ min: 0, max: 0.5, noNaN: true }), ({ branching, n, numCats, catSeed, seed }, none) => {
        const items = makeItems(n, numCats, catSeed, none);
        const tree = buildCategoryTree(items, { branching, seed });
        const order = leafOrder(tree);
        assert.equal(order.length, n);
        const finished = new Set<number>();
        let prev: number | undefined;
        for (const item of order) {
          const cat = items.itemCategory[item];
          if (cat !== prev) {
            if (finished.has(cat)) assert.fail(`category ${cat} is split in leaf order`);
            if (prev !== undefined) finished.add(prev);
            prev = cat;
          }
        }
      }),
      { numRuns: 80 },
    );
  });

  it('a random tree is not grouped by category (the contiguity check can fail)', () => {
    // 200 items in 4 categories: a random order keeping all 4 contiguous is astronomically unlikely
    const items = makeItems(200, 4, 3, 0);
    const order = leafOrder(buildRandomTree(items, { branching: 2, seed: 5 }));
    let runs = 1;
    for (let i = 1; i < order.length; i++) if (items.itemCategory[order[i]] !== items.itemCategory[order[i - 1]]) runs++;
    assert.ok(runs > 4, `only ${runs} category runs`);
  });

  it('fromOrder puts the items on the last level in exactly the given order', () => {
    fc.assert(
      fc.property(treeCase, ({ branching, n, seed }) => {
        const items = makeItems(n, 0, 1);
        const order = Int32Array.from({ length: n }, (_, i) => i);
        // a seeded permutation that is not the identity for n > 1 most of the time
        for (let i = n - 1; i > 0; i--) {
          const j = (Math.imul(seed ^ i, 0x9e3779b1) >>> 0) % (i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const tree = fromOrder(items, order, { branching, seed }, 'learned');
        assert.deepEqual(leafOrder(tree), Array.from(order));
        assert.equal(tree.meta.init, 'learned');
        assertBalanced(tree);
      }),
      { numRuns: 60 },
    );
  });

  it('fromOrder rejects an order of the wrong length', () => {
    const items = makeItems(10, 2);
    assert.throws(() => fromOrder(items, new Int32Array(9), { branching: 2, seed: 1 }, 'random'), UsageError);
  });

  it('nodeRow maps internal codes to themselves, leaves to numInternal + item, empty leaves to -1', () => {
    const tree = buildRandomTree(makeItems(5, 0), { branching: 2, seed: 9 }); // 8 slots, 3 empty
    const ni = tree.layout.numInternal;
    assert.equal(ni, 7);
    let empty = 0;
    for (let s = 0; s < tree.layout.numLeaves; s++) {
      const item = tree.leafItem[s];
      assert.equal(tree.nodeRow(ni + s), item < 0 ? -1 : ni + item);
      if (item < 0) empty++;
    }
    assert.equal(empty, 3);
    assert.equal(tree.numRows, 12);
  });
});
