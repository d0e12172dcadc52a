/**
 * One training step of the attention scorer: the same level-wise samples as
 * the pooling scorer (ancestors of the target are positives, same-level
 * random nodes negatives), but the user side is the raw behaviour slots
 * (each sample's latest behaviours, padded to the batch's longest history),
 * because every node attends to them differently. With the hierarchical user
 * preference the batch is split by level, each level's behaviours
 * represented by their ancestors on that level. Gradients for the behaviour
 * and node rows go back to the embedding table through `EmbeddingUpdater`.
 */
import * as tf from '@tensorflow/tfjs';
import { attentionLogits, slotCoefficients } from '../scorer/attention.js';
import { maxHistory } from '../scorer/config.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { EmbeddingUpdater } from './item-features.js';
import { sampleLevel } from './negatives.js';
import type { SampleSet } from './samples.js';
import { sampleRng } from './streams.js';

/** Most (pair, behaviour) rows computed at once in training (tfjs-wasm has a 32-bit heap). */
const MAX_ROWS = 1 << 18;

/** Fixed cost charged per part of a batch, in (pair, behaviour) rows: a guess at one part's op dispatch (not tuned), it keeps short-history parts from splitting finely. */
const PART_OVERHEAD_ROWS = 4096;

/** One group of a batch: every sample with `m` nodes, behaviours seen through `rowOf`. */
interface Group {
  rowOf?: Int32Array;
  m: number;
  codes: Int32Array;
  labels: Float32Array;
}

/** How the step computes (every choice gives the same step up to float rounding). */
export interface AttentionStepOptions {
  /** Most (pair, behaviour) rows computed at once (tests lower it to exercise the split). */
  maxRows?: number;
  /** Sort each batch by history length and pad each part to its own longest (default); false pads the whole batch. */
  bucketed?: boolean;
}

/** Trains the attention scorer one batch at a time. */
export class AttentionStepper {
  private readonly paths: Int32Array;
  private readonly histCap: number;
  private readonly maxRows: number;
  private readonly bucketed: boolean;

  constructor(
    private readonly tree: Tree,
    private readonly network: ScorerNetwork,
    private readonly samples: SampleSet,
    private readonly negs: number[],
    private readonly seed: number,
    batchSize: number,
    options: AttentionStepOptions = {},
  ) {
    this.maxRows = options.maxRows ?? MAX_ROWS;
    this.bucketed = options.bucketed ?? true;
    this.paths = new Int32Array(batchSize * (tree.layout.depth + 1));
    this.histCap = maxHistory(network.config);
  }

  /**
   * Draws the batch's pairs: one group (plain) or one group per level
   * (hierarchical); sample i's draws come from its own stream (position
   * first + i of the epoch), level 1 first, so both layouts, and the pooling
   * scorer's producer, draw the same pairs.
   */
  private groups(batch: Int32Array, epoch: number, first: number): Group[] {
    const { tree, samples, negs } = this;
    const rngs = Array.from(batch, (_, i) => sampleRng(this.seed, epoch, first + i));
    const depth = tree.layout.depth;
    const nb = batch.length;
    for (let i = 0; i < nb; i++) {
      tree.pathOf(samples.sequences[samples.seq[batch[i]]][samples.pos[batch[i]]], this.paths.subarray(i * (depth + 1), (i + 1) * (depth + 1)));
    }
    const levelGroup = (levels: number[], rowOf?: Int32Array): Group => {
      const m = levels.reduce((s, l) => s + negs[l - 1] + 1, 0);
      const codes = new Int32Array(nb * m);
      const labels = new Float32Array(nb * m);
      let p = 0;
      for (let i = 0; i < nb; i++) for (const l of levels) p = sampleLevel(tree, l, this.paths[i * (depth + 1) + l], negs[l - 1], rngs[i], codes, labels, p);
      return { rowOf, m, codes, labels };
    };
    const all = Array.from({ length: depth }, (_, i) => i + 1);
    if (!this.network.config.hierarchical) return [levelGroup(all)];
    return all.map((l) => levelGroup([l], tree.levelRows(l)));
  }

  /**
   * One optimisation step; returns the batch's mean loss. The batch's pairs
   * are drawn first (in batch order), then its samples are processed in
   * parts: sorted by history length and cut where padding every part to its
   * own longest history costs least (`partsOf`), each part also small
   * enough for tfjs-wasm's memory. The parts' gradients are summed, weighted
   * by part size: the same step as one padded batch, without the work on
   * empty behaviour slots. `bucketed: false` pads the whole batch to its
   * longest history (the reference the tests and the speed bench compare with).
   * `at` places the batch in the run (epoch, position of its first sample in
   * the epoch's order) for the per-sample random streams.
   */
  step(batch: Int32Array, optimizer: tf.Optimizer, emb: EmbeddingUpdater, at: { epoch: number; first: number } = { epoch: 1, first: 0 }): number {
    const groups = this.groups(batch, at.epoch, at.first);
    const nb = batch.length;
    const m = this.negs.reduce((s, x) => s + x + 1, 0);
    const lens = Int32Array.from(batch, (b) => Math.max(1, Math.min(this.samples.pos[b], this.histCap)));
    const parts = partsOf(lens, m, this.maxRows, this.bucketed ? PART_OVERHEAD_ROWS : Infinity);
    const vars = this.network.variables();
    let sum: tf.Tensor[] | undefined;
    let loss = 0;
    for (const idx of parts) {
      const sub = groups.map((g) => ({ rowOf: g.rowOf, m: g.m, codes: pick(g.codes, idx, g.m), labels: pick(g.labels, idx, g.m) }));
      const r = this.gradients(Int32Array.from(idx, (i) => batch[i]), sub, idx.length / nb, emb);
      loss += r.loss;
      if (!sum) sum = r.grads;
      else {
        const next = sum.map((g, i) => tf.add(g, r.grads[i]));
        tf.dispose([...sum, ...r.grads]);
        sum = next;
      }
    }
    const named: tf.NamedTensorMap = {};
    vars.forEach(([, v], i) => (named[v.name] = sum![i]));
    optimizer.applyGradients(named as unknown as tf.NamedTensorMap & Record<string, tf.Variable>);
    tf.dispose(sum!);
    emb.apply();
    return loss;
  }

  /** Loss (times `weight`) and variable gradients of one part of a batch; accumulates the embedding gradients into `emb`. */
  private gradients(batch: Int32Array, groups: Group[], weight: number, emb: EmbeddingUpdater): { loss: number; grads: tf.Tensor[] } {
    const net = this.network;
    const { samples } = this;
    const d = net.config.embDim;
    const nb = batch.length;
    // behaviour slots: slot j of sample i is its (j+1)-th latest behaviour before the target
    let len = 1;
    for (let i = 0; i < nb; i++) len = Math.max(len, Math.min(samples.pos[batch[i]], this.histCap));
    const coef = new Float32Array(nb * len);
    for (let i = 0; i < nb; i++) slotCoefficients(net.config.windows, Math.min(samples.pos[batch[i]], this.histCap), len, coef, i * len);
    const behRows = groups.map((g) => {
      const rows = new Int32Array(nb * len).fill(-1);
      for (let i = 0; i < nb; i++) {
        const s = samples.sequences[samples.seq[batch[i]]];
        const pos = samples.pos[batch[i]];
        for (let j = 0; j < len && j < pos && j < this.histCap; j++) rows[i * len + j] = g.rowOf ? g.rowOf[s[pos - 1 - j]] : net.numInternal + s[pos - 1 - j];
      }
      return rows;
    });
    const nodeRows = groups.map((g) => Int32Array.from(g.codes, (c) => this.tree.nodeRow(c)));
    const gather = (rows: Int32Array) => {
      const out = new Float32Array(rows.length * d);
      for (let r = 0; r < rows.length; r++) if (rows[r] >= 0) out.set(net.emb.subarray(rows[r] * d, rows[r] * d + d), r * d);
      return out;
    };
    const vars = net.variables();
    const ng = groups.length;
    const [lossT, ...gradTs] = tf.tidy(() => {
      const behT = behRows.map((rows) => tf.tensor3d(gather(rows), [nb, len, d]));
      const nodeT = nodeRows.map((rows) => tf.tensor2d(gather(rows), [rows.length, d]));
      const coefT = tf.tensor2d(coef, [nb, len]);
      const labels = tf.tensor1d(concatFloat(groups.map((g) => g.labels)));
      const f = (...inputs: tf.Tensor[]) => {
        const logits = groups.map((g, k) =>
          attentionLogits(net.mlp, net.attention!, net.config.windows, inputs[k] as tf.Tensor3D, coefT, inputs[ng + k] as tf.Tensor2D, g.m),
        );
        return tf.mul(sigmoidCrossEntropy(labels, (logits.length === 1 ? logits[0] : tf.concat(logits, 0)) as tf.Tensor1D), weight) as tf.Scalar;
      };
      const { value, grads } = tf.valueAndGrads(f as (...args: tf.Tensor[]) => tf.Scalar)([...behT, ...nodeT, ...vars.map(([, v]) => v)]);
      return [value, ...grads];
    });
    const loss = lossT.dataSync()[0];
    for (let k = 0; k < ng; k++) {
      const gb = gradTs[k].dataSync() as Float32Array;
      const rows = behRows[k];
      for (let r = 0; r < rows.length; r++) if (rows[r] >= 0) emb.accumulate(rows[r], gb, r * d, 1);
      const gn = gradTs[ng + k].dataSync() as Float32Array;
      const nr = nodeRows[k];
      for (let r = 0; r < nr.length; r++) emb.accumulate(nr[r], gn, r * d, 1);
    }
    tf.dispose([lossT, ...gradTs.slice(0, 2 * ng)]);
    return { loss, grads: gradTs.slice(2 * ng) };
  }
}

/** Rows `idx` (each `width` wide) of `src`, in that order. */
function pick<T extends Int32Array | Float32Array>(src: T, idx: Int32Array, width: number): T {
  const out = new (src.constructor as { new (n: number): T })(idx.length * width);
  for (let k = 0; k < idx.length; k++) out.set(src.subarray(idx[k] * width, (idx[k] + 1) * width), k * width);
  return out;
}

/**
 * Splits a batch into parts (indices into it): with `overhead` finite, the
 * samples sorted by history length and cut where the padded rows
 * (part size × its longest history × m) plus `overhead` rows per part are
 * fewest (dynamic programming over the sorted lengths); with `overhead`
 * infinite, batch order padded to the batch's longest history (the
 * reference). Either way no part has more than `maxRows` rows (at least one sample).
 */
export function partsOf(lens: Int32Array, m: number, maxRows: number, overhead: number): Int32Array[] {
  const n = lens.length;
  if (!Number.isFinite(overhead)) {
    const len = Math.max(1, ...lens);
    const part = Math.max(1, Math.floor(maxRows / (m * len)));
    const out: Int32Array[] = [];
    for (let s = 0; s < n; s += part) out.push(Int32Array.from({ length: Math.min(part, n - s) }, (_, i) => s + i));
    return out;
  }
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => lens[a] - lens[b] || a - b);
  // best[j]: least cost of the first j sorted samples; from[j]: where its last part starts
  const best = new Float64Array(n + 1).fill(Infinity);
  const from = new Int32Array(n + 1);
  best[0] = 0;
  for (let j = 1; j <= n; j++) {
    const len = lens[order[j - 1]];
    const most = Math.max(1, Math.floor(maxRows / (m * len)));
    for (let i = j - 1; i >= Math.max(0, j - most); i--) {
      const c = best[i] + overhead + (j - i) * len * m;
      if (c < best[j]) {
        best[j] = c;
        from[j] = i;
      }
    }
  }
  const out: Int32Array[] = [];
  for (let j = n; j > 0; j = from[j]) out.unshift(order.slice(from[j], j));
  return out;
}

function concatFloat(parts: Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Mean sigmoid cross-entropy: max(x,0) − x·z + log(1 + e^{−|x|}). */
function sigmoidCrossEntropy(labels: tf.Tensor1D, logits: tf.Tensor1D): tf.Scalar {
  return tf.mean(tf.add(tf.sub(tf.relu(logits), tf.mul(logits, labels)), tf.log1p(tf.exp(tf.neg(tf.abs(logits)))))) as tf.Scalar;
}
