/**
 * The two-tower baseline (a "DNN" retriever in the TDM papers' tables, after
 * Covington et al. 2016 and Yi et al. 2019): a user tower over the history and
 * an item tower over the item, trained so that the user's vector has a large
 * inner product with the next item's, and served by maximum inner product
 * search (HNSW, see ann.ts).
 *
 *  - user tower: the latest behaviours in time windows (newest first), each
 *    window the mean of its items' embeddings, concatenated → dense + PReLU
 *    → dense → L2-normalised;
 *  - item tower: the item's embedding (+ its category's embedding) → dense +
 *    PReLU → dense → L2-normalised; item embeddings are shared with the
 *    user tower's history;
 *  - loss: softmax over the batch's target items (in-batch negatives) of the
 *    cosine over a temperature, with the logQ correction (each logit minus
 *    the log of its item's share of training targets, the rate at which it
 *    shows up as an in-batch negative) and other rows' copies of a row's own
 *    target masked out;
 *  - training: sliding windows over the training users (the behaviours
 *    before t predict the item at t); embeddings in plain Float32Arrays
 *    updated by sparse Adam, the dense layers in tfjs with the hand-written
 *    gradients of scorer/fast-grad.ts; early stopping on the validation
 *    users' recall@k (exact search), keeping the best epoch.
 * Seeded: the same seed gives the same weights, item vectors and index.
 */
import * as tf from '@tensorflow/tfjs';
import { UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Rng } from '../core/rng.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from '../beam/retriever.js';
import type { EvalCase } from '../data/types.js';
import { denseBiasPrelu } from '../scorer/fast-grad.js';
import { matMulT } from '../scorer/network.js';
import { SparseAdam } from '../trainer/sparse-adam.js';
import { shuffledOrder, slidingWindowSamples, type SampleSet } from '../trainer/samples.js';
import { ExactInnerProduct, innerProductIndex, type InnerProductIndex } from './ann.js';
import { assertItemIndices } from './marks.js';
import { MetricsAccumulator } from './metrics.js';

/** Settings of the two-tower baseline. */
export interface TwoTowerOptions {
  /** Item and category embedding size (default 32). */
  embDim: number;
  /** Hidden units of each tower (default 128). */
  hidden: number;
  /** Size of the user and item vectors (default 64). */
  outDim: number;
  /** History windows, newest first (default 1,2,4,8,16,38: the latest 69 behaviours). */
  windows: number[];
  /** Softmax temperature of the cosine (default 0.05). */
  temperature: number;
  /** Samples per step, also the in-batch negatives (default 1024). */
  batchSize: number;
  /** Adam learning rate of the dense layers and of the embeddings (default 0.003). */
  lr: number;
  /** Most epochs (default 20). */
  epochs: number;
  /** Epochs without validation gain before stopping (default 2). */
  patience: number;
  /** Cap on samples per epoch, a fresh seeded subset each epoch (0: all; default 0). */
  maxSamplesPerEpoch: number;
  /** Cut-off of the validation recall that picks the epoch (default 50). */
  validK: number;
  /** Most validation users used (default 1000). */
  maxValidUsers: number;
  /** Serve by exact search instead of HNSW (default false). */
  exactIndex: boolean;
  seed: number;
}

/** The defaults of {@link TwoTowerOptions}. */
export const TWO_TOWER_DEFAULTS: TwoTowerOptions = {
  embDim: 32,
  hidden: 128,
  outDim: 64,
  windows: [1, 2, 4, 8, 16, 38],
  temperature: 0.05,
  batchSize: 1024,
  lr: 0.003,
  epochs: 20,
  patience: 2,
  maxSamplesPerEpoch: 0,
  validK: 50,
  maxValidUsers: 1000,
  exactIndex: false,
  seed: 42,
};

/** One epoch of training. */
export interface TwoTowerEpoch {
  epoch: number;
  loss: number;
  seconds: number;
  validRecall?: number;
}

/** What training did. */
export interface TwoTowerSummary {
  epochs: TwoTowerEpoch[];
  /** The epoch kept (best validation recall; the last without validation users). */
  bestEpoch: number;
  samplesPerEpoch: number;
  samplesPerSecond: number;
  trainSeconds: number;
  validUsers: number;
}

/** The towers' dense layers. */
interface Tower {
  w1: tf.Variable;
  b1: tf.Variable;
  a1: tf.Variable;
  w2: tf.Variable;
  b2: tf.Variable;
}

/** Training data of {@link trainTwoTower}. */
export interface TwoTowerData {
  /** Training users' behaviours, item indices oldest first. */
  sequences: readonly Int32Array[];
  numItems: number;
  /** Category index per item (-1: none); without it the item tower sees the item embedding only. */
  itemCategory?: Int32Array;
  /** Validation users for early stopping (never test users). */
  valid?: readonly EvalCase[];
}

/** The trained model: embeddings, towers, and the item vectors for serving. */
export class TwoTowerModel {
  private constructor(
    readonly o: TwoTowerOptions,
    readonly numItems: number,
    readonly emb: Float32Array,
    /** Category embeddings (last row: no category); undefined without categories. */
    readonly catEmb: Float32Array | undefined,
    readonly itemCat: Int32Array | undefined,
    private readonly user: Tower,
    private readonly item: Tower,
  ) {}

  /** Fresh seeded weights. */
  static init(o: TwoTowerOptions, numItems: number, itemCategory: Int32Array | undefined, rng: Rng): TwoTowerModel {
    const d = o.embDim;
    const normal = (n: number, sd: number) => Float32Array.from({ length: n }, () => rng.normal() * sd);
    const emb = normal(numItems * d, 0.05);
    const hasCats = itemCategory !== undefined && itemCategory.some((c) => c >= 0);
    const numCats = hasCats ? Math.max(...itemCategory!) + 1 : 0;
    const catEmb = hasCats ? normal((numCats + 1) * d, 0.05) : undefined;
    const itemCat = hasCats ? Int32Array.from(itemCategory!, (c) => (c >= 0 ? c : numCats)) : undefined;
    const tower = (fanIn: number): Tower => {
      const glorot = (a: number, b: number) => {
        const lim = Math.sqrt(6 / (a + b));
        return tf.variable(tf.tensor2d(Float32Array.from({ length: a * b }, () => (rng.next() * 2 - 1) * lim), [a, b]));
      };
      return {
        w1: glorot(fanIn, o.hidden),
        b1: tf.variable(tf.zeros([o.hidden])),
        a1: tf.variable(tf.fill([o.hidden], 0.25)),
        w2: glorot(o.hidden, o.outDim),
        b2: tf.variable(tf.zeros([o.outDim])),
      };
    };
    const user = tower(o.windows.length * d);
    const item = tower(hasCats ? 2 * d : d);
    return new TwoTowerModel(o, numItems, emb, catEmb, itemCat, user, item);
  }

  /** Width of the item tower's input: the item embedding, plus the category's. */
  get itemInDim(): number {
    return this.catEmb ? 2 * this.o.embDim : this.o.embDim;
  }

  /** Width of the user tower's input: one pooled embedding per window. */
  get userInDim(): number {
    return this.o.windows.length * this.o.embDim;
  }

  /** Every dense-layer variable. */
  variables(): tf.Variable[] {
    return [this.user, this.item].flatMap((t) => [t.w1, t.b1, t.a1, t.w2, t.b2]);
  }

  /** Frees the tfjs variables. */
  dispose(): void {
    for (const v of this.variables()) v.dispose();
  }

  /**
   * Pools the behaviours before `end` (exclusive) of `items` into `out` at
   * `offset`: window w is the mean of its items' embeddings (zeros if empty).
   */
  poolHistory(items: Int32Array, end: number, out: Float32Array, offset: number): void {
    const d = this.o.embDim;
    const emb = this.emb;
    let p = end - 1;
    this.o.windows.forEach((size, w) => {
      const o = offset + w * d;
      out.fill(0, o, o + d);
      let count = 0;
      for (let j = 0; j < size && p >= 0; j++, p--) {
        const r = items[p] * d;
        for (let t = 0; t < d; t++) out[o + t] += emb[r + t];
        count++;
      }
      if (count > 1) for (let t = 0; t < d; t++) out[o + t] /= count;
    });
  }

  /** Writes item `item`'s tower input (embedding, then category embedding) into `out` at `offset`. */
  itemInput(item: number, out: Float32Array, offset: number): void {
    const d = this.o.embDim;
    out.set(this.emb.subarray(item * d, (item + 1) * d), offset);
    if (this.catEmb) {
      const c = this.itemCat![item];
      out.set(this.catEmb.subarray(c * d, (c + 1) * d), offset + d);
    }
  }

  /** A tower's L2-normalised output for inputs `x` (differentiable). */
  towerOut(t: 'user' | 'item', x: tf.Tensor2D): tf.Tensor2D {
    const p = t === 'user' ? this.user : this.item;
    const h = denseBiasPrelu(x, p.w1, p.b1, p.a1);
    const z = tf.add(matMulT(h, p.w2), p.b2) as tf.Tensor2D;
    return tf.mul(z, tf.rsqrt(tf.add(tf.sum(tf.square(z), 1, true), 1e-12))) as tf.Tensor2D;
  }

  /** Normalised vectors of `n` tower inputs (inference), row-major [n, outDim]. */
  private forward(t: 'user' | 'item', x: Float32Array, n: number, inDim: number): Float32Array {
    const out = tf.tidy(() => this.towerOut(t, tf.tensor2d(x, [n, inDim])));
    const data = out.dataSync() as Float32Array;
    out.dispose();
    return data;
  }

  /** The vectors of all items, row-major [numItems, outDim]. */
  itemVectors(): Float32Array {
    const n = this.numItems;
    const dIn = this.itemInDim;
    const out = new Float32Array(n * this.o.outDim);
    const chunk = 4096;
    const x = new Float32Array(chunk * dIn);
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      for (let i = 0; i < m; i++) this.itemInput(s + i, x, i * dIn);
      out.set(this.forward('item', x.subarray(0, m * dIn), m, dIn), s * this.o.outDim);
    }
    return out;
  }

  /** The user vectors of several histories (item indices, oldest first), row-major [histories, outDim]. */
  userVectors(histories: readonly Int32Array[]): Float32Array {
    const dIn = this.userInDim;
    const x = new Float32Array(histories.length * dIn);
    histories.forEach((h, i) => this.poolHistory(h, h.length, x, i * dIn));
    return this.forward('user', x, histories.length, dIn);
  }

  /** Snapshot of every weight, for keeping the best epoch. */
  snapshot(): { emb: Float32Array; catEmb?: Float32Array; vars: Float32Array[] } {
    return {
      emb: this.emb.slice(),
      ...(this.catEmb ? { catEmb: this.catEmb.slice() } : {}),
      vars: this.variables().map((v) => (v.dataSync() as Float32Array).slice()),
    };
  }

  /** Restores a snapshot. */
  restore(s: ReturnType<TwoTowerModel['snapshot']>): void {
    this.emb.set(s.emb);
    if (this.catEmb && s.catEmb) this.catEmb.set(s.catEmb);
    this.variables().forEach((v, i) => {
      const t = tf.tensor(s.vars[i], v.shape);
      v.assign(t);
      t.dispose();
    });
  }
}

/** Recall@k on validation cases with exact search over the current item vectors. */
function validationRecall(model: TwoTowerModel, cases: readonly EvalCase[], k: number): number {
  const index = new ExactInnerProduct(model.itemVectors(), model.o.outDim);
  const users = model.userVectors(cases.map((c) => c.history));
  const acc = new MetricsAccumulator([k]);
  const d = model.o.outDim;
  cases.forEach((c, i) => acc.add(index.search(users.subarray(i * d, (i + 1) * d), k).ids, new Set(c.truth)));
  return acc.result()[0].recall;
}

/** -log of each item's share of the training targets (the logQ correction; 0 for items never a target). */
function logQ(samples: SampleSet, numItems: number): Float32Array {
  const counts = new Float64Array(numItems);
  for (let i = 0; i < samples.seq.length; i++) counts[samples.sequences[samples.seq[i]][samples.pos[i]]]++;
  const total = samples.seq.length;
  return Float32Array.from(counts, (c) => (c > 0 ? Math.log(c / total) : 0));
}

/** Validates two-tower settings, naming the bad one. */
function validateOptions(o: TwoTowerOptions): void {
  for (const key of ['embDim', 'hidden', 'outDim', 'batchSize', 'epochs', 'validK', 'maxValidUsers'] as const) assertPositiveInteger(`two-tower ${key}`, o[key]);
  assertNonNegativeInteger('two-tower patience', o.patience);
  assertNonNegativeInteger('two-tower maxSamplesPerEpoch', o.maxSamplesPerEpoch);
  if (o.windows.length === 0) throw new UsageError('two-tower windows: give at least one window');
  for (const w of o.windows) assertPositiveInteger('two-tower window', w);
  if (!(o.temperature > 0)) throw new UsageError(`two-tower temperature must be positive, got ${o.temperature}`);
  if (!(o.lr > 0)) throw new UsageError(`two-tower lr must be positive, got ${o.lr}`);
}

/**
 * Trains a two-tower model on the training users' sliding-window samples,
 * stopping early on the validation users (if any) and keeping the best
 * epoch. Throws a UsageError when there is no sample.
 */
export function trainTwoTower(data: TwoTowerData, options: Partial<TwoTowerOptions> = {}, logger: Logger = silentLogger): { model: TwoTowerModel; summary: TwoTowerSummary } {
  const o: TwoTowerOptions = { ...TWO_TOWER_DEFAULTS, ...options };
  validateOptions(o);
  const n = data.numItems;
  data.sequences.forEach((s, u) => assertItemIndices(s, n, `training user ${u}`));
  const samples = slidingWindowSamples(data.sequences as Int32Array[]);
  const total = samples.seq.length;
  if (total === 0) throw new UsageError('two-tower: no training samples (the training users need two or more behaviours)');
  const rng = new Rng(o.seed ^ 0x7e0);
  const model = TwoTowerModel.init(o, n, data.itemCategory, rng);
  const d = o.embDim;
  const embAdam = new SparseAdam(model.emb, d, o.lr);
  const catAdam = model.catEmb ? new SparseAdam(model.catEmb, d, o.lr) : undefined;
  const optimizer = tf.train.adam(o.lr);
  const vars = model.variables();
  const negLogQ = logQ(samples, n);
  const valid = (data.valid ?? []).filter((c) => c.truth.length > 0).slice(0, o.maxValidUsers);
  const uIn = model.userInDim;
  const iIn = model.itemInDim;
  const b = o.batchSize;
  const userBuf = new Float32Array(b * uIn);
  const itemBuf = new Float32Array(b * iIn);
  const targets = new Int32Array(b);
  const corr = new Float32Array(b);
  const mask = new Float32Array(b * b);
  const epochs: TwoTowerEpoch[] = [];
  let best: { recall: number; epoch: number; weights: ReturnType<TwoTowerModel['snapshot']> } | undefined;
  let stale = 0;
  let trainSeconds = 0;
  let seen = 0;
  const histCap = o.windows.reduce((a, x) => a + x, 0);

  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    let order = shuffledOrder(total, rng);
    if (o.maxSamplesPerEpoch > 0 && order.length > o.maxSamplesPerEpoch) order = order.subarray(0, o.maxSamplesPerEpoch);
    const bar = logger.progress(`two-tower epoch ${epoch}/${o.epochs}`, order.length);
    const t0 = process.hrtime.bigint();
    let lossSum = 0;
    for (let s0 = 0; s0 < order.length; s0 += b) {
      const batch = order.subarray(s0, Math.min(order.length, s0 + b));
      const m = batch.length;
      if (m < 2) continue; // a softmax over one item teaches nothing
      for (let i = 0; i < m; i++) {
        const seq = samples.sequences[samples.seq[batch[i]]];
        const pos = samples.pos[batch[i]];
        model.poolHistory(seq, pos, userBuf, i * uIn);
        targets[i] = seq[pos];
        model.itemInput(targets[i], itemBuf, i * iIn);
        corr[i] = negLogQ[targets[i]];
      }
      // another row's copy of a row's own target is no negative
      const mk = mask.subarray(0, m * m);
      mk.fill(0);
      const rowsOf = new Map<number, number[]>();
      for (let i = 0; i < m; i++) {
        const list = rowsOf.get(targets[i]);
        if (list) list.push(i);
        else rowsOf.set(targets[i], [i]);
      }
      for (const list of rowsOf.values()) if (list.length > 1) for (const i of list) for (const j of list) if (i !== j) mk[i * m + j] = -1e9;
      const [lossT, dUserT, dItemT] = tf.tidy(() => {
        const u = tf.tensor2d(userBuf.subarray(0, m * uIn), [m, uIn]);
        const it = tf.tensor2d(itemBuf.subarray(0, m * iIn), [m, iIn]);
        const q = tf.tensor1d(corr.subarray(0, m));
        const msk = tf.tensor2d(mk, [m, m]);
        const f = (uu: tf.Tensor, ii: tf.Tensor) => {
          const uv = model.towerOut('user', uu as tf.Tensor2D);
          const iv = model.towerOut('item', ii as tf.Tensor2D);
          // logits[i][j] = cos(u_i, v_j) / T − log q_j (+ mask); the diagonal holds the positives
          const logits = tf.add(tf.sub(tf.div(matMulT(uv, tf.transpose(iv)), o.temperature), q), msk);
          const pos = tf.sub(tf.div(tf.sum(tf.mul(uv, iv), 1), o.temperature), q);
          return tf.mean(tf.sub(tf.logSumExp(logits, 1), pos)) as tf.Scalar;
        };
        const { value, grads } = tf.valueAndGrads(f as (...args: tf.Tensor[]) => tf.Scalar)([u, it, ...vars]);
        const named: tf.NamedTensorMap = {};
        vars.forEach((v, i) => (named[v.name] = grads[i + 2]));
        optimizer.applyGradients(named as unknown as tf.NamedTensorMap & Record<string, tf.Variable>);
        return [value, grads[0], grads[1]];
      });
      const loss = lossT.dataSync()[0];
      const dUser = dUserT.dataSync() as Float32Array;
      const dItem = dItemT.dataSync() as Float32Array;
      tf.dispose([lossT, dUserT, dItemT]);
      // scatter the input gradients to the embedding rows
      for (let i = 0; i < m; i++) {
        const seq = samples.sequences[samples.seq[batch[i]]];
        let p = samples.pos[batch[i]] - 1;
        const stop = Math.max(0, samples.pos[batch[i]] - histCap);
        for (let w = 0; w < o.windows.length && p >= stop; w++) {
          const count = Math.min(o.windows[w], p - stop + 1);
          for (let j = 0; j < count; j++, p--) embAdam.accumulate(seq[p], dUser, i * uIn + w * d, 1 / count);
        }
        embAdam.accumulate(targets[i], dItem, i * iIn, 1);
        if (catAdam) catAdam.accumulate(model.itemCat![targets[i]], dItem, i * iIn + d, 1);
      }
      embAdam.apply();
      catAdam?.apply();
      lossSum += loss * m;
      const done = Math.min(order.length, s0 + b);
      bar.update(done, { loss: lossSum / done });
    }
    bar.stop();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    trainSeconds += seconds;
    seen += order.length;
    const report: TwoTowerEpoch = { epoch, loss: lossSum / order.length, seconds };
    epochs.push(report);
    if (valid.length > 0) {
      report.validRecall = validationRecall(model, valid, o.validK);
      logger.info(`two-tower epoch ${epoch}: loss ${report.loss.toFixed(4)}, validation recall@${o.validK} ${(report.validRecall * 100).toFixed(2)}% (${seconds.toFixed(1)} s)`);
      if (!best || report.validRecall > best.recall) {
        best = { recall: report.validRecall, epoch, weights: model.snapshot() };
        stale = 0;
      } else if (++stale > o.patience) {
        break;
      }
    } else {
      logger.info(`two-tower epoch ${epoch}: loss ${report.loss.toFixed(4)} (${seconds.toFixed(1)} s)`);
    }
  }
  optimizer.dispose();
  if (best) model.restore(best.weights);
  return {
    model,
    summary: {
      epochs,
      bestEpoch: best?.epoch ?? epochs.length,
      samplesPerEpoch: Math.min(total, o.maxSamplesPerEpoch > 0 ? o.maxSamplesPerEpoch : total),
      samplesPerSecond: seen / Math.max(trainSeconds, 1e-9),
      trainSeconds,
      validUsers: valid.length,
    },
  };
}

/**
 * The two-tower model as a retriever: the user tower's vector for the
 * history, then the index's top k items by inner product. `exact` is true
 * only with the exact index. `pairsScored` is the catalogue size for the
 * exact scan and 0 for HNSW (hnswlib-node does not expose its count of
 * distance computations).
 */
export class TwoTowerRetriever implements Retriever {
  readonly name = 'two-tower';
  readonly exact: boolean;
  /** The index over the item vectors. */
  readonly index: InnerProductIndex;
  private readonly itemVecs: Float32Array;

  constructor(
    readonly model: TwoTowerModel,
    opts: { exactIndex?: boolean; seed: number; efSearch?: number },
  ) {
    this.itemVecs = model.itemVectors();
    this.index = innerProductIndex(this.itemVecs, model.o.outDim, { exact: opts.exactIndex, seed: opts.seed, ...(opts.efSearch ? { efSearch: opts.efSearch } : {}) });
    this.exact = this.index.kind === 'exact';
  }

  /** Share of the exact top k that the index returns, averaged over `histories` (1 for the exact index). */
  indexRecall(histories: readonly Int32Array[], k: number): number {
    if (histories.length === 0) return NaN;
    const exact = new ExactInnerProduct(this.itemVecs, this.model.o.outDim);
    const d = this.model.o.outDim;
    const users = this.model.userVectors(histories);
    let sum = 0;
    histories.forEach((_, i) => {
      const q = users.subarray(i * d, (i + 1) * d);
      const want = new Set(exact.search(q, k).ids);
      let hit = 0;
      for (const id of this.index.search(q, k).ids) if (want.has(id)) hit++;
      sum += want.size === 0 ? 1 : hit / want.size;
    });
    return sum / histories.length;
  }

  /** Top k items for a history; `beam` is ignored; with excludeHistory, k more are fetched and the history's dropped. */
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    assertPositiveInteger('k', opts.k);
    assertItemIndices(history, this.model.numItems, 'history');
    const u = this.model.userVectors([history]);
    if (!opts.excludeHistory) {
      const r = this.index.search(u, opts.k);
      return { items: r.ids, scores: r.scores, pairsScored: this.exact ? this.model.numItems : 0 };
    }
    const seen = new Set(history);
    const r = this.index.search(u, opts.k + seen.size);
    const keep = Array.from(r.ids.keys()).filter((i) => !seen.has(r.ids[i])).slice(0, opts.k);
    return { items: Int32Array.from(keep, (i) => r.ids[i]), scores: Float32Array.from(keep, (i) => r.scores[i]), pairsScored: this.exact ? this.model.numItems : 0 };
  }
}
