/**
 * The tfjs scorer behind the NodeScorer interface, for every scorer kind:
 * it checks the histories and opens the sessions of the network's kind
 * (pooling-kind.ts, attention-kind.ts). A single query is a batch of one,
 * so both give identical scores.
 */
import { UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';
import type { ScorerNetwork } from './network.js';
import type { BatchNodeScorer, BatchScoringSession, ScoringSession } from './types.js';
import type { SessionOpener } from './kind.js';
import { scorerKind } from './kinds.js';

/** Scores tree nodes with a trained network. */
export class NetworkScorer implements BatchNodeScorer {
  readonly network: ScorerNetwork;
  readonly tree: Tree;
  private readonly sessions: SessionOpener;
  private zeros = new Int32Array(0);

  constructor(network: ScorerNetwork, tree: Tree) {
    if (network.numInternal !== tree.layout.numInternal || network.numItems !== tree.numItems) {
      throw new Error(
        `scorer shape (${network.numInternal} nodes, ${network.numItems} items) does not match the tree (${tree.layout.numInternal} nodes, ${tree.numItems} items)`,
      );
    }
    this.network = network;
    this.tree = tree;
    this.sessions = scorerKind(network.config.kind).sessions(network, tree);
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
    return this.sessions.openBatch(histories);
  }
}
