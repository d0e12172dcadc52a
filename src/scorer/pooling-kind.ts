/**
 * The pooling scorer (TDM): each time window of the history is the mean of
 * its behaviours' embeddings, computed once per user, so a session runs
 * only the node half of the first layer and the rest of the MLP per node.
 */
import type { Tree } from '../tree/tree.js';
import type { ScorerKind, SessionOpener } from './kind.js';
import type { ScorerNetwork } from './network.js';
import type { BatchScoringSession } from './types.js';

/** Pooling sessions over one network and tree; the gather buffers are reused between queries. */
class PoolingSessions implements SessionOpener {
  private rows = new Int32Array(0);
  private feats = new Float32Array(0);

  constructor(
    private readonly network: ScorerNetwork,
    private readonly tree: Tree,
  ) {}

  openBatch(histories: Int32Array[]): BatchScoringSession {
    const net = this.network;
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

/** The pooling kind's strategy. */
export const POOLING_KIND: ScorerKind = {
  name: 'pooling',
  summary: 'pooling (TDM: each time window is the mean of its behaviours)',
  categoryEmbByDefault: false,
  explainUnsupported: 'the pooling scorer averages the history and has no per-item attention to show',
  sessions: (network, tree) => new PoolingSessions(network, tree),
};
