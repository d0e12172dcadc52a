/**
 * The training loop in the calling thread: level-wise samples (or another
 * batch producer, see producer.ts), sigmoid cross-entropy, Adam (tfjs for
 * the MLP, sparse lazy Adam for the embedding table), seeded, with optional
 * early stopping on validation users' recall under beam search.
 *
 * Each step runs the StepEngine with a single shard, which is the same code
 * a data-parallel worker runs for its shard (src/runtime/train-pool.ts), so
 * one worker thread gives exactly these weights. Random draws come from
 * streams derived from the seed and the sample's position (streams.ts).
 * The attention scorer has its own step (attention-step.ts) and trains here
 * only.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import { AttentionStepper } from './attention-step.js';
import { EpochLoop, profileOf, type TrainData, type TrainOptions, type TrainSummary } from './epoch-loop.js';
import type { EmbeddingUpdater } from './item-features.js';
import { negativesPerLevel } from './negatives.js';
import { OBJECTIVES, makeProducer, type ProducerName } from './producer.js';
import { flatSize } from './reduce.js';
import { RowGradients, rowCapacity } from './row-gradients.js';
import { slidingWindowSamples, type SampleSet } from './samples.js';
import type { BatchProducer, ProducerContext } from './producer.js';
import { PATH_RULE, isPathWeight } from '../beam/retriever.js';
import { SparseAdam } from './sparse-adam.js';
import { StepEngine } from './step-engine.js';
import { epochOrder } from './streams.js';
import { denseAdamState, restoreDenseAdam } from './adam-state.js';
import { EpochProgress } from './progress.js';
import { checkpointDue, liveWeights, type Checkpoints, type TrainState } from './train-state.js';

export { validationRecall, choosePathWeight, PATH_WEIGHT_GRID, type PathWeightChoice, type PathWeightTrial } from './path-weight.js';
export { type EpochReport, type StepProfile, type TrainData, type TrainOptions, type TrainSummary } from './epoch-loop.js';
export { type Checkpoints, type LoopState, type TrainState } from './train-state.js';

/** Defaults chosen from measurements on the synthetic and the shared data sets (see docs/BENCHMARKS.md). */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { ...TRAIN_DEFAULTS };

/** Most worker threads a training run may ask for. */
export const MAX_WORKERS = 1024;

/** What a batch producer is built from, for a run with options `o` (plain data: a worker rebuilds it). */
export function producerContext(tree: Tree, network: ScorerNetwork, samples: SampleSet, negatives: number[], o: TrainOptions): ProducerContext {
  return { tree, network, samples, negatives, seed: o.seed, trainBeam: o.trainBeam, pathWeight: o.pathWeight ?? PATH_RULE };
}

/** Validates training options, naming the bad one. */
export function validateTrainOptions(o: TrainOptions): void {
  assertPositiveInteger('epochs', o.epochs);
  assertPositiveInteger('batch-size', o.batchSize);
  assertPositiveInteger('patience', o.patience);
  assertPositiveInteger('valid-k', o.validK);
  if (!(o.lr > 0 && o.lr < 1)) throw new UsageError(`lr must be a number in (0, 1), got ${JSON.stringify(o.lr)}`);
  if (!Number.isInteger(o.maxSamplesPerEpoch) || o.maxSamplesPerEpoch < 0) {
    throw new UsageError(`max-samples must be a non-negative integer, got ${o.maxSamplesPerEpoch}`);
  }
  if (!OBJECTIVES.includes(o.objective as ProducerName)) throw new UsageError(`objective must be one of ${OBJECTIVES.join(', ')}, got ${JSON.stringify(o.objective)}`);
  assertPositiveInteger('train-beam', o.trainBeam);
  if (o.pathWeight !== undefined && !isPathWeight(o.pathWeight)) throw new UsageError(`path weight must be a number in [0, 1], got ${JSON.stringify(o.pathWeight)}`);
  if (o.workers !== undefined) {
    assertNonNegativeInteger('workers', o.workers);
    if (o.workers > MAX_WORKERS) throw new UsageError(`workers must be at most ${MAX_WORKERS}, got ${o.workers}`);
  }
}

/**
 * Trains `network` for `tree` in place, in the calling thread; returns the
 * summary (its options record workers 0). The weights left are the best
 * epoch's. `trainParallel` (src/runtime) spreads the same steps over threads.
 * With `checkpoints`, the run's state goes to `checkpoints.save` at every
 * epoch end and every `checkpoints.every` steps, and a run given
 * `checkpoints.resume` continues from that state (see train-state.ts).
 */
export function trainScorer(tree: Tree, network: ScorerNetwork, data: TrainData, options: Partial<TrainOptions> = {}, logger: Logger = silentLogger, checkpoints?: Checkpoints): TrainSummary {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options, workers: 0 };
  validateTrainOptions(o);
  const samples = slidingWindowSamples(data.sequences, data.targetWeights);
  const total = samples.seq.length;
  if (total === 0) throw new UsageError('no training samples: the training users need at least two behaviours each');
  const negs = negativesPerLevel(tree, o.negatives);
  const optimizer = tf.train.adam(o.lr);
  const resume = checkpoints?.resume;
  if (resume) network.restore(resume.weights);
  data.features?.rebase(network.emb);
  const d = network.config.embDim;
  const embAdam: EmbeddingUpdater = data.features ? data.features.updater(network.emb, o.lr) : new SparseAdam(network.emb, d, o.lr);
  if (resume) {
    restoreDenseAdam(optimizer, resume.mlpAdam);
    embAdam.loadState(resume.embedding);
  }
  const b = o.batchSize;
  if (network.attention && samples.weight) throw new UsageError('behaviour weights apply to the pooling scorer: the attention scorer trains without sample weights (leave --behavior-weights out, or give every type the same weight)');
  const attStep = network.attention ? new AttentionStepper(tree, network, samples, negs, o.seed, b) : undefined;
  let engine: StepEngine | undefined;
  let producer: BatchProducer | undefined;
  if (!attStep) {
    producer = makeProducer(o.objective as ProducerName, producerContext(tree, network, samples, negs, o));
    const rowGrad = RowGradients.local(rowCapacity(producer.capacity(b), network.numRows), d, network.numRows);
    engine = new StepEngine({ tree, network, producer, shardCapacity: b, optimizer, embedding: embAdam, mlpGrad: new Float32Array(flatSize(network.variables())), rowGrad });
  }
  const loop = new EpochLoop(tree, network, data, o, logger, resume?.loop);
  const m = producer ? producer.pairsPerSample : negs.reduce((s, x) => s + x + 1, 0);
  const state = (at: Pick<TrainState, 'epoch' | 'step' | 'stepsDone' | 'lossSum' | 'epochSeconds' | 'finished'>): TrainState => ({
    ...at,
    weights: liveWeights(network),
    mlpAdam: denseAdamState(optimizer),
    embedding: embAdam.saveState(),
    loop: loop.state(),
  });
  let stepsDone = resume?.stepsDone ?? 0;
  const firstEpoch = resume ? resume.epoch : 1;
  for (let epoch = firstEpoch; epoch <= o.epochs && !resume?.finished; epoch++) {
    const order = epochOrder(o.seed, epoch, total, o.maxSamplesPerEpoch);
    const steps = Math.ceil(order.length / b);
    const from = resume && epoch === resume.epoch ? resume.step : 0;
    let lossSum = from > 0 ? resume!.lossSum : 0;
    let seconds = from > 0 ? resume!.epochSeconds : 0;
    const bar = new EpochProgress(logger.progress(`epoch ${epoch}/${o.epochs}`, order.length), epoch, o.epochs, order.length, Math.min(order.length, from * b));
    let t0 = process.hrtime.bigint();
    const lap = () => {
      const t = process.hrtime.bigint();
      seconds += Number(t - t0) / 1e9;
      t0 = t;
    };
    engine?.startEpoch();
    for (let step = from; step < steps; step++) {
      const first = step * b;
      const batch = order.subarray(first, Math.min(order.length, first + b));
      const loss = attStep ? attStep.step(batch, optimizer, embAdam, { epoch, first }) : engine!.runAlone(batch, epoch, first);
      lossSum += loss * batch.length;
      stepsDone++;
      const done = first + batch.length;
      bar.update(done, lossSum / done);
      if (checkpointDue(checkpoints, stepsDone, step === steps - 1)) {
        lap();
        checkpoints!.save(state({ epoch, step: step + 1, stepsDone, lossSum, epochSeconds: seconds, finished: false }));
        t0 = process.hrtime.bigint();
      }
    }
    engine?.endEpoch();
    bar.stop();
    lap();
    const stop = loop.end({ epoch, loss: lossSum / order.length, samples: order.length, seconds });
    checkpoints?.save(state({ epoch: epoch + 1, step: 0, stepsDone, lossSum: 0, epochSeconds: 0, finished: stop || epoch === o.epochs }));
    if (stop) break;
  }
  optimizer.dispose();
  return loop.finish({ total, pairsPerSample: m, negativesPerLevel: negs, ...(engine ? { profile: [profileOf(engine.timing)] } : {}) });
}
