/**
 * The tfjs scorer behind the NodeScorer interface: per query, the user's
 * windows and the user half of the first layer are computed once; each
 * `score` call then runs only the node half and the rest of the MLP, batched
 * over all given nodes.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import type { ScorerNetwork } from './network.js';
import type { NodeScorer, ScoringSession } from './types.js';

/** Scores tree nodes with a trained network. */
export class NetworkScorer implements NodeScorer {
  readonly network: ScorerNetwork;
  readonly tree: Tree;
  private rows = new Int32Array(0);
  private feats = new Float32Array(0);

  constructor(network: ScorerNetwork, tree: Tree) {
    if (network.numInternal !== tree.layout.numInternal || network.numItems !== tree.numItems) {
      throw new Error(
        `scorer shape (${network.numInternal} nodes, ${network.numItems} items) does not match the tree (${tree.layout.numInternal} nodes, ${tree.numItems} items)`,
      );
    }
    this.network = network;
    this.tree = tree;
  }

  open(history: Int32Array): ScoringSession {
    const n = this.network.numItems;
    for (const it of history) {
      if (!(it >= 0 && it < n)) throw new UsageError(`history item index ${it} is outside the catalogue (0..${n - 1})`);
    }
    const net = this.network;
    if (!net.config.hierarchical) {
      const hidden = net.userHidden(net.userVector(history));
      return { score: (nodes: Int32Array) => this.scoreWith(hidden, nodes), close: () => {} };
    }
    // hierarchical user preference: one user vector per level, all in one batched call
    const depth = this.tree.layout.depth;
    const u = new Float32Array(depth * net.userDim);
    for (let l = 1; l <= depth; l++) net.userVector(history, u, (l - 1) * net.userDim, this.tree.levelRows(l));
    const hidden = net.userHiddenRows(u, depth);
    const h1 = hidden.length / depth;
    return {
      score: (nodes: Int32Array, level: number) => this.scoreWith(hidden.subarray((level - 1) * h1, level * h1), nodes),
      close: () => {},
    };
  }

  private scoreWith(hidden: Float32Array, nodes: Int32Array): Float32Array {
    const n = nodes.length;
    if (n === 0) return new Float32Array(0);
    const d = this.network.config.embDim;
    if (this.rows.length < n) {
      this.rows = new Int32Array(n);
      this.feats = new Float32Array(n * d);
    }
    const rows = this.rows.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const r = this.tree.nodeRow(nodes[i]);
      if (r < 0) throw new Error(`node ${nodes[i]} is an empty leaf and cannot be scored`);
      rows[i] = r;
    }
    const feats = this.network.gatherRows(rows, this.feats.subarray(0, n * d));
    return this.network.scoreNodes(hidden, feats, n);
  }
}
