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
import type { Rng } from '../core/rng.js';
import { attentionLogits, slotCoefficients } from '../scorer/attention.js';
import { maxHistory } from '../scorer/config.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { EmbeddingUpdater } from './item-features.js';
import { sampleLevel } from './negatives.js';
import type { SampleSet } from './samples.js';

/** Most (pair, behaviour) rows computed at once in training (tfjs-wasm has a 32-bit heap). */
const MAX_ROWS = 1 << 18;

/** One group of a batch: every sample with `m` nodes, behaviours seen through `rowOf`. */
interface Group {
  rowOf?: Int32Array;
  m: number;
  codes: Int32Array;
  labels: Float32Array;
}

/** Trains the attention scorer one batch at a time. */
export class AttentionStepper {
  private readonly paths: Int32Array;
  private readonly histCap: number;

  constructor(
    private readonly tree: Tree,
    private readonly network: ScorerNetwork,
    private readonly samples: SampleSet,
    private readonly negs: number[],
    private readonly rng: Rng,
    batchSize: number,
    /** Most (pair, behaviour) rows computed at once (tests lower it to exercise the split). */
    private readonly maxRows = MAX_ROWS,
  ) {
    this.paths = new Int32Array(batchSize * (tree.layout.depth + 1));
    this.histCap = maxHistory(network.config);
  }

  /** Draws the batch's pairs: one group (plain) or one group per level (hierarchical). */
  private groups(batch: Int32Array): Group[] {
    const { tree, samples, negs, rng } = this;
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
      for (let i = 0; i < nb; i++) for (const l of levels) p = sampleLevel(tree, l, this.paths[i * (depth + 1) + l], negs[l - 1], rng, codes, labels, p);
      return { rowOf, m, codes, labels };
    };
    const all = Array.from({ length: depth }, (_, i) => i + 1);
    if (!this.network.config.hierarchical) return [levelGroup(all)];
    return all.map((l) => levelGroup([l], tree.levelRows(l)));
  }

  /**
   * One optimisation step; returns the batch's mean loss. A batch whose
   * (pair, behaviour) rows would not fit tfjs-wasm's memory is processed in
   * parts whose gradients are summed (the same step, weighted by part size).
   */
  step(batch: Int32Array, optimizer: tf.Optimizer, emb: EmbeddingUpdater): number {
    const m = this.negs.reduce((s, x) => s + x + 1, 0);
    const len = Math.min(this.histCap, Math.max(1, ...Array.from(batch, (b) => this.samples.pos[b])));
    const part = Math.max(1, Math.floor(this.maxRows / (m * len)));
    const vars = this.network.variables();
    let sum: tf.Tensor[] | undefined;
    let loss = 0;
    for (let s = 0; s < batch.length; s += part) {
      const sub = batch.subarray(s, Math.min(batch.length, s + part));
      const r = this.gradients(sub, sub.length / batch.length, emb);
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
  private gradients(batch: Int32Array, weight: number, emb: EmbeddingUpdater): { loss: number; grads: tf.Tensor[] } {
    const net = this.network;
    const { samples } = this;
    const d = net.config.embDim;
    const nb = batch.length;
    const groups = this.groups(batch);
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
