import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ArborError, UsageError } from '../src/core/errors.js';
import type { Logger, Progress } from '../src/core/log.js';
import { Rng } from '../src/core/rng.js';
import {
  Tree,
  TreeLayout,
  buildRandomTree,
  fromOrder,
  learnTree,
  pathLogLikelihood,
  placeInOrder,
  type LearnTreeData,
  type PairNodeScorer,
  type TreeItems,
} from '../src/tree/index.js';
import { assertSameTree, assertTreeInvariants, makeItems } from './helpers/trees.js';

/** A 32-bit mix of a seed, a pair and a node. */
function mix(seed: number, pair: number, node: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ pair ^ (h >>> 15), 0xc2b2ae35) >>> 0;
  h = Math.imul(h ^ node ^ (h >>> 13), 0x27d4eb2f) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Every call the scorer got, plus the contract checks. */
interface ScorerLog {
  calls: { rows: number; level: number }[];
  rows: number;
  /** Distinct pairs seen. */
  pairs: Set<number>;
}

/**
 * Wraps a (pair, node, level) → log-probability function as a learnTree
 * scorer that checks the contract: equal-length arrays, only internal nodes
 * below the root, every node on the stated level and non-empty in a balanced
 * tree of `ref`'s shape (the only nodes that can receive items).
 */
function checkedScorer(ref: Tree, f: (pair: number, node: number, level: number) => number): { score: PairNodeScorer; log: ScorerLog } {
  const { layout, subtreeSize } = ref;
  const log: ScorerLog = { calls: [], rows: 0, pairs: new Set() };
  const score: PairNodeScorer = (pairs, nodes, level) => {
    assert.equal(pairs.length, nodes.length);
    assert.ok(level >= 1 && level < layout.depth, `level ${level} scored (depth ${layout.depth})`);
    const out = new Float32Array(nodes.length);
    for (let i = 0; i < nodes.length; i++) {
      const c = nodes[i];
      if (!(c >= layout.levelStarts[level] && c < layout.levelStarts[level + 1])) assert.fail(`node ${c} is not on level ${level}`);
      if (subtreeSize[c] === 0) assert.fail(`node ${c} can hold no item but was scored`);
      log.pairs.add(pairs[i]);
      out[i] = f(pairs[i], c, level);
    }
    log.calls.push({ rows: nodes.length, level });
    log.rows += nodes.length;
    return out;
  };
  return { score, log };
}

/** Log-probabilities in [−6, 0) drawn from a seeded Rng keyed by (pair, node). */
function randomLogProb(seed: number): (pair: number, node: number) => number {
  return (pair, node) => -6 * new Rng(mix(seed, pair, node)).next() - 1e-6;
}

/** Random pairs over n items: some items get none, a few popular ones many. */
function randomData(n: number, numPairs: number, seed: number): LearnTreeData {
  const rng = new Rng(seed);
  const target = new Int32Array(numPairs);
  for (let p = 0; p < numPairs; p++) {
    const u = rng.next();
    target[p] = Math.min(n - 1, Math.floor(n * u * u));
  }
  return { numPairs, target };
}

/** `per` pairs for every item, pair p targeting item p mod n. */
function uniformData(n: number, per: number): LearnTreeData {
  const target = new Int32Array(n * per);
  for (let p = 0; p < target.length; p++) target[p] = p % n;
  return { numPairs: target.length, target };
}

/** The balanced tree placeInOrder makes for this catalogue (subtree sizes do not depend on the order). */
function balanced(items: TreeItems, branching: number): Tree {
  return fromOrder(items, Int32Array.from({ length: items.itemIds.length }, (_, i) => i), { branching, seed: 0 }, 'random');
}

/** A placeInOrder tree on a given (possibly deeper than needed) layout. */
function balancedOn(items: TreeItems, layout: TreeLayout): Tree {
  const order = Int32Array.from({ length: items.itemIds.length }, (_, i) => i);
  return new Tree(layout, items, placeInOrder(layout, order), { init: 'random', seed: 0 });
}

/** A placeInOrder tree on `layout` with items in a seeded random order. */
function shuffledTree(items: TreeItems, layout: TreeLayout, seed: number): Tree {
  const order = new Rng(seed).shuffle(Int32Array.from({ length: items.itemIds.length }, (_, i) => i));
  return new Tree(layout, items, placeInOrder(layout, order), { init: 'random', seed });
}

/** Every item has the same ancestor on every internal level in both trees. */
function assertSameGrouping(a: Tree, b: Tree): void {
  const depth = a.layout.depth;
  const pa = new Int32Array(depth + 1);
  const pb = new Int32Array(depth + 1);
  for (let i = 0; i < a.numItems; i++) {
    a.pathOf(i, pa);
    b.pathOf(i, pb);
    for (let l = 1; l < depth; l++) if (pa[l] !== pb[l]) assert.fail(`item ${i} is under node ${pa[l]} instead of ${pb[l]} on level ${l}`);
  }
}

/** A logger whose progress records updates. */
function recordingLogger(): { logger: Logger; bars: { label: string; total: number; last: number; stopped: number }[] } {
  const bars: { label: string; total: number; last: number; stopped: number }[] = [];
  const logger: Logger = {
    info() {},
    warn() {},
    progress(label, total): Progress {
      const bar = { label, total, last: -1, stopped: 0 };
      bars.push(bar);
      return {
        update(done) {
          assert.ok(done >= bar.last && done <= total, `progress ${done} after ${bar.last} of ${total}`);
          bar.last = done;
        },
        stop() {
          bar.stopped++;
        },
      };
    },
  };
  return { logger, bars };
}

describe('learnTree invariants', () => {
  it('keeps every item in one leaf on the last level with balanced subtree sizes (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          k: fc.integer({ min: 2, max: 4 }),
          n: fc.oneof(fc.integer({ min: 2, max: 30 }), fc.integer({ min: 2, max: 500 })),
          gap: fc.integer({ min: 1, max: 4 }),
          pairsPerItem: fc.integer({ min: 0, max: 4 }),
          maxPairsPerItem: fc.integer({ min: 0, max: 3 }),
          extraDepth: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 })),
          seed: fc.integer({ min: 0, max: 0x7fffffff }),
        }),
        ({ k, n, gap, pairsPerItem, maxPairsPerItem, extraDepth, seed }) => {
          const items = makeItems(n, 3, seed);
          const layout = new TreeLayout(k, TreeLayout.forItems(n, k).depth + extraDepth);
          const tree0 = shuffledTree(items, layout, seed);
          const ref = balancedOn(items, layout);
          const data = randomData(n, pairsPerItem * n, seed + 1);
          const { score, log } = checkedScorer(ref, randomLogProb(seed + 2));
          const r = learnTree(tree0, data, score, { gap, maxPairsPerItem, seed });
          assertTreeInvariants(r.tree);
          assert.equal(r.tree.layout, tree0.layout);
          assert.equal(r.tree.items, items);
          assert.deepEqual(r.tree.meta, { init: 'learned', seed });
          const first = r.tree.layout.numInternal;
          for (let i = 0; i < n; i++) assert.ok(r.tree.leafCodeOf(i) >= first);
          assert.deepEqual(Array.from(r.tree.subtreeSize), Array.from(ref.subtreeSize), 'subtree sizes of a placeInOrder tree');
          assert.ok(r.moved >= 0 && r.moved <= 1);
          let moved = 0;
          for (let i = 0; i < n; i++) if (r.tree.itemLeaf[i] !== tree0.itemLeaf[i]) moved++;
          assert.equal(r.moved, moved / n);
          assert.equal(r.scoredNodes, log.rows);
          assert.ok(r.seconds >= 0);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves a tree alone when every node scores the same, and when there are no pairs', () => {
    for (const [k, n, gap] of [
      [2, 37, 2],
      [3, 100, 7],
      [4, 17, 1],
    ]) {
      const items = makeItems(n, 0);
      const tree0 = buildRandomTree(items, { branching: k, seed: n });
      const constant = checkedScorer(tree0, () => -0.7);
      const r1 = learnTree(tree0, uniformData(n, 2), constant.score, { gap, seed: 5 });
      assert.deepEqual(Array.from(r1.tree.itemLeaf), Array.from(tree0.itemLeaf));
      assert.equal(r1.moved, 0);
      assert.ok(r1.scoredNodes > 0);
      const none = checkedScorer(tree0, () => assert.fail('no pairs, nothing to score'));
      const r2 = learnTree(tree0, { numPairs: 0, target: new Int32Array(0) }, none.score, { gap, seed: 5 });
      assert.deepEqual(Array.from(r2.tree.itemLeaf), Array.from(tree0.itemLeaf));
      assert.equal(r2.moved, 0);
      assert.equal(r2.scoredNodes, 0);
    }
  });
});

describe('learnTree assignment', () => {
  it('a full candidate keeps the items with the largest regret, not the highest score; ties go to the lower item', () => {
    // Binary tree of depth 2: items 0,1 under node 1, items 2,3 under node 2; pair p is item p's.
    const items = makeItems(4, 0);
    const tree0 = fromOrder(items, Int32Array.of(0, 1, 2, 3), { branching: 2, seed: 0 }, 'random');
    const table = (s: number[][]) => (pair: number, node: number) => s[pair][node - 1];
    // node 1 wanted by 0, 1, 2; regrets 9, 1.5, 4 → keeps 0 and 2 although item 1 scores best there.
    const a = checkedScorer(tree0, table([[-1, -10], [-0.5, -2], [-1, -5], [-3, -1]]));
    const r = learnTree(tree0, uniformData(4, 1), a.score, { gap: 1, seed: 0 });
    // Under node 1: item 0 keeps slot 0, item 2 fills slot 1; under node 2: item 3 keeps slot 3, item 1 fills slot 2.
    assert.deepEqual(Array.from(r.tree.itemLeaf), [0, 2, 1, 3]);
    assert.equal(r.moved, 0.5);
    assert.equal(r.scoredNodes, 8); // 4 pairs × 2 nodes on level 1; the leaf level is never scored
    // equal regrets (items 0 and 1): the lower item index stays
    const b = checkedScorer(tree0, table([[-1, -2], [-1, -2], [0, -9], [-3, 0]]));
    const rb = learnTree(tree0, uniformData(4, 1), b.score, { gap: 1, seed: 0 });
    assert.equal(rb.tree.pathOf(0)[1], 1);
    assert.equal(rb.tree.pathOf(2)[1], 1);
    assert.equal(rb.tree.pathOf(1)[1], 2);
    assert.equal(rb.tree.pathOf(3)[1], 2);
  });

  it('sums log-probabilities along the path over the gap levels', () => {
    // Depth 3 binary tree, one step of gap 2 over levels 1 and 2: item 0's best level-1 node
    // (node 1) leads only to poor level-2 nodes; the path through node 2 → node 6 is better overall.
    const items = makeItems(8, 0);
    const tree0 = fromOrder(items, Int32Array.from({ length: 8 }, (_, i) => i), { branching: 2, seed: 0 }, 'random');
    const f = (pair: number, node: number): number => {
      if (pair !== 0) return -1;
      return ({ 1: -0.1, 2: -1, 3: -5, 4: -5, 5: -2, 6: -0.2 } as Record<number, number>)[node];
    };
    const { score } = checkedScorer(tree0, f);
    const r = learnTree(tree0, { numPairs: 1, target: Int32Array.of(0) }, score, { gap: 2, seed: 0 });
    assert.equal(r.tree.pathOf(0)[2], 6);
    assert.equal(r.scoredNodes, 6); // 2 + 4 nodes for the one pair
    // and the best level-2 node alone (node 5) loses to the best path (node 1 → node 3)
    const g = (pair: number, node: number): number => {
      if (pair !== 0) return -1;
      return ({ 1: -0.1, 2: -3, 3: -1, 4: -5, 5: -0.5, 6: -5 } as Record<number, number>)[node];
    };
    const r2 = learnTree(tree0, { numPairs: 1, target: Int32Array.of(7) }, checkedScorer(tree0, g).score, { gap: 2, seed: 0 });
    assert.equal(r2.tree.pathOf(7)[2], 3);
  });

  it('counts −Infinity as a finite floor, so the finite rest of a path still decides', () => {
    const items = makeItems(8, 0);
    const tree0 = fromOrder(items, Int32Array.from({ length: 8 }, (_, i) => i), { branching: 2, seed: 0 }, 'random');
    // every path to a level-2 node crosses one or two −∞; node 4 has one and the best finite rest
    const f = (pair: number, node: number): number => {
      if (pair !== 0) return -1;
      return ({ 1: -Infinity, 2: -Infinity, 3: -Infinity, 4: -1, 5: -Infinity, 6: -2 } as Record<number, number>)[node];
    };
    const r = learnTree(tree0, { numPairs: 1, target: Int32Array.of(0) }, checkedScorer(tree0, f).score, { gap: 2, seed: 0 });
    assert.equal(r.tree.pathOf(0)[2], 4);
  });

  it('items without pairs keep their place where there is room and fill the rest in leaf order', () => {
    const items = makeItems(4, 0);
    const tree0 = fromOrder(items, Int32Array.of(0, 1, 2, 3), { branching: 2, seed: 0 }, 'random');
    // only item 3 has a pair, and it wants node 1
    const { score } = checkedScorer(tree0, (_pair, node) => (node === 1 ? -0.1 : -4));
    const r = learnTree(tree0, { numPairs: 1, target: Int32Array.of(3) }, score, { gap: 1, seed: 0 });
    // node 1: item 0 stays in slot 0, item 3 takes slot 1; node 2: item 2 stays in slot 2, item 1 takes slot 3
    assert.deepEqual(Array.from(r.tree.itemLeaf), [0, 3, 2, 1]);
    assert.equal(r.moved, 0.5);
  });

  it('the first step is a stable matching under the regret priorities, on brute-force scores (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          k: fc.integer({ min: 2, max: 4 }),
          n: fc.integer({ min: 5, max: 120 }),
          gap: fc.integer({ min: 1, max: 3 }),
          pairs: fc.integer({ min: 0, max: 300 }),
          seed: fc.integer({ min: 0, max: 0x7fffffff }),
        }),
        ({ k, n, gap, pairs, seed }) => {
          const items = makeItems(n, 0);
          const tree0 = buildRandomTree(items, { branching: k, seed });
          const { layout } = tree0;
          fc.pre(gap < layout.depth);
          const ref = balanced(items, k);
          const data = randomData(n, pairs, seed + 1);
          // multiples of 1/4: sums are exact in any order, and ties are common
          const f = (pair: number, node: number): number => -(mix(seed, pair, node) % 24) / 4;
          const { score } = checkedScorer(ref, f);
          const r = learnTree(tree0, data, score, { gap, seed });

          const cands = Array.from(ref.nonEmptyNodes(gap));
          const cap = cands.map((c) => ref.subtreeSize[c]);
          const pairsOf: number[][] = Array.from({ length: n }, () => []);
          for (let p = 0; p < data.numPairs; p++) pairsOf[data.target[p]].push(p);
          const scored = Array.from({ length: n }, (_, i) => i).filter((i) => pairsOf[i].length > 0);
          const S = new Map<number, number[]>();
          const prefs = new Map<number, number[]>();
          for (const i of scored) {
            const s = cands.map((c) => {
              let t = 0;
              for (const p of pairsOf[i]) for (let j = 1; j <= gap; j++) t += f(p, layout.ancestorAt(c, gap, j));
              return t;
            });
            const cur = layout.ancestorAt(tree0.leafCodeOf(i), layout.depth, gap);
            const order = cands.map((_, x) => x).sort((a, b) => s[b] - s[a] || (cands[a] === cur ? -1 : cands[b] === cur ? 1 : a - b));
            S.set(i, s);
            prefs.set(i, order);
          }
          const regret = (i: number, x: number): number => {
            const order = prefs.get(i)!;
            const at = order.indexOf(x);
            return at + 1 < order.length ? S.get(i)![x] - S.get(i)![order[at + 1]] : Infinity;
          };
          const outranks = (a: number, b: number, x: number): boolean => regret(a, x) > regret(b, x) || (regret(a, x) === regret(b, x) && a < b);
          const assigned = new Map<number, number>();
          for (const i of scored) assigned.set(i, cands.indexOf(r.tree.pathOf(i)[gap]));
          for (const i of scored) {
            const order = prefs.get(i)!;
            for (const x of order.slice(0, order.indexOf(assigned.get(i)!))) {
              const held = scored.filter((j) => assigned.get(j) === x);
              assert.equal(held.length, cap[x], `item ${i} prefers node ${cands[x]}, which has room`);
              for (const j of held) if (!outranks(j, i, x)) assert.fail(`item ${i} blocks with item ${j} at node ${cands[x]}`);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('recovers a planted tree exactly on every internal level (property)', () => {
    fc.assert(
      fc.property(
        fc.record({
          k: fc.integer({ min: 2, max: 4 }),
          n: fc.integer({ min: 2, max: 300 }),
          gap: fc.integer({ min: 1, max: 4 }),
          noisy: fc.boolean(),
          seed: fc.integer({ min: 0, max: 0x7fffffff }),
        }),
        ({ k, n, gap, noisy, seed }) => {
          const items = makeItems(n, 0);
          const planted = buildRandomTree(items, { branching: k, seed });
          const start = buildRandomTree(items, { branching: k, seed: seed ^ 0x5bd1e995 });
          // every item gets 1..3 pairs
          const rng = new Rng(seed);
          const targets: number[] = [];
          for (let i = 0; i < n; i++) for (let c = 1 + rng.int(3); c > 0; c--) targets.push(i);
          rng.shuffle(targets);
          const data = { numPairs: targets.length, target: Int32Array.from(targets) };
          const { layout } = planted;
          const noise = randomLogProb(seed + 7);
          const { score } = checkedScorer(planted, (pair, node, level) => {
            const anc = layout.ancestorAt(planted.leafCodeOf(data.target[pair]), layout.depth, level);
            return (anc === node ? 0 : -5) + (noisy ? noise(pair, node) / 6 : 0);
          });
          const r = learnTree(start, data, score, { gap, seed });
          assertSameGrouping(r.tree, planted);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('recovers a planted tree from a 4000-item random start with the default gap', () => {
    const n = 4000;
    const items = makeItems(n, 0);
    const planted = buildRandomTree(items, { branching: 2, seed: 11 });
    const start = buildRandomTree(items, { branching: 2, seed: 12 });
    const data = uniformData(n, 2);
    const { layout } = planted;
    const { score, log } = checkedScorer(planted, (pair, node, level) =>
      layout.ancestorAt(planted.leafCodeOf(data.target[pair]), layout.depth, level) === node ? 0 : -5,
    );
    const r = learnTree(start, data, score, { seed: 1 });
    assertSameGrouping(r.tree, planted);
    assert.ok(r.moved > 0.9);
    assert.ok(log.calls.every((c) => c.rows <= 16384));
  });
});

describe('learnTree: the step into the leaves, partial learning', () => {
  const table = (s: number[][]) => (pair: number, node: number) => s[pair][node - 1];

  it('a step that reaches the leaves matches on the last internal level by regret, and items keep their own leaf', () => {
    // Depth-2 binary tree, gap 2: one step scores level 1 and places leaves. Node 1 is wanted by
    // items 0, 1, 2 with regrets 9, 1.5, 4, so it keeps 0 and 2 (on the leaves, sibling leaves would
    // score alike and every first choice would have regret 0).
    const items = makeItems(4, 0);
    const tree0 = fromOrder(items, Int32Array.of(0, 1, 2, 3), { branching: 2, seed: 0 }, 'random');
    const a = checkedScorer(tree0, table([[-1, -10], [-0.5, -2], [-1, -5], [-3, -1]]));
    const r = learnTree(tree0, uniformData(4, 1), a.score, { gap: 2, seed: 0 });
    // item 0 keeps leaf 0 and item 3 leaf 3; the newcomers take the free leaf under their node
    assert.deepEqual(Array.from(r.tree.itemLeaf), [0, 2, 1, 3]);
    assert.equal(r.moved, 0.5);
  });

  it('steps: only the first steps are learned; below, items keep their place where there is room', () => {
    // Depth-3 binary tree of 8 items in order, gap 1, one step: item 0 wants node 2, item 7 node 1.
    const items = makeItems(8, 0);
    const tree0 = fromOrder(items, Int32Array.from({ length: 8 }, (_, i) => i), { branching: 2, seed: 0 }, 'random');
    const { score } = checkedScorer(tree0, (pair, node, level) => {
      assert.equal(level, 1, 'only level 1 is scored');
      if (pair === 0) return node === 2 ? -0.1 : -5;
      if (pair === 7) return node === 1 ? -0.1 : -5;
      return -1;
    });
    const r = learnTree(tree0, uniformData(8, 1), score, { gap: 1, steps: 1, seed: 0 });
    // node 1 holds 1, 2, 3 (in place) and 7 (takes item 0's old slot under node 3: leaf 0);
    // node 2 holds 4, 5, 6 (in place) and 0 (item 7's old slot: leaf 7)
    assert.deepEqual(Array.from(r.tree.itemLeaf), [7, 1, 2, 3, 4, 5, 6, 0]);
    assertTreeInvariants(r.tree);
    // without the limit, level 2 is scored as well
    const all = checkedScorer(tree0, () => -1);
    learnTree(tree0, uniformData(8, 1), all.score, { gap: 1, seed: 0 });
    assert.deepEqual([...new Set(all.log.calls.map((c) => c.level))], [1, 2]);
    assert.throws(() => learnTree(tree0, uniformData(8, 1), all.score, { gap: 1, steps: 0, seed: 0 }), UsageError);
  });
});

describe('pathLogLikelihood', () => {
  const items = makeItems(8, 0);
  const tree0 = fromOrder(items, Int32Array.from({ length: 8 }, (_, i) => i), { branching: 2, seed: 0 }, 'random');
  it('is the mean over pairs of the log-probabilities of the target\'s ancestors, per internal level', () => {
    // pair 0 → item 0 (nodes 1, 3), pair 1 → item 7 (nodes 2, 6); f = −(pair + 1)·node / 16
    const { score, log } = checkedScorer(tree0, (pair, node) => (-(pair + 1) * node) / 16);
    const r = pathLogLikelihood(tree0, { numPairs: 2, target: Int32Array.of(0, 7) }, score);
    assert.equal(r.pairs, 2);
    assert.deepEqual(r.perLevel, [0, -5 / 32, -15 / 32]);
    assert.equal(r.total, -20 / 32);
    assert.equal(log.rows, 4);
    // small calls give the same figures; −∞ counts as the floor; no pairs give zeros
    assert.deepEqual(pathLogLikelihood(tree0, { numPairs: 2, target: Int32Array.of(0, 7) }, score, 1).perLevel, r.perLevel);
    const inf = checkedScorer(tree0, (pair) => (pair === 0 ? -Infinity : 0)).score;
    assert.deepEqual(pathLogLikelihood(tree0, { numPairs: 2, target: Int32Array.of(0, 7) }, inf).perLevel, [0, -5e5, -5e5]);
    assert.deepEqual(pathLogLikelihood(tree0, { numPairs: 0, target: new Int32Array(0) }, score).perLevel, [0, 0, 0]);
  });
  it('rejects bad targets and bad scorer output', () => {
    const ok = checkedScorer(tree0, () => -1).score;
    assert.throws(() => pathLogLikelihood(tree0, { numPairs: 1, target: Int32Array.of(8) }, ok), /target item 8/);
    assert.throws(() => pathLogLikelihood(tree0, { numPairs: 1, target: Int32Array.of(0) }, (p) => new Float32Array(p.length).fill(NaN)), /NaN/);
    assert.throws(() => pathLogLikelihood(tree0, { numPairs: 1, target: Int32Array.of(0) }, () => new Float32Array(0)), ArborError);
  });
});

describe('learnTree determinism', () => {
  it('the same seed gives the same tree; the seed only picks the pair subsets', () => {
    const n = 300;
    const items = makeItems(n, 4, 3);
    const tree0 = buildRandomTree(items, { branching: 3, seed: 3 });
    const data = randomData(n, 2000, 4);
    const run = (seed: number, maxPairsPerItem: number) => {
      const s = checkedScorer(tree0, randomLogProb(9));
      return { r: learnTree(tree0, data, s.score, { gap: 2, seed, maxPairsPerItem }), pairs: s.log.pairs };
    };
    const a = run(21, 0);
    const b = run(21, 0);
    assertSameTree(a.r.tree, b.r.tree);
    assert.equal(a.r.scoredNodes, b.r.scoredNodes);
    // without a cap every pair is used and the seed changes nothing but the meta
    const c = run(22, 0);
    assert.deepEqual(Array.from(c.r.tree.itemLeaf), Array.from(a.r.tree.itemLeaf));
    assert.equal(a.pairs.size, data.numPairs);

    const s1 = run(21, 2);
    const s2 = run(21, 2);
    const s3 = run(22, 2);
    assertSameTree(s1.r.tree, s2.r.tree);
    assert.deepEqual([...s1.pairs].sort((x, y) => x - y), [...s2.pairs].sort((x, y) => x - y));
    assert.notDeepEqual([...s1.pairs].sort((x, y) => x - y), [...s3.pairs].sort((x, y) => x - y));
    // each item's subset holds min(count, 2) of its own pairs
    const count = new Int32Array(n);
    for (let p = 0; p < data.numPairs; p++) count[data.target[p]]++;
    const used = new Int32Array(n);
    for (const p of s1.pairs) used[data.target[p]]++;
    for (let i = 0; i < n; i++) assert.equal(used[i], Math.min(count[i], 2), `item ${i}`);
  });
});

describe('learnTree cost', () => {
  /** Rows the spec predicts: per step, per node of level l, its pairs × its scorable nodes on levels l+1..min(l+dl, depth−1). */
  function predictedRows(ref: Tree, gap: number, pairsPerItem: number): number {
    const { layout, subtreeSize } = ref;
    const depth = layout.depth;
    let rows = 0;
    for (let l = 0; l < depth; l += gap) {
      const dl = Math.min(gap, depth - l);
      for (const v of ref.nonEmptyNodes(l)) {
        const under = (d: number) => {
          let first = v;
          let count = 1;
          for (let i = 0; i < d; i++) {
            first = first * layout.branching + 1;
            count *= layout.branching;
          }
          let nonEmpty = 0;
          for (let c = first; c < first + count; c++) if (subtreeSize[c] > 0) nonEmpty++;
          return nonEmpty;
        };
        if (under(dl) <= 1) continue; // one candidate: nothing to decide, nothing scored
        let perPair = 0;
        for (let d = 1; d <= Math.min(dl, depth - 1 - l); d++) perPair += under(d);
        rows += pairsPerItem * subtreeSize[v] * perPair;
      }
    }
    return rows;
  }

  it('scores exactly pairs × nodes per step (full binary tree)', () => {
    // 32 items, depth 5, gap 2: steps at levels 0 (levels 1, 2: 2 + 4 nodes), 2 (levels 3, 4: 2 + 4), 4 (leaves only)
    const items = makeItems(32, 0);
    const tree0 = buildRandomTree(items, { branching: 2, seed: 1 });
    const { score, log } = checkedScorer(tree0, randomLogProb(1));
    const r = learnTree(tree0, uniformData(32, 3), score, { gap: 2, seed: 0 });
    assert.equal(r.scoredNodes, 96 * 12);
    assert.equal(log.rows, 96 * 12);
  });

  it('scales linearly with the pairs and matches the prediction on ragged trees', () => {
    for (const [k, n, gap] of [
      [3, 23, 2],
      [2, 77, 3],
      [4, 150, 1],
      [2, 1000, 7],
    ]) {
      const items = makeItems(n, 0);
      const tree0 = buildRandomTree(items, { branching: k, seed: n });
      const ref = balanced(items, k);
      const rows: number[] = [];
      for (const per of [1, 2, 4]) {
        const { score, log } = checkedScorer(tree0, randomLogProb(per));
        const r = learnTree(tree0, uniformData(n, per), score, { gap, seed: 0 });
        assert.equal(r.scoredNodes, predictedRows(ref, gap, per), `k=${k} n=${n} gap=${gap} pairs/item=${per}`);
        assert.equal(log.rows, r.scoredNodes);
        rows.push(r.scoredNodes);
      }
      assert.equal(rows[1], 2 * rows[0]);
      assert.equal(rows[2], 4 * rows[0]);
      // a cap of 2 pairs per item scores like 2 pairs per item
      const capped = checkedScorer(tree0, randomLogProb(0));
      const rc = learnTree(tree0, uniformData(n, 4), capped.score, { gap, seed: 0, maxPairsPerItem: 2 });
      assert.equal(rc.scoredNodes, rows[1]);
    }
  });

  it('skips nodes whose items have a single possible place (layouts deeper than needed)', () => {
    for (const [k, n, depth, gap] of [
      [2, 5, 6, 2],
      [3, 7, 4, 1],
      [2, 9, 7, 3],
    ]) {
      const items = makeItems(n, 0);
      const layout = new TreeLayout(k, depth);
      const ref = balancedOn(items, layout);
      const tree0 = shuffledTree(items, layout, n);
      const { score, log } = checkedScorer(ref, randomLogProb(3));
      const r = learnTree(tree0, uniformData(n, 2), score, { gap, seed: 0 });
      assertTreeInvariants(r.tree);
      assert.deepEqual(Array.from(r.tree.subtreeSize), Array.from(ref.subtreeSize));
      assert.equal(r.scoredNodes, predictedRows(ref, gap, 2), `k=${k} n=${n} depth=${depth} gap=${gap}`);
      assert.equal(log.rows, r.scoredNodes);
    }
  });

  it('batches rows: no call exceeds rowsPerCall unless one pair needs more', () => {
    const n = 200;
    const items = makeItems(n, 0);
    const tree0 = buildRandomTree(items, { branching: 2, seed: 2 });
    const data = uniformData(n, 3);
    const reference = checkedScorer(tree0, randomLogProb(5));
    const r0 = learnTree(tree0, data, reference.score, { gap: 3, seed: 0 });
    for (const rowsPerCall of [1, 7, 50, 1000]) {
      const { score, log } = checkedScorer(tree0, randomLogProb(5));
      const r = learnTree(tree0, data, score, { gap: 3, seed: 0, rowsPerCall });
      // at most 2 + 4 + 8 = 14 nodes a pair per step; a single level's call holds at most 8 per pair
      assert.ok(log.calls.every((c) => c.rows <= Math.max(rowsPerCall, 8)), `rowsPerCall ${rowsPerCall}`);
      assert.deepEqual(Array.from(r.tree.itemLeaf), Array.from(r0.tree.itemLeaf), 'batching does not change the result');
      assert.equal(r.scoredNodes, r0.scoredNodes);
    }
  });

  it('reports progress on one bar that ends at its total', () => {
    const items = makeItems(500, 0);
    const tree0 = buildRandomTree(items, { branching: 2, seed: 2 });
    const { logger, bars } = recordingLogger();
    const { score } = checkedScorer(tree0, randomLogProb(5));
    learnTree(tree0, uniformData(500, 1), score, { gap: 3, seed: 0, logger });
    assert.equal(bars.length, 1);
    assert.equal(bars[0].last, bars[0].total);
    assert.equal(bars[0].stopped, 1);
  });
});

describe('learnTree errors', () => {
  const items = makeItems(10, 0);
  const tree0 = buildRandomTree(items, { branching: 2, seed: 1 });
  const data = uniformData(10, 1);
  const ok = checkedScorer(tree0, randomLogProb(1)).score;

  it('rejects bad options and data with UsageError', () => {
    for (const gap of [0, -1, 1.5, NaN]) assert.throws(() => learnTree(tree0, data, ok, { gap, seed: 0 }), UsageError, `gap ${gap}`);
    assert.throws(() => learnTree(tree0, data, ok, { seed: 0, maxPairsPerItem: -1 }), UsageError);
    assert.throws(() => learnTree(tree0, data, ok, { seed: 0.5 }), UsageError);
    assert.throws(() => learnTree(tree0, data, ok, { seed: 0, rowsPerCall: 0 }), UsageError);
    assert.throws(() => learnTree(tree0, { numPairs: 2, target: Int32Array.of(0, 10) }, ok, { seed: 0 }), /pair 1 has target item 10/);
    assert.throws(() => learnTree(tree0, { numPairs: 2, target: Int32Array.of(0, -1) }, ok, { seed: 0 }), UsageError);
    assert.throws(() => learnTree(tree0, { numPairs: 3, target: Int32Array.of(0, 1) }, ok, { seed: 0 }), UsageError);
  });

  it('rejects a scorer that returns the wrong count or NaN with ArborError; tolerates −Infinity', () => {
    const short: PairNodeScorer = (pairs) => new Float32Array(pairs.length - 1);
    assert.throws(() => learnTree(tree0, data, short, { seed: 0 }), (e) => e instanceof ArborError && !(e instanceof UsageError));
    const nan: PairNodeScorer = (pairs) => new Float32Array(pairs.length).fill(NaN);
    assert.throws(() => learnTree(tree0, data, nan, { seed: 0 }), /NaN/);
    const inf = checkedScorer(tree0, (pair, node) => (node % 2 === 0 ? -Infinity : -1));
    const r = learnTree(tree0, data, inf.score, { seed: 0 });
    assertTreeInvariants(r.tree);
  });
});
