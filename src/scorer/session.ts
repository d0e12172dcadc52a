/**
 * The tfjs scorer behind the NodeScorer interface: per query, the user's
 * windows and the user half of the first layer are computed once (one row
 * per tree level with the hierarchical user preference); each `score` call
 * then runs only the node half and the rest of the MLP, batched over all
 * given nodes. `openBatch` does the same for several users at once, so a
 * batch of queries costs one tfjs call per tree level; a single query is a
 * batch of one, so both give identical scores.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import type { ScorerNetwork } from './network.js';
import type { BatchNodeScorer, BatchScoringSession, ScoringSession } from './types.js';
import { attentionBatchSession } from './attention-session.js';

/** Scores tree nodes with a trained network. */
export class NetworkScorer implements BatchNodeScorer {
  readonly network: ScorerNetwork;
  readonly tree: Tree;
  private rows = new Int32Array(0);
  private feats = new Float32Array(0);
  private zeros = new Int32Array(0);

  constructor(network: ScorerNetwork, tree: Tree) {
    if (network.numInternal !== tree.layout.numInternal || network.numItems !== tree.numItems) {
      throw new Error(
        `scorer shape (${network.numInternal} nodes, ${network.numItems} items) does not match the tree (${tree.layout.numInternal} nodes, ${tree.numItems} items)`,
      );
    }
    this.network = network;
    this.tree = tree;
  }

  /** The path weight chosen for this network on validation users (absent: the path rule). */
  get pathWeight(): number | undefined {
    return this.network.config.pathWeight;
  }

  open(history: Int32Array): ScoringSession {
    const batch = this.openBatch([history]);
    return {
      score: (nodes: Int32Array, level: number) => {
        if (this.zeros.length < nodes.length) this.zeros = new Int32Array(nodes.length);
        return batch.score(this.zeros.subarray(0, nodes.length), nodes, level);
      },
      close: () => batch.close(),
    };
  }

  openBatch(histories: Int32Array[]): BatchScoringSession {
    const net = this.network;
    const n = net.numItems;
    for (const history of histories) {
      for (const it of history) {
        if (!(it >= 0 && it < n)) throw new UsageError(`history item index ${it} is outside the catalogue (0..${n - 1})`);
      }
    }
    // the multi-interest scorer has its own sessions (attention-session.ts)
    if (net.config.kind === 'attention') return attentionBatchSession(net, this.tree, histories);
    const b = histories.length;
    const ud = net.userDim;
    if (!net.config.hierarchical) {
      const u = new Float32Array(b * ud);
      histories.forEach((h, i) => net.userVector(h, u, i * ud));
      const hidden = b === 0 ? new Float32Array(0) : net.userHiddenRows(u, b);
      return { score: (users, nodes) => this.scoreWith(hidden, b, users, nodes), close: () => {} };
    }
    // hierarchical user preference: one user vector per (user, level), all in one batched call;
    // rows are level-major so that a level's rows form one contiguous [b, h1] block
    const depth = this.tree.layout.depth;
    const u = new Float32Array(depth * b * ud);
    for (let l = 1; l <= depth; l++) {
      const rows = this.tree.levelRows(l);
      histories.forEach((h, i) => net.userVector(h, u, ((l - 1) * b + i) * ud, rows));
    }
    const hidden = b === 0 ? new Float32Array(0) : net.userHiddenRows(u, depth * b);
    const block = hidden.length / depth;
    return {
      score: (users, nodes, level) => this.scoreWith(hidden.subarray((level - 1) * block, level * block), b, users, nodes),
      close: () => {},
    };
  }

  private scoreWith(hidden: Float32Array, numUsers: number, users: Int32Array, nodes: Int32Array): Float32Array {
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
    return this.network.scoreUsers(hidden, numUsers, users, feats, n);
  }
}
