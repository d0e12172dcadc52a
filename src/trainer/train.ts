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
 * Each scorer kind trains with its own step (kind-steps.ts); the attention
 * scorer's trains here only.
 */
import { UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { TRAIN_DEFAULTS } from './defaults.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import { EpochLoop, type TrainData, type TrainOptions, type TrainSummary } from './epoch-loop.js';
import type { EmbeddingUpdater } from './item-features.js';
import { negativesPerLevel } from './negatives.js';
import { OBJECTIVES, type ProducerName } from './producer.js';
import { slidingWindowSamples } from './samples.js';
import { isPathWeight } from '../beam/retriever.js';
import { SparseAdam } from './sparse-adam.js';
import { kindStep } from './kind-steps.js';
import { epochOrder } from './streams.js';
import { EpochProgress } from './progress.js';
import { checkpointDue, liveWeights, type Checkpoints, type TrainState } from './train-state.js';

export { producerContext } from './producer.js';
export { validationRecall, choosePathWeight, PATH_WEIGHT_GRID, type PathWeightChoice, type PathWeightTrial } from './path-weight.js';
export { type EpochReport, type StepProfile, type TrainData, type TrainOptions, type TrainSummary } from './epoch-loop.js';
export { type Checkpoints, type LoopState, type TrainState } from './train-state.js';

/** Defaults chosen from measurements on the synthetic and the shared data sets (see docs/BENCHMARKS.md). */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { ...TRAIN_DEFAULTS };

/** Most worker threads a training run may ask for. */
export const MAX_WORKERS = 1024;

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
  const resume = checkpoints?.resume;
  if (resume) network.restore(resume.weights);
  data.features?.rebase(network.emb);
  const d = network.config.embDim;
  const embAdam: EmbeddingUpdater = data.features ? data.features.updater(network.emb, o.lr) : new SparseAdam(network.emb, d, o.lr);
  if (resume) embAdam.loadState(resume.embedding);
  const b = o.batchSize;
  const kind = kindStep({ tree, network, samples, negatives: negs, options: o, ...(resume ? { mlpAdam: resume.mlpAdam } : {}), embedding: embAdam });
  const loop = new EpochLoop(tree, network, data, o, logger, resume?.loop);
  const m = kind.pairsPerSample;
  const state = (at: Pick<TrainState, 'epoch' | 'step' | 'stepsDone' | 'lossSum' | 'epochSeconds' | 'finished'>): TrainState => ({
    ...at,
    weights: liveWeights(network),
    mlpAdam: kind.mlpAdamState(),
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
    kind.startEpoch();
    for (let step = from; step < steps; step++) {
      const first = step * b;
      const batch = order.subarray(first, Math.min(order.length, first + b));
      const loss = kind.step(batch, epoch, first);
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
    kind.endEpoch();
    bar.stop();
    lap();
    const stop = loop.end({ epoch, loss: lossSum / order.length, samples: order.length, seconds });
    checkpoints?.save(state({ epoch: epoch + 1, step: 0, stepsDone, lossSum: 0, epochSeconds: 0, finished: stop || epoch === o.epochs }));
    if (stop) break;
  }
  kind.dispose();
  return loop.finish({ total, pairsPerSample: m, negativesPerLevel: negs, ...(kind.profile() ? { profile: kind.profile() } : {}) });
}
