/**
 * Hand-made NodeScorers for search tests. `HeapScorer` gives every (user,
 * item) a distinct seeded value and every internal node the max of the
 * values below it (the max-heap property under which TDM's beam search is
 * exact). `IndependentScorer` gives every node its own random value, so beam
 * search has no guarantee. Both check the ScoringSession contract (nodes on
 * the stated level, never an empty node, no use after close) and count pairs.
 */
import { Rng } from '../../src/core/rng.js';
import type { NodeScorer, ScoringSession } from '../../src/scorer/types.js';
import type { Tree } from '../../src/tree/tree.js';

/** A 32-bit hash of a history, so each user gets an own stream. */
export function historyKey(history: Int32Array): number {
  let h = 0x811c9dc5;
  for (const x of history) h = Math.imul(h ^ x, 0x01000193) >>> 0;
  return Math.imul(h ^ history.length, 0x01000193) >>> 0;
}

/** Base: contract checks and pair counting over a per-user table of node values. */
abstract class TableScorer implements NodeScorer {
  /** Pairs scored over all sessions. */
  pairs = 0;
  opened = 0;
  closed = 0;
  constructor(
    readonly tree: Tree,
    readonly seed: number,
  ) {}

  /** Value of every node code for this user (-Infinity for empty nodes). */
  abstract nodeValues(history: Int32Array): Float32Array;

  /** Each item's value for this user (its leaf's value). */
  itemValues(history: Int32Array): Float32Array {
    const v = this.nodeValues(history);
    return Float32Array.from({ length: this.tree.numItems }, (_, i) => v[this.tree.leafCodeOf(i)]);
  }

  open(history: Int32Array): ScoringSession {
    const values = this.nodeValues(history);
    const { layout, subtreeSize } = this.tree;
    let open = true;
    this.opened++;
    return {
      score: (nodes: Int32Array, level: number): Float32Array => {
        if (!open) throw new Error('score() after close()');
        const out = new Float32Array(nodes.length);
        for (let i = 0; i < nodes.length; i++) {
          const c = nodes[i];
          if (!(c >= 0 && c < layout.numNodes)) throw new Error(`node ${c} is not a code of this tree`);
          if (layout.level(c) !== level) throw new Error(`node ${c} is on level ${layout.level(c)}, not ${level}`);
          if (subtreeSize[c] === 0) throw new Error(`empty node ${c} was scored`);
          out[i] = values[c];
        }
        this.pairs += nodes.length;
        return out;
      },
      close: () => {
        if (!open) throw new Error('session closed twice');
        open = false;
        this.closed++;
      },
    };
  }
}

/**
 * Leaf values are a seeded permutation of 0..n-1 (mapped into [-4, 4)), so
 * no two items tie; an internal node scores the max of its subtree.
 */
export class HeapScorer extends TableScorer {
  nodeValues(history: Int32Array): Float32Array {
    const { layout, subtreeSize } = this.tree;
    const n = this.tree.numItems;
    const rng = new Rng((this.seed ^ historyKey(history)) >>> 0);
    const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    const v = new Float32Array(layout.numNodes).fill(-Infinity);
    for (let i = 0; i < n; i++) v[this.tree.leafCodeOf(i)] = ((perm[i] - n / 2) * 8) / n;
    for (let c = layout.numInternal - 1; c >= 0; c--) {
      if (subtreeSize[c] === 0) continue;
      let m = -Infinity;
      const fc = layout.firstChild(c);
      for (let j = 0; j < layout.branching; j++) m = Math.max(m, v[fc + j]);
      v[c] = m;
    }
    return v;
  }
}

/** Every non-empty node gets an independent random value: no heap property. */
export class IndependentScorer extends TableScorer {
  nodeValues(history: Int32Array): Float32Array {
    const { layout, subtreeSize } = this.tree;
    const rng = new Rng((this.seed ^ historyKey(history)) >>> 0);
    const v = new Float32Array(layout.numNodes).fill(-Infinity);
    for (let c = 0; c < layout.numNodes; c++) if (subtreeSize[c] > 0) v[c] = rng.next() * 8 - 4;
    return v;
  }
}

/** A scorer given by a fixed table of node values (the same for every user). */
export class FixedScorer extends TableScorer {
  constructor(
    tree: Tree,
    private readonly values: Float32Array,
  ) {
    super(tree, 0);
  }
  nodeValues(): Float32Array {
    return this.values;
  }
}

/**
 * The path rule's analogue of HeapScorer: every item gets a distinct
 * log-probability-like value K (a seeded permutation mapped into (-8, 0)), an
 * internal node K = the max of its subtree, and every node the score whose
 * log σ is K(node) − K(parent) (≤ 0; +∞ where they are equal). A node's path
 * key (the sum of log σ from the root) is then K(node) − K(root), the best
 * key below it, so beam search under the path rule is exact for any beam >= k.
 */
export class PathHeapScorer extends TableScorer {
  /** Each item's K for this user (its path key plus K(root)). */
  itemKeys(history: Int32Array): Float64Array {
    const k = this.keys(history);
    return Float64Array.from({ length: this.tree.numItems }, (_, i) => k[this.tree.leafCodeOf(i)]);
  }

  private keys(history: Int32Array): Float64Array {
    const { layout, subtreeSize } = this.tree;
    const n = this.tree.numItems;
    const rng = new Rng((this.seed ^ historyKey(history)) >>> 0);
    const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
    const key = new Float64Array(layout.numNodes).fill(-Infinity);
    for (let i = 0; i < n; i++) key[this.tree.leafCodeOf(i)] = -((perm[i] + 1) * 8) / (n + 1);
    for (let c = layout.numInternal - 1; c >= 0; c--) {
      if (subtreeSize[c] === 0) continue;
      let m = -Infinity;
      const fc = layout.firstChild(c);
      for (let j = 0; j < layout.branching; j++) m = Math.max(m, key[fc + j]);
      key[c] = m;
    }
    return key;
  }

  nodeValues(history: Int32Array): Float32Array {
    const { layout, subtreeSize } = this.tree;
    const key = this.keys(history);
    const v = new Float32Array(layout.numNodes).fill(-Infinity);
    v[0] = Infinity;
    for (let c = 1; c < layout.numNodes; c++) {
      if (subtreeSize[c] === 0) continue;
      const d = key[c] - key[layout.parent(c)]; // log σ(v) = d  ⇔  v = d − log(1 − e^d)
      v[c] = d === 0 ? Infinity : d - Math.log(-Math.expm1(d));
    }
    return v;
  }
}
