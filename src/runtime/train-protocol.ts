/**
 * What the data-parallel trainer (train-pool.ts) shares with its workers
 * (train-worker.ts): the shared memory, the start-up data and the messages.
 * Not part of the public API.
 */
import type { NamedArrays } from '../scorer/network.js';
import type { BackendChoice } from '../scorer/backend.js';
import type { DenseAdamState } from '../trainer/adam-state.js';
import type { ScorerConfig } from '../scorer/config.js';
import type { ProducerName } from '../trainer/producer.js';
import type { StepTiming } from '../trainer/shard-step.js';

/** Memory every worker sees (each a SharedArrayBuffer-backed array or buffer). */
export interface SharedMemory {
  /** The embedding table, [rows, embDim]: read by every step, each row written once per step by its owner. */
  table: Float32Array;
  /** Sparse Adam moments of the table, same length. */
  adamM: Float32Array;
  adamV: Float32Array;
  /** Training sequences, concatenated, and where each starts (length users + 1). */
  events: Int32Array;
  starts: Int32Array;
  /** The samples (sequence index and target position, see SampleSet). */
  seq: Int32Array;
  pos: Int32Array;
  /** Sample weights (SampleSet.weight); empty when the samples carry none. */
  weight: Float32Array;
  /** The current epoch's sample order (first `count` entries used). */
  order: Int32Array;
  /** Flat MLP gradient of each shard, [workers, mlpSize]. */
  mlpGrads: Float32Array;
  /** The MLP's weights as one flat vector, and their Adam moments: each worker updates its slice, every worker loads all of it after the step's barrier. */
  mlpWeights: Float32Array;
  mlpM: Float32Array;
  mlpV: Float32Array;
  /** One RowGradients buffer per shard. */
  rowGrads: SharedArrayBuffer[];
  /** Per shard: summed loss and pairs of the current step. */
  stats: Float64Array;
  /** Barrier cells (see barrier.ts). */
  barrier: Int32Array;
  /** [epoch being run, workers finished with it]. */
  control: Int32Array;
}

/** Index of the epoch cell and of the finished-workers cell in `control`. */
export const EPOCH = 0;
export const FINISHED = 1;

/** Start-up data of worker `index`. */
export interface WorkerInit {
  index: number;
  workers: number;
  /** Backend choice for this worker's tfjs (the one the calling thread runs). */
  backend: BackendChoice;
  config: ScorerConfig;
  numInternal: number;
  numItems: number;
  /** The tree, as encodeTree writes it. */
  tree: Uint8Array;
  /** Initial MLP weights (no embedding: that is `shared.table`). */
  mlp: NamedArrays;
  producer: ProducerName;
  /** Nodes the training beam keeps per level (beam-aware producers). */
  trainBeam: number;
  /** Path weight of the training beam. */
  pathWeight: number;
  negatives: number[];
  seed: number;
  lr: number;
  batchSize: number;
  /** Rows a RowGradients buffer holds. */
  rowCapacity: number;
  mlpSize: number;
  shared: SharedMemory;
  /** A resumed run: the MLP optimiser's state and the table optimiser's step count (its moments are in `shared`). */
  resume?: { mlpAdam: DenseAdamState; embStep: number };
}

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
}

/** Main thread → worker. */
export type ToTrainWorker = { type: 'epoch'; epoch: number; count: number; steps: StepRange } | { type: 'close' };

/** Steps from..to-1 of an epoch, `loss` the epoch's summed loss before them; `snapshot` asks worker 0 for its optimiser state afterwards (a checkpoint). */
export interface StepRange {
  from: number;
  to: number;
  loss: number;
  snapshot: boolean;
}

/** Worker → main thread. */
export type FromTrainWorker =
  | { type: 'ready'; index: number; backend: string }
  | { type: 'progress'; done: number; loss: number }
  | { type: 'epoch-done'; index: number; loss: number; timing: StepTiming; weights?: NamedArrays; mlpAdam?: DenseAdamState }
  | { type: 'failed'; index: number; error: WireError; aborted: boolean };
