/**
 * Joint optimisation (JTM): alternate "train the scorer on the current tree"
 * and "learn the tree with the current scorer", measure validation recall
 * after every round, and keep the best round's tree and weights.
 */
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { NamedArrays, ScorerNetwork } from '../scorer/network.js';
import { learnTree } from '../tree/learn.js';
import type { Tree } from '../tree/tree.js';
import { describeObjectiveChange, objectiveChange, pairScoring, type ObjectiveChange } from './pair-scorer.js';
import { caseSamples, slidingWindowSamples } from './samples.js';
import { choosePathWeight, trainScorer, validationRecall, type PathWeightTrial, type TrainData, type TrainOptions, type TrainSummary } from './train.js';

/** Joint training knobs. */
export interface JointOptions {
  /** Tree-learning rounds after the initial training (0: plain TDM training). */
  rounds: number;
  /** Levels assigned per tree-learning step. */
  gap: number;
  /** Cap on training pairs per item used in tree learning (0: all). */
  maxPairsPerItem: number;
  /** True when the network is already trained for the initial tree: round 0 then only measures. */
  startTrained?: boolean;
  /**
   * Trains the scorer in each round (default: `trainScorer`, in the calling
   * thread); the pipeline passes the data-parallel trainer.
   */
  trainer?: ScorerTrainer;
  /**
   * Whether a learned tree goes on to retraining, from the objective change
   * tree learning made (default `heldOutGate`: only when it raised the
   * objective on the validation users' pairs). A tree it refuses ends the
   * rounds: the next round would learn from the same weights.
   */
  accept?: (objective: ObjectiveChange) => boolean;
  /** Called after every round with that round's tree and the network (e.g. to evaluate held-out users). */
  onRound?: (report: RoundReport, tree: Tree, network: ScorerNetwork) => void;
}

/** A scorer training function: `trainScorer` or the data-parallel `trainParallel`. */
export type ScorerTrainer = (tree: Tree, network: ScorerNetwork, data: TrainData, options: Partial<TrainOptions>, logger: Logger) => TrainSummary | Promise<TrainSummary>;

/** Figures of one round (round 0 is the initial tree). */
export interface RoundReport {
  round: number;
  /** Fraction of items whose leaf changed in this round's tree learning (0 for round 0). */
  moved: number;
  treeLearningSeconds: number;
  /** (pair, node) scorings tree learning made. */
  scoredNodes: number;
  /** The tree-learning objective before and after this round's tree learning, under the weights it used (absent for round 0). */
  objective?: ObjectiveChange;
  /** Training of this round (absent for round 0 when it started trained). */
  training?: TrainSummary;
  /** Validation recall@validK (beam search, see EpochReport.validRecall) after this round's training; undefined without validation users. */
  validRecall?: number;
  /** The path weight of `validRecall` (fixed, or chosen on the validation users for this round's weights). */
  pathWeight?: number;
  /** Every path weight tried (absent when fixed). */
  pathWeightTrials?: PathWeightTrial[];
  /** True when the learned tree was refused (see `JointOptions.accept`): no training, the rounds ended here. */
  rejected?: boolean;
}

/**
 * The default acceptance rule of a learned tree: it must raise the
 * tree-learning objective of the first step's levels (1 … topLevels) on the
 * validation users' pairs, under the weights that learned it. Tree learning
 * always raises it on its training pairs; when items have only a few pairs
 * each, it fits those and moves items away from their other users, and the
 * held-out figure falls. Deeper levels are not asked: their node
 * embeddings were fitted to the old items, so any move costs there until
 * the scorer is retrained (from a scrambled tree, where learning helps most,
 * the all-levels figure falls too). Measured (docs/FINDINGS.md): a fall came
 * with lower validation recall after retraining; a rise is necessary, not
 * sufficient, and the kept round still guards the rest. Without validation
 * pairs every tree is accepted.
 */
export function heldOutGate(objective: ObjectiveChange): boolean {
  const h = objective.heldOut;
  return h === undefined || h.pairs === 0 || h.topAfter > h.topBefore;
}

/** Result of joint training: the tree and weights kept (the network holds them). */
export interface JointResult {
  tree: Tree;
  rounds: RoundReport[];
  bestRound: number;
}

/** Runs `rounds` JTM rounds; leaves the best round's weights in `network` and returns its tree. */
export async function jointTrain(
  tree0: Tree,
  network: ScorerNetwork,
  data: TrainData,
  train: Partial<TrainOptions> & { seed: number; validK?: number },
  joint: JointOptions,
  logger: Logger = silentLogger,
): Promise<JointResult> {
  const trainer = joint.trainer ?? trainScorer;
  if (!Number.isInteger(joint.rounds) || joint.rounds < 0) throw new UsageError(`rounds must be a non-negative integer, got ${joint.rounds}`);
  assertPositiveInteger('gap', joint.gap);
  const samples = slidingWindowSamples(data.sequences);
  const validK = train.validK ?? 50;
  const valid = data.valid ?? [];
  const heldOut = valid.length > 0 ? caseSamples(valid) : undefined;
  const rounds: RoundReport[] = [];
  let tree = tree0;
  let best: { round: number; recall: number; tree: Tree; weights: NamedArrays; pathWeight?: number } | undefined;
  for (let round = 0; round <= joint.rounds; round++) {
    let moved = 0;
    let treeLearningSeconds = 0;
    let scoredNodes = 0;
    let objective: ObjectiveChange | undefined;
    if (round > 0) {
      logger.info(`round ${round}: learning the tree (gap ${joint.gap})`);
      const scoring = pairScoring(network, tree, samples);
      const learned = learnTree(tree, scoring.data, scoring.score, {
        gap: joint.gap,
        maxPairsPerItem: joint.maxPairsPerItem,
        seed: train.seed + round,
        logger,
      });
      objective = objectiveChange(network, tree, learned.tree, joint.gap, { samples, scoring }, heldOut);
      logger.info(`round ${round}: ${describeObjectiveChange(objective)}`);
      if (!(joint.accept ?? heldOutGate)(objective)) {
        const h = objective.heldOut!;
        logger.info(
          `round ${round}: the learned tree lowers the objective of levels 1-${objective.topLevels} on the validation users' pairs (${h.topBefore.toFixed(2)} → ${h.topAfter.toFixed(2)}): not kept, tree learning stops`,
        );
        rounds.push({ round, moved: learned.moved, treeLearningSeconds: learned.seconds, scoredNodes: learned.scoredNodes, objective, rejected: true });
        break;
      }
      tree = learned.tree;
      moved = learned.moved;
      treeLearningSeconds = learned.seconds;
      scoredNodes = learned.scoredNodes;
      logger.info(`round ${round}: ${(moved * 100).toFixed(1)}% of items moved, ${treeLearningSeconds.toFixed(1)} s`);
    }
    const training = round === 0 && joint.startTrained ? undefined : await trainer(tree, network, data, { ...train, seed: train.seed + round }, logger);
    const report: RoundReport = { round, moved, treeLearningSeconds, scoredNodes, ...(objective ? { objective } : {}), ...(training ? { training } : {}) };
    if (valid.length > 0) {
      if (train.pathWeight !== undefined) {
        report.validRecall = validationRecall(tree, network, valid, validK, train.pathWeight);
        report.pathWeight = train.pathWeight;
      } else {
        const choice = choosePathWeight(tree, network, valid, validK);
        report.validRecall = choice.recall;
        report.pathWeight = choice.pathWeight;
        report.pathWeightTrials = choice.trials;
      }
      logger.info(`round ${round}: validation recall@${validK} ${(report.validRecall * 100).toFixed(2)}% (path weight ${report.pathWeight})`);
    }
    rounds.push(report);
    joint.onRound?.(report, tree, network);
    const score = report.validRecall ?? round; // without validation the last round wins
    if (!best || score > best.recall) best = { round, recall: score, tree, weights: network.toArrays(), pathWeight: report.pathWeight };
  }
  if (best!.round !== joint.rounds) {
    network.restore(best!.weights);
    logger.info(`kept round ${best!.round} (best validation recall)`);
  }
  if (best!.pathWeight !== undefined) network.setPathWeight(best!.pathWeight);
  return { tree: best!.tree, rounds, bestRound: best!.round };
}
