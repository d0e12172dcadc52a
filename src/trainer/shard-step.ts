/**
 * The gradient half of a training step, for one shard: from a ShardBatch
 * (producer.ts) to the summed loss, the MLP gradient (one flat vector) and
 * the embedding-table gradient (RowGradients). Nothing is applied here; see
 * reduce.ts and step-engine.ts. The loss is the sum over the shard's pairs
 * of weight · sigmoid cross-entropy; the caller scales by 1 / (the step's
 * pairs over all shards), so shards of any size add up to the batch mean.
 *
 * Phases (timed when a StepTiming is given): pool (user vectors and node
 * rows gathered from the table), forward/backward (tfjs, including reading
 * the gradients out), scatter (input gradients back onto table rows).
 */
import { PoolingBackprop } from '../scorer/backprop.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { BatchCapacity, ShardBatch } from './batch-types.js';
import { flatSize } from './reduce.js';
import type { RowGradients } from './row-gradients.js';

/** Nanoseconds spent per phase of the steps a thread ran (summed over steps). */
export interface StepTiming {
  /** Batch producer: sampling pairs and the user map. */
  produce: number;
  /** User vectors and node rows gathered from the table. */
  pool: number;
  /** tfjs forward and backward, gradients read out. */
  forwardBackward: number;
  /** Input gradients scattered onto table rows. */
  scatter: number;
  /** Waiting at barriers for the other workers (data-parallel only). */
  wait: number;
  /** Summing the shards' gradients (MLP and table rows) in shard order. */
  reduce: number;
  /** Optimiser updates: tfjs Adam for the MLP, sparse Adam for the table. */
  adam: number;
  steps: number;
  /** Wall time of the epochs' steps on this thread (the phases above add up to about this). */
  wall: number;
  /** CPU time this thread used meanwhile (Linux; 0 elsewhere): cpu / wall below 1 means the thread waited for a core. */
  cpu: number;
}

/** A zeroed StepTiming. */
export function emptyTiming(): StepTiming {
  return { produce: 0, pool: 0, forwardBackward: 0, scatter: 0, wait: 0, reduce: 0, adam: 0, steps: 0, wall: 0, cpu: 0 };
}

const now = () => process.hrtime.bigint();

/** Forward/backward of one shard on this thread's backend. */
export class ShardStep {
  /** Length of the flat MLP gradient. */
  readonly mlpSize: number;
  private readonly userBuf: Float32Array;
  private readonly nodeBuf: Float32Array;
  private readonly rows: Int32Array;
  private readonly dUser: Float32Array;
  private readonly dNode: Float32Array;
  private readonly backprop: PoolingBackprop;

  constructor(
    private readonly tree: Tree,
    private readonly network: ScorerNetwork,
    capacity: BatchCapacity,
  ) {
    this.mlpSize = flatSize(network.variables());
    this.userBuf = new Float32Array(capacity.slots * network.userDim);
    this.nodeBuf = new Float32Array(capacity.pairs * network.config.embDim);
    this.rows = new Int32Array(capacity.pairs);
    this.dUser = new Float32Array(capacity.slots * network.userDim);
    this.dNode = new Float32Array(capacity.pairs * network.config.embDim);
    this.backprop = new PoolingBackprop(network);
  }

  /**
   * Runs the shard: writes the flat MLP gradient into `mlpOut`, adds the
   * table gradient to `emb` (cleared first) and returns the summed loss.
   * An empty shard gives zero gradients and loss 0.
   */
  run(batch: ShardBatch, mlpOut: Float32Array, emb: RowGradients, timing?: StepTiming): number {
    emb.clear();
    if (batch.pairs === 0) {
      mlpOut.fill(0, 0, this.mlpSize);
      return 0;
    }
    const net = this.network;
    const d = net.config.embDim;
    const userDim = net.userDim;
    const table = net.emb;
    const { slots, pairs } = batch;
    let t = timing ? now() : 0n;
    const mark = (key: keyof StepTiming) => {
      if (!timing) return;
      const t2 = now();
      timing[key] += Number(t2 - t);
      t = t2;
    };
    // user vectors from the user map, node rows from the codes
    const u = this.userBuf;
    u.fill(0, 0, slots * userDim);
    const { entryRow, entryOffset, entryScale } = batch;
    for (let e = 0; e < batch.entries; e++) {
      const r = entryRow[e] * d;
      const o = entryOffset[e];
      const s = entryScale[e];
      for (let k = 0; k < d; k++) u[o + k] += s * table[r + k];
    }
    const rows = this.rows;
    for (let p = 0; p < pairs; p++) rows[p] = this.tree.nodeRow(batch.codes[p]);
    net.gatherRows(rows.subarray(0, pairs), this.nodeBuf.subarray(0, pairs * d));
    mark('pool');
    const loss = this.backprop.run(
      { groups: batch.groups, user: u.subarray(0, slots * userDim), nodes: this.nodeBuf.subarray(0, pairs * d), labels: batch.labels, weights: batch.weights },
      { mlp: mlpOut.subarray(0, this.mlpSize), user: this.dUser, nodes: this.dNode },
    );
    mark('forwardBackward');
    // input gradients back to the table rows they came from
    const { dUser, dNode } = this;
    for (let e = 0; e < batch.entries; e++) emb.add(entryRow[e], dUser, entryOffset[e], entryScale[e]);
    for (let p = 0; p < pairs; p++) emb.add(rows[p], dNode, p * d, 1);
    mark('scatter');
    return loss;
  }
}
