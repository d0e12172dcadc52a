/**
 * How each scorer kind trains on the calling thread: the pooling kind runs
 * the batch producer of the objective through the StepEngine (the code a
 * data-parallel worker runs for its shard), the attention kind its own
 * differentiable step (attention-step.ts). The training loop asks here and
 * never branches on the kind.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../core/errors.js';
import type { ScorerKindName } from '../scorer/config.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import { AttentionStepper } from './attention-step.js';
import { profileOf, type StepProfile, type TrainOptions } from './epoch-loop.js';
import { makeProducer, producerContext, type ProducerName } from './producer.js';
import { denseAdamState, restoreDenseAdam, type DenseAdamState } from './adam-state.js';
import { FlatAdam } from './flat-adam.js';
import { flatSize } from './reduce.js';
import { RowGradients, rowCapacity } from './row-gradients.js';
import type { SampleSet } from './samples.js';
import { StepEngine } from './step-engine.js';
import type { EmbeddingUpdater } from './updater.js';

/** What a kind's step is built from. */
export interface StepContext {
  tree: Tree;
  network: ScorerNetwork;
  samples: SampleSet;
  /** Negatives per level 1..depth. */
  negatives: number[];
  options: TrainOptions;
  /** The MLP optimiser's state to continue from (a resumed run). */
  mlpAdam?: DenseAdamState;
  embedding: EmbeddingUpdater;
}

/** One kind's training step on the calling thread. */
export interface KindStep {
  /** (user, node) pairs a sample brings (for pairs/s). */
  readonly pairsPerSample: number;
  startEpoch(): void;
  endEpoch(): void;
  /** Trains on `batch` (sample indices at positions first.. of epoch `epoch`'s order); returns the mean loss. */
  step(batch: Int32Array, epoch: number, first: number): number;
  /** Seconds per phase, when the step measures them. */
  profile(): StepProfile[] | undefined;
  /** The MLP optimiser's state (for a checkpoint). */
  mlpAdamState(): DenseAdamState;
  /** Frees what the step holds in tfjs. */
  dispose(): void;
}

/** The pooling kind: the objective's producer through the StepEngine with one shard. */
function poolingStep(c: StepContext): KindStep {
  const { tree, network, samples, negatives, options: o } = c;
  const b = o.batchSize;
  const producer = makeProducer(o.objective as ProducerName, producerContext(tree, network, samples, negatives, o));
  const rowGrad = RowGradients.local(rowCapacity(producer.capacity(b), network.numRows), network.config.embDim, network.numRows);
  const size = flatSize(network.variables());
  const mlpAdam = new FlatAdam(size, o.lr);
  if (c.mlpAdam) mlpAdam.restore(c.mlpAdam);
  const engine = new StepEngine({ tree, network, producer, shardCapacity: b, mlpAdam, mlpWeights: new Float32Array(size), embedding: c.embedding, mlpGrad: new Float32Array(size), rowGrad });
  return {
    pairsPerSample: producer.pairsPerSample,
    startEpoch: () => engine.startEpoch(),
    endEpoch: () => engine.endEpoch(),
    step: (batch, epoch, first) => engine.runAlone(batch, epoch, first),
    profile: () => [profileOf(engine.timing)],
    mlpAdamState: () => engine.mlpAdamState(),
    dispose: () => {},
  };
}

/** The attention kind: its own step, on TDM's level-wise samples (without sample weights). */
function attentionStep(c: StepContext): KindStep {
  if (c.samples.weight) throw new UsageError('behaviour weights apply to the pooling scorer: the attention scorer trains without sample weights (leave --behavior-weights out, or give every type the same weight)');
  const stepper = new AttentionStepper(c.tree, c.network, c.samples, c.negatives, c.options.seed, c.options.batchSize);
  const optimizer = tf.train.adam(c.options.lr);
  if (c.mlpAdam) restoreDenseAdam(optimizer, c.mlpAdam);
  return {
    pairsPerSample: c.negatives.reduce((s, x) => s + x + 1, 0),
    startEpoch: () => {},
    endEpoch: () => {},
    step: (batch, epoch, first) => stepper.step(batch, optimizer, c.embedding, { epoch, first }),
    profile: () => undefined,
    mlpAdamState: () => denseAdamState(optimizer),
    dispose: () => optimizer.dispose(),
  };
}

const KIND_STEPS: Record<ScorerKindName, (c: StepContext) => KindStep> = { pooling: poolingStep, attention: attentionStep };

/** The training step of the network's kind. */
export function kindStep(c: StepContext): KindStep {
  return KIND_STEPS[c.network.config.kind](c);
}
