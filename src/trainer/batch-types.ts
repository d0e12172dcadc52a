/**
 * The shapes a training step is made of: one shard's batch of (user, node)
 * pairs, its capacity, the producer that fills it and what a producer is
 * built from (see producer.ts for the registry of producers).
 */
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { SampleSet } from './samples.js';

/** A group of user slots that all get the same number of pairs. */
export interface PairGroup {
  users: number;
  m: number;
}

/** One shard's part of a step, as the gradient computation consumes it (buffers may be reused by the next call). */
export interface ShardBatch {
  /** User slots ([slots, userDim] user vectors). */
  slots: number;
  /** Entries of the user map: slot vectors = Σ entryScale · emb[entryRow], added at entryOffset (an offset into the [slots, userDim] buffer). */
  entries: number;
  entryRow: Int32Array;
  entryOffset: Int32Array;
  entryScale: Float32Array;
  /** Pair groups in slot order (their users sum to `slots`, their users · m to `pairs`). */
  groups: PairGroup[];
  pairs: number;
  /** Node code of each pair. */
  codes: Int32Array;
  /** Target of each pair, in [0, 1]. */
  labels: Float32Array;
  /** Weight of each pair in the loss (absent: all 1). */
  weights?: Float32Array;
}

/** Largest sizes of a ShardBatch for a number of samples (for sizing shared buffers). */
export interface BatchCapacity {
  slots: number;
  entries: number;
  pairs: number;
}

/** Makes one shard's batch at a time. */
export interface BatchProducer {
  /** Largest ShardBatch `produce` makes for `samples` samples. */
  capacity(samples: number): BatchCapacity;
  /** Fills the batch of `samples` (sample indices), which sit at positions first.. of epoch `epoch`'s order. */
  produce(samples: Int32Array, epoch: number, first: number): ShardBatch;
  /** Pairs a sample brings (for reporting pairs/s); may be an average. */
  readonly pairsPerSample: number;
}

/** What a producer is built from: all of it can be rebuilt on a worker thread. */
export interface ProducerContext {
  tree: Tree;
  /** The network whose table and MLP the producer may read (this thread's copy). */
  network: ScorerNetwork;
  samples: SampleSet;
  /** Negatives per level 1..depth (see negativesPerLevel). */
  negatives: number[];
  seed: number;
  /** Nodes the training beam keeps per level (beam-aware objectives). */
  trainBeam: number;
  /** Path weight of the training beam (beam-aware objectives; see RetrieveOptions.pathWeight). */
  pathWeight: number;
}
