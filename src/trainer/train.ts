/**
 * The training loop: level-wise samples, sigmoid cross-entropy, Adam (tfjs
 * for the MLP, sparse lazy Adam for the embedding table), seeded, with
 * optional early stopping on validation users' recall under beam search.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import { TRAIN_DEFAULTS } from '../core/defaults.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Rng } from '../core/rng.js';
import { BeamSearch } from '../beam/beam.js';
import type { EvalCase } from '../data/types.js';
import type { NamedArrays, ScorerNetwork } from '../scorer/network.js';
import { maxHistory } from '../scorer/config.js';
import { NetworkScorer } from '../scorer/session.js';
import type { Tree } from '../tree/tree.js';
import { negativesPerLevel, sampleLevel, samplePairs } from './negatives.js';
import { slidingWindowSamples, shuffledOrder } from './samples.js';
import { SparseAdam } from './sparse-adam.js';
import { AttentionStepper } from './attention-step.js';
import type { EmbeddingUpdater, ItemFeatures } from './item-features.js';

/** Training knobs (all have defaults, see DEFAULT_TRAIN_OPTIONS). */
export interface TrainOptions {
  /** Maximum passes over the samples. */
  epochs: number;
  /** Samples (target items) per step; each brings one pair per level plus its negatives. */
  batchSize: number;
  /** Adam learning rate (MLP and embeddings). */
  lr: number;
  /** Negatives per level: "auto" or a comma list (see negativesPerLevel). */
  negatives: string;
  seed: number;
  /** Epochs without validation improvement before stopping. */
  patience: number;
  /** k and beam of the validation recall. */
  validK: number;
  /** Validation users used per check (a seeded subset when there are more). */
  maxValidUsers: number;
  /** Cap on samples per epoch (0: all), a seeded subset each epoch. */
  maxSamplesPerEpoch: number;
}

/** Defaults chosen from measurements on the synthetic and the shared data sets (see docs/BENCHMARKS.md). */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = { ...TRAIN_DEFAULTS };

/** Figures of one epoch. */
export interface EpochReport {
  epoch: number;
  loss: number;
  samples: number;
  seconds: number;
  /** Validation recall@validK (beam search), when validation users exist. */
  validRecall?: number;
}

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
  samplesPerSecond: number;
  pairsPerSecond: number;
  seconds: number;
}

/** Training inputs: training sequences (item indices, time order) and optional validation cases. */
export interface TrainData {
  sequences: Int32Array[];
  valid?: EvalCase[];
  /** Item side features trained with the network (they keep its item rows materialised). */
  features?: ItemFeatures;
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
}

/** Trains `network` for `tree` in place; returns the summary. The weights left are the best epoch's. */
export function trainScorer(tree: Tree, network: ScorerNetwork, data: TrainData, options: Partial<TrainOptions> = {}, logger: Logger = silentLogger): TrainSummary {
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS, ...options };
  validateTrainOptions(o);
  const samples = slidingWindowSamples(data.sequences);
  const total = samples.seq.length;
  if (total === 0) throw new UsageError('no training samples: the training users need at least two behaviours each');
  const negs = negativesPerLevel(tree, o.negatives);
  const m = negs.reduce((s, x) => s + x + 1, 0);
  const rng = new Rng(o.seed);
  const d = network.config.embDim;
  const userDim = network.userDim;
  const windows = network.config.windows;
  const histCap = maxHistory(network.config);
  const vars = network.variables();
  const optimizer = tf.train.adam(o.lr);
  data.features?.rebase(network.emb);
  const embAdam: EmbeddingUpdater = data.features ? data.features.updater(network.emb, o.lr) : new SparseAdam(network.emb, d, o.lr);
  const attStep = network.attention ? new AttentionStepper(tree, network, samples, negs, rng, o.batchSize) : undefined;
  const valid = pickValid(data.valid ?? [], o.maxValidUsers, new Rng(o.seed ^ 0x5eed));

  const b = o.batchSize;
  const hierarchical = Boolean(network.config.hierarchical);
  const userBuf = new Float32Array(b * userDim * (hierarchical ? tree.layout.depth : 1));
  const codes = new Int32Array(b * m);
  const rows = new Int32Array(b * m);
  const labels = new Float32Array(b * m);
  const nodeBuf = new Float32Array(b * m * d);
  const layout = new BatchLayout(tree, network, samples, negs, rng, hierarchical, userBuf, codes, labels);
  const epochs: EpochReport[] = [];
  let best: { recall: number; epoch: number; weights: NamedArrays } | undefined;
  let stale = 0;
  let trainSeconds = 0;
  let samplesSeen = 0;
  const started = Date.now();

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let order = shuffledOrder(total, rng);
    if (o.maxSamplesPerEpoch > 0 && order.length > o.maxSamplesPerEpoch) order = order.subarray(0, o.maxSamplesPerEpoch);
    const steps = Math.ceil(order.length / b);
    const bar = logger.progress(`epoch ${epoch}/${o.epochs}`, order.length);
    const t0 = process.hrtime.bigint();
    let lossSum = 0;
    for (let step = 0; step < steps; step++) {
      const batch = order.subarray(step * b, Math.min(order.length, (step + 1) * b));
      const nb = batch.length;
      if (attStep) {
        lossSum += attStep.step(batch, optimizer, embAdam) * nb;
        const done = Math.min(order.length, (step + 1) * b);
        bar.update(done, { loss: lossSum / done, 'samples/s': Math.round(done / Math.max(Number(process.hrtime.bigint() - t0) / 1e9, 1e-9)) });
        continue;
      }
      // user slots: one per sample, or (hierarchical) one per sample and level, level-major
      const np = layout.fill(batch, nb);
      for (let p = 0; p < np; p++) rows[p] = tree.nodeRow(codes[p]);
      network.gatherRows(rows.subarray(0, np), nodeBuf.subarray(0, np * d));
      const slots = layout.slots;
      // keep tensors (not typed arrays) as tidy's result: tidy walks returned objects element by element
      const [lossT, dUserT, dNodeT] = tf.tidy(() => {
        const u = tf.tensor2d(userBuf.subarray(0, slots * userDim), [slots, userDim]);
        const n = tf.tensor2d(nodeBuf.subarray(0, np * d), [np, d]);
        const z = tf.tensor1d(labels.subarray(0, np));
        const f = (uu: tf.Tensor, nn: tf.Tensor) => sigmoidCrossEntropy(z, network.logitsGrouped(uu as tf.Tensor2D, nn as tf.Tensor2D, layout.groups));
        const { value, grads } = tf.valueAndGrads(f as (...args: tf.Tensor[]) => tf.Scalar)([u, n, ...vars.map(([, v]) => v)]);
        const named: tf.NamedTensorMap = {};
        vars.forEach(([, v], i) => (named[v.name] = grads[i + 2]));
        optimizer.applyGradients(named as unknown as tf.NamedTensorMap & Record<string, tf.Variable>);
        return [value, grads[0], grads[1]];
      });
      const loss = lossT.dataSync()[0];
      const dUser = dUserT.dataSync() as Float32Array;
      const dNode = dNodeT.dataSync() as Float32Array;
      tf.dispose([lossT, dUserT, dNodeT]);
      // scatter the input gradients back to embedding rows
      for (let slot = 0; slot < slots; slot++) {
        const i = slot % nb;
        const rowOf = layout.rowOfSlot(slot, nb);
        const s = samples.sequences[samples.seq[batch[i]]];
        let p = samples.pos[batch[i]] - 1;
        const stop = Math.max(0, samples.pos[batch[i]] - histCap);
        for (let w = 0; w < windows.length && p >= stop; w++) {
          const count = Math.min(windows[w], p - stop + 1);
          for (let j = 0; j < count; j++, p--) {
            embAdam.accumulate(rowOf ? rowOf[s[p]] : network.numInternal + s[p], dUser, slot * userDim + w * d, 1 / count);
          }
        }
      }
      for (let p = 0; p < np; p++) embAdam.accumulate(rows[p], dNode, p * d, 1);
      embAdam.apply();
      lossSum += loss * nb;
      const done = Math.min(order.length, (step + 1) * b);
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      bar.update(done, { loss: lossSum / done, 'samples/s': Math.round(done / Math.max(secs, 1e-9)) });
    }
    bar.stop();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    trainSeconds += seconds;
    samplesSeen += order.length;
    const report: EpochReport = { epoch, loss: lossSum / order.length, samples: order.length, seconds };
    if (valid.length > 0) {
      report.validRecall = validationRecall(tree, network, valid, o.validK);
      if (!best || report.validRecall > best.recall) {
        best = { recall: report.validRecall, epoch, weights: network.toArrays() };
        stale = 0;
      } else {
        stale++;
      }
      logger.info(`epoch ${epoch}: loss ${report.loss.toFixed(4)}, validation recall@${o.validK} ${(report.validRecall * 100).toFixed(2)}%`);
    } else {
      logger.info(`epoch ${epoch}: loss ${report.loss.toFixed(4)}`);
    }
    epochs.push(report);
    if (stale >= o.patience) {
      logger.info(`stopping early: no validation improvement for ${o.patience} epochs`);
      break;
    }
  }
  optimizer.dispose();
  if (best && best.epoch !== epochs.length) {
    network.restore(best.weights);
    data.features?.rebase(network.emb);
    logger.info(`kept the weights of epoch ${best.epoch} (best validation recall)`);
  }
  return {
    options: o,
    trainSequences: data.sequences.length,
    samplesPerEpoch: Math.min(total, o.maxSamplesPerEpoch || total),
    pairsPerSample: m,
    negativesPerLevel: negs,
    epochs,
    bestEpoch: best?.epoch ?? epochs.length,
    samplesPerSecond: samplesSeen / trainSeconds,
    pairsPerSecond: (samplesSeen * m) / trainSeconds,
    seconds: (Date.now() - started) / 1000,
  };
}

/**
 * Fills one batch's user vectors and (positive, negative) node pairs.
 * Plain scorer: one user slot per sample, its pairs level by level.
 * Hierarchical user preference: one slot per (level, sample), level-major,
 * each slot's history represented on its level; pairs grouped the same way.
 */
class BatchLayout {
  slots = 0;
  groups: { users: number; m: number }[] = [];
  private readonly paths: Int32Array;
  private readonly userDim: number;

  constructor(
    private readonly tree: Tree,
    private readonly network: ScorerNetwork,
    private readonly samples: ReturnType<typeof slidingWindowSamples>,
    private readonly negs: number[],
    private readonly rng: Rng,
    private readonly hierarchical: boolean,
    private readonly userBuf: Float32Array,
    private readonly codes: Int32Array,
    private readonly labels: Float32Array,
  ) {
    // one root-to-leaf path per sample of a full batch
    this.paths = new Int32Array((userBuf.length / network.userDim / (hierarchical ? tree.layout.depth : 1)) * (tree.layout.depth + 1));
    this.userDim = network.userDim;
  }

  /** Embedding-row map of a user slot (undefined: the items' own rows). */
  rowOfSlot(slot: number, nb: number): Int32Array | undefined {
    return this.hierarchical ? this.tree.levelRows(Math.floor(slot / nb) + 1) : undefined;
  }

  /** Fills the buffers for the batch; returns the number of pairs. */
  fill(batch: Int32Array, nb: number): number {
    const { tree, network, samples, negs, rng, userBuf, codes, labels } = this;
    const depth = tree.layout.depth;
    const m = negs.reduce((s, x) => s + x + 1, 0);
    if (!this.hierarchical) {
      const path = this.paths.subarray(0, depth + 1);
      for (let i = 0; i < nb; i++) {
        const s = samples.sequences[samples.seq[batch[i]]];
        const pos = samples.pos[batch[i]];
        network.userVector(s.subarray(0, pos), userBuf, i * this.userDim);
        samplePairs(tree, s[pos], negs, rng, codes, labels, i * m, path);
      }
      this.slots = nb;
      this.groups = [{ users: nb, m }];
      return nb * m;
    }
    for (let i = 0; i < nb; i++) tree.pathOf(samples.sequences[samples.seq[batch[i]]][samples.pos[batch[i]]], this.paths.subarray(i * (depth + 1), (i + 1) * (depth + 1)));
    let p = 0;
    this.groups = [];
    for (let level = 1; level <= depth; level++) {
      const rowOf = tree.levelRows(level);
      for (let i = 0; i < nb; i++) {
        const s = samples.sequences[samples.seq[batch[i]]];
        network.userVector(s.subarray(0, samples.pos[batch[i]]), userBuf, ((level - 1) * nb + i) * this.userDim, rowOf);
        p = sampleLevel(tree, level, this.paths[i * (depth + 1) + level], negs[level - 1], rng, codes, labels, p);
      }
      this.groups.push({ users: nb, m: negs[level - 1] + 1 });
    }
    this.slots = nb * depth;
    return p;
  }
}

/** Mean sigmoid cross-entropy, written with ops every backend differentiates. */
function sigmoidCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor1D): tf.Scalar {
  // max(x,0) - x·z + log(1 + exp(-|x|))
  return tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))) as tf.Scalar;
}

function pickValid(cases: EvalCase[], max: number, rng: Rng): EvalCase[] {
  const usable = cases.filter((c) => c.history.length > 0 && c.truth.length > 0);
  if (usable.length <= max) return usable;
  return rng.shuffle(usable.slice()).slice(0, max);
}

/** Mean recall@k of beam search (beam = k) over validation cases. */
export function validationRecall(tree: Tree, network: ScorerNetwork, cases: EvalCase[], k: number): number {
  const kk = Math.min(k, tree.numItems);
  const beam = new BeamSearch(tree, new NetworkScorer(network, tree));
  let sum = 0;
  for (const c of cases) {
    const got = beam.retrieve(c.history, { k: kk, beam: kk }).items;
    const truth = new Set(c.truth);
    let hits = 0;
    for (const it of got) if (truth.has(it)) hits++;
    sum += hits / truth.size;
  }
  return sum / cases.length;
}
