/**
 * Resumable training: everything a run carries from one step to the next,
 * as the trainers hand it to a checkpoint sink and take it back on resume.
 * A resumed run ends with exactly the weights of an uninterrupted one (same
 * seed, same worker count) because nothing else carries over: every random
 * draw comes from a generator derived from the seed, the epoch and the
 * sample's position (streams.ts), so the epoch and step say where every
 * producer's and worker's random streams stand, and the validation subset is
 * drawn from the seed alone.
 */
import type { NamedArrays, ScorerNetwork } from '../scorer/network.js';
import type { DenseAdamState } from './adam-state.js';
import type { EpochReport } from './epoch-report.js';
import type { UpdaterState } from './updater.js';

/** The epoch loop's record: the reports so far and the kept-best-epoch state. */
export interface LoopState {
  epochs: EpochReport[];
  /** The best epoch so far: its validation recall, weights (embedding included) and chosen path weight. */
  best?: { recall: number; epoch: number; weights: NamedArrays; pathWeight: number };
  /** Epochs since the best one (early stopping). */
  stale: number;
  /** Training seconds and samples over the finished epochs (for the summary's rates). */
  trainSeconds: number;
  samplesSeen: number;
  /** Wall-clock seconds of the run before this process took over. */
  elapsed: number;
}

/** A training run at a step boundary. */
export interface TrainState {
  /** The epoch being run (1-based) and its next step; after epoch e ended, epoch e + 1 and step 0. */
  epoch: number;
  step: number;
  /** Steps done since the run started (what the optimisers have applied). */
  stepsDone: number;
  /** Loss summed over the epoch's samples so far (each step's mean loss times its samples), and the epoch's training seconds so far. */
  lossSum: number;
  epochSeconds: number;
  /** True once the run has stopped (its last epoch, or early stopping): only keeping the best epoch's weights remains. */
  finished: boolean;
  /** The current weights: the embedding table and every tfjs variable (see ScorerNetwork.toArrays). */
  weights: NamedArrays;
  /** The MLP's Adam optimiser. */
  mlpAdam: DenseAdamState;
  /** The embedding table's sparse Adam (and the item feature parameters with theirs, when used). */
  embedding: UpdaterState;
  loop: LoopState;
}

/** Where a trainer writes checkpoints, and the state it resumes from. */
export interface Checkpoints {
  /** Steps between checkpoints, counted from the start of the run (0: at epoch ends only). Every epoch end gets one. */
  every: number;
  /** The state to continue from (a resumed run). */
  resume?: TrainState;
  /** Writes a state (arrays may be live views of the trainer's memory: write them before returning). */
  save(state: TrainState): void;
}

/** True when a checkpoint falls after the run's `stepsDone`-th step in the middle of an epoch (epoch ends always get one). */
export function checkpointDue(c: Checkpoints | undefined, stepsDone: number, lastOfEpoch: boolean): boolean {
  return c !== undefined && c.every > 0 && !lastOfEpoch && stepsDone % c.every === 0;
}

/** The network's weights as a checkpoint holds them: the table as a live view (no copy), the tfjs variables read out. */
export function liveWeights(network: ScorerNetwork, table: Float32Array = network.emb): NamedArrays {
  const out: NamedArrays = new Map();
  out.set('embedding', { shape: [network.numRows, network.config.embDim], data: table });
  for (const [name, a] of network.variableArrays()) out.set(name, a);
  return out;
}
