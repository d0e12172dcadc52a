/**
 * What every training loop does around its epochs, whichever thread(s)
 * compute the steps: validation recall under beam search after each epoch,
 * the best epoch's weights kept, early stopping, and the run's summary.
 */
import type { Logger } from '../core/log.js';
import { PATH_RULE } from '../beam/retriever.js';
import { choosePathWeight, validationRecall, type PathWeightTrial } from './path-weight.js';
import { Rng } from '../core/rng.js';
import type { EvalCase } from '../data/types.js';
import type { NamedArrays, ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { ItemFeatures } from './item-features.js';
import type { StepTiming } from './shard-step.js';
import type { LoopState } from './train-state.js';
import type { EpochReport } from './epoch-report.js';

/** Training knobs (all have defaults, see DEFAULT_TRAIN_OPTIONS in train.ts). */
export interface TrainOptions {
  /** Maximum passes over the samples. */
  epochs: number;
  /** Samples (target items) per step; each brings one pair per level plus its negatives. */
  batchSize: number;
  /** Adam learning rate (MLP and embeddings). */
  lr: number;
  /** Negatives per level: "auto" or a comma list (see negativesPerLevel). */
  negatives: string;
  /** What a step trains on: a batch producer's name (see PRODUCERS in producer.ts). */
  objective: string;
  /** Nodes the training beam keeps per level (beam-aware objectives only). */
  trainBeam: number;
  /**
   * Path weight the model is trained for (see RetrieveOptions.pathWeight):
   * fixed when given; absent, chosen on the validation users after every
   * epoch (path-weight.ts), or the path rule without validation users. The
   * otm and beam objectives' training beam uses it (absent: the path rule).
   */
  pathWeight?: number;
  seed: number;
  /** Epochs without validation improvement before stopping. */
  patience: number;
  /** k and beam of the validation recall. */
  validK: number;
  /** Validation users used per check (a seeded subset when there are more). */
  maxValidUsers: number;
  /** Cap on samples per epoch (0: all), a seeded subset each epoch. */
  maxSamplesPerEpoch: number;
  /**
   * Worker threads of the data-parallel trainer (trainParallel; default: the
   * number of CPU cores); 0 trains in the calling thread. The summary records
   * the number that ran (0 when the calling thread did).
   */
  workers?: number;
  /**
   * The behaviour-type weights the run's targets were weighted with (types
   * not listed: 1), as recorded in the summary; the caller turns them into
   * TrainData.targetWeights. Absent: every event weighs 1.
   */
  behaviorWeights?: Record<string, number>;
}

export type { EpochReport } from './epoch-report.js';

/** Seconds per phase of one thread's steps (see StepTiming), summed over the run. */
export type StepProfile = { [K in keyof StepTiming]: number };

/** What a training run did. */
export interface TrainSummary {
  options: TrainOptions;
  trainSequences: number;
  samplesPerEpoch: number;
  pairsPerSample: number;
  negativesPerLevel: number[];
  epochs: EpochReport[];
  /** Epoch whose weights were kept (best validation recall, else the last). */
  bestEpoch: number;
  /** The path weight the scorer keeps (that epoch's choice; fixed or 1 when none was chosen). */
  pathWeight: number;
  samplesPerSecond: number;
  pairsPerSecond: number;
  seconds: number;
  /** Where each thread's step time went (one entry per worker; one for the calling thread with workers 0). */
  profile?: StepProfile[];
}

/** Training inputs: training sequences (item indices, time order) and optional validation cases. */
export interface TrainData {
  sequences: Int32Array[];
  /**
   * Weight of every event as a training target, aligned with `sequences`
   * (e.g. by behaviour type; see slidingWindowSamples): 0 leaves the event
   * out as a target (it stays in later samples' histories). Absent: all 1.
   */
  targetWeights?: Float32Array[];
  valid?: EvalCase[];
  /** Item side features trained with the network (they keep its item rows materialised). */
  features?: ItemFeatures;
}

/** Validation, best weights and early stopping across the epochs of one run. */
export class EpochLoop {
  readonly epochs: EpochReport[] = [];
  private readonly valid: EvalCase[];
  private best: { recall: number; epoch: number; weights: NamedArrays; pathWeight: number } | undefined;
  private stale = 0;
  private trainSeconds = 0;
  private samplesSeen = 0;
  private readonly started = Date.now();
  private readonly elapsedBefore: number = 0;

  /** `resume`: the record of a run this one continues (from a checkpoint). */
  constructor(
    private readonly tree: Tree,
    private readonly network: ScorerNetwork,
    private readonly data: TrainData,
    private readonly o: TrainOptions,
    private readonly logger: Logger,
    resume?: LoopState,
  ) {
    this.valid = pickValid(data.valid ?? [], o.maxValidUsers, new Rng(o.seed ^ 0x5eed));
    if (resume) {
      this.epochs.push(...resume.epochs);
      this.best = resume.best;
      this.stale = resume.stale;
      this.trainSeconds = resume.trainSeconds;
      this.samplesSeen = resume.samplesSeen;
      this.elapsedBefore = resume.elapsed;
    }
  }

  /** The record so far, for a checkpoint (live references: write it out before the next epoch ends). */
  state(): LoopState {
    return {
      epochs: this.epochs,
      ...(this.best ? { best: this.best } : {}),
      stale: this.stale,
      trainSeconds: this.trainSeconds,
      samplesSeen: this.samplesSeen,
      elapsed: this.elapsedBefore + (Date.now() - this.started) / 1000,
    };
  }

  /** Records a finished epoch (the network holds its weights); returns true when training should stop. */
  end(report: EpochReport): boolean {
    const { o, logger } = this;
    this.trainSeconds += report.seconds;
    this.samplesSeen += report.samples;
    if (this.valid.length > 0) {
      if (o.pathWeight !== undefined) {
        report.validRecall = validationRecall(this.tree, this.network, this.valid, o.validK, o.pathWeight);
        report.pathWeight = o.pathWeight;
      } else {
        const choice = choosePathWeight(this.tree, this.network, this.valid, o.validK);
        report.validRecall = choice.recall;
        report.pathWeight = choice.pathWeight;
        report.pathWeightTrials = choice.trials;
      }
      if (!this.best || report.validRecall > this.best.recall) {
        this.best = { recall: report.validRecall, epoch: report.epoch, weights: this.network.toArrays(), pathWeight: report.pathWeight };
        this.stale = 0;
      } else {
        this.stale++;
      }
      logger.info(`epoch ${report.epoch}: loss ${report.loss.toFixed(4)}, validation recall@${o.validK} ${(report.validRecall * 100).toFixed(2)}% (path weight ${report.pathWeight})`);
    } else {
      logger.info(`epoch ${report.epoch}: loss ${report.loss.toFixed(4)}`);
    }
    this.epochs.push(report);
    if (this.stale >= o.patience) {
      logger.info(`stopping early: no validation improvement for ${o.patience} epochs`);
      return true;
    }
    return false;
  }

  /** Leaves the best epoch's weights in the network and returns the summary. */
  finish(s: { total: number; pairsPerSample: number; negativesPerLevel: number[]; profile?: StepProfile[] }): TrainSummary {
    const { o, best, epochs } = this;
    if (best && best.epoch !== epochs.length) {
      this.network.restore(best.weights);
      this.data.features?.rebase(this.network.emb);
      this.logger.info(`kept the weights of epoch ${best.epoch} (best validation recall)`);
    }
    const pathWeight = best?.pathWeight ?? o.pathWeight ?? PATH_RULE;
    this.network.setPathWeight(pathWeight);
    return {
      options: o,
      trainSequences: this.data.sequences.length,
      samplesPerEpoch: Math.min(s.total, o.maxSamplesPerEpoch || s.total),
      pairsPerSample: s.pairsPerSample,
      negativesPerLevel: s.negativesPerLevel,
      epochs,
      bestEpoch: best?.epoch ?? epochs.length,
      pathWeight,
      samplesPerSecond: this.samplesSeen / this.trainSeconds,
      pairsPerSecond: (this.samplesSeen * s.pairsPerSample) / this.trainSeconds,
      seconds: this.elapsedBefore + (Date.now() - this.started) / 1000,
      ...(s.profile ? { profile: s.profile } : {}),
    };
  }
}

/** A StepTiming in seconds (steps kept as a count). */
export function profileOf(t: StepTiming): StepProfile {
  const out = {} as StepProfile;
  for (const k of Object.keys(t) as (keyof StepTiming)[]) out[k] = k === 'steps' ? t[k] : t[k] / 1e9;
  return out;
}

function pickValid(cases: EvalCase[], max: number, rng: Rng): EvalCase[] {
  const usable = cases.filter((c) => c.history.length > 0 && c.truth.length > 0);
  if (usable.length <= max) return usable;
  return rng.shuffle(usable.slice()).slice(0, max);
}
