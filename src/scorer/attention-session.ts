/**
 * Query-time scoring with the attention scorer, the fast way (see
 * attention.ts): per query (and per tree level with the hierarchical user
 * preference) the behaviour-only parts are computed once — one matrix whose
 * block j is diag(b_j)·Wbn + Wn over the row b_j·Wb + c, and
 * P_j = c_j·b_j·U_{k(j)} — and each `score` call then needs, per node, one
 * product of [n, 1] with that matrix (the unit's whole pre-activation for
 * every behaviour), the unit's PReLU and output, one product of the weights
 * with P, and the rest of the MLP.
 */
import * as tf from '@tensorflow/tfjs';
import { maxHistory } from './config.js';
import type { ScorerNetwork } from './network.js';
import type { BatchScoringSession, ScoringSession } from './types.js';
import type { Tree } from '../tree/tree.js';
import { slotCoefficients } from './attention.js';

/**
 * Per-query (and per-level) tensors that do not depend on the node. Nodes
 * arrive with a constant 1 appended ([n, d+1]), so one product with `mat`
 * gives the attention unit's whole pre-activation.
 */
interface Prepared {
  /** Behaviour slots (slot 0 = the latest behaviour). */
  len: number;
  /** Block j (columns j·A..j·A+A): rows 0..d-1 diag(b_j)·Wbn + Wn, row d b_j·Wb + c. [d+1, len·A]. */
  mat: tf.Tensor2D;
  /** c_j · b_j · U_{k(j)}: [len, h1]. */
  p: tf.Tensor2D;
}

/** Largest (node × slot × unit) block computed in one call. */
const MAX_BLOCK = 1 << 21;

/** A scoring session of the attention scorer for one user's history. */
export class AttentionSession implements ScoringSession {
  private readonly prepared = new Map<number, Prepared>();
  private readonly len: number;
  private readonly coef: Float32Array;
  private nodeKernel?: tf.Tensor2D;

  constructor(
    readonly network: ScorerNetwork,
    readonly tree: Tree,
    readonly history: Int32Array,
  ) {
    const present = Math.min(history.length, maxHistory(network.config));
    // an empty history gets one empty slot (coefficient 0): the user half is then zero, as with pooling
    this.len = Math.max(1, present);
    this.coef = new Float32Array(this.len);
    slotCoefficients(network.config.windows, present, this.len, this.coef, 0);
  }

  /** History index (into the query's history) of behaviour slot j, or -1 for an empty slot. */
  historyIndexOfSlot(j: number): number {
    const i = this.history.length - 1 - j;
    return this.coef[j] > 0 ? i : -1;
  }

  /** Number of behaviour slots. */
  get slots(): number {
    return this.len;
  }

  private prepare(level: number): Prepared {
    const net = this.network;
    const key = net.config.hierarchical ? level : 0;
    let prep = this.prepared.get(key);
    if (prep) return prep;
    const d = net.config.embDim;
    const att = net.attention!;
    const mlp = net.mlp;
    const len = this.len;
    const rows = new Int32Array(len);
    const rowOf = net.config.hierarchical ? this.tree.levelRows(level) : undefined;
    const h = this.history;
    for (let j = 0; j < len; j++) {
      const it = h.length - 1 - j;
      rows[j] = it >= 0 ? (rowOf ? rowOf[h[it]] : net.numInternal + h[it]) : -1;
    }
    const beh = new Float32Array(len * d);
    for (let j = 0; j < len; j++) if (rows[j] >= 0) beh.set(net.emb.subarray(rows[j] * d, rows[j] * d + d), j * d);
    const a = att.bias.shape[0] as number;
    const h1 = mlp.bias1.shape[0] as number;
    const windows = net.config.windows;
    const [mat, p] = tf.tidy(() => {
      const b = tf.tensor2d(beh, [len, d]);
      const qb = tf.reshape(tf.add(tf.matMul(b, att.bKernel as tf.Tensor2D), att.bias), [1, len * a]);
      const inter = tf.add(tf.transpose(tf.mul(tf.reshape(b, [len, d, 1]), tf.reshape(att.bnKernel, [1, d, a])), [1, 0, 2]), tf.reshape(att.nKernel, [d, 1, a]));
      const m = tf.concat([tf.reshape(inter, [d, len * a]), qb], 0) as tf.Tensor2D;
      const parts: tf.Tensor2D[] = [];
      let s = 0;
      for (let k = 0; k < windows.length && s < len; k++) {
        const n = Math.min(windows[k], len - s);
        const uk = tf.slice(mlp.userKernel, [k * d, 0], [d, h1]) as tf.Tensor2D;
        parts.push(tf.matMul(tf.slice(b, [s, 0], [n, d]), uk));
        s += n;
      }
      const pj = tf.mul(parts.length === 1 ? parts[0] : tf.concat(parts, 0), tf.tensor2d(this.coef, [len, 1])) as tf.Tensor2D;
      return [m, pj];
    });
    prep = { len, mat, p };
    this.prepared.set(key, prep);
    return prep;
  }

  /** Embedding rows of the nodes with a constant 1 appended: [n, d+1]. */
  private nodeFeatures(nodes: Int32Array): Float32Array {
    const n = nodes.length;
    const d = this.network.config.embDim;
    const emb = this.network.emb;
    const out = new Float32Array(n * (d + 1));
    for (let i = 0; i < n; i++) {
      const r = this.tree.nodeRow(nodes[i]);
      if (r < 0) throw new Error(`node ${nodes[i]} is an empty leaf and cannot be scored`);
      out.set(emb.subarray(r * d, r * d + d), i * (d + 1));
      out[i * (d + 1) + d] = 1;
    }
    return out;
  }

  /** The first layer's node half with its bias, [d+1, h1] (made once per session). */
  private nodeKernelWithBias(): tf.Tensor2D {
    if (!this.nodeKernel) {
      const mlp = this.network.mlp;
      // made inside a score call's tidy: kept until close()
      this.nodeKernel = tf.keep(tf.tidy(() => tf.concat([mlp.nodeKernel, tf.reshape(mlp.bias1, [1, -1])], 0) as tf.Tensor2D));
    }
    return this.nodeKernel;
  }

  /** Attention weights [n, len] for node features x [n, d+1]. */
  private weightsOf(x: tf.Tensor2D, prep: Prepared): tf.Tensor2D {
    const att = this.network.attention!;
    const n = x.shape[0];
    const a = att.bias.shape[0] as number;
    const h = tf.prelu(tf.reshape(tf.matMul(x, prep.mat), [n * prep.len, a]), att.alpha);
    return tf.reshape(tf.add(tf.matMul(h, att.outKernel as tf.Tensor2D), att.outBias), [n, prep.len]);
  }

  /** Runs `fn` over chunks of the nodes small enough for memory; concatenates the per-node outputs of width `width`. */
  private chunked(nodes: Int32Array, width: number, fn: (x: tf.Tensor2D, prep: Prepared) => tf.Tensor, level: number): Float32Array {
    const n = nodes.length;
    const out = new Float32Array(n * width);
    if (n === 0) return out;
    const prep = this.prepare(level);
    const d = this.network.config.embDim;
    const a = this.network.attention!.bias.shape[0] as number;
    const step = Math.max(1, Math.floor(MAX_BLOCK / (prep.len * a)));
    for (let s = 0; s < n; s += step) {
      const e = Math.min(n, s + step);
      const feats = this.nodeFeatures(nodes.subarray(s, e));
      const t = tf.tidy(() => fn(tf.tensor2d(feats, [e - s, d + 1]), prep));
      out.set(t.dataSync() as Float32Array, s * width);
      t.dispose();
    }
    return out;
  }

  score(nodes: Int32Array, level: number): Float32Array {
    const mlp = this.network.mlp;
    return this.chunked(
      nodes,
      1,
      (x, prep) => {
        const user = tf.matMul(this.weightsOf(x, prep), prep.p);
        let h = tf.prelu(tf.add(tf.matMul(x, this.nodeKernelWithBias()), user), mlp.alpha1) as tf.Tensor2D;
        for (const l of mlp.layers) {
          h = tf.fused.matMul({ a: h, b: l.kernel as tf.Tensor2D, bias: l.bias, activation: 'prelu', preluActivationWeights: l.alpha }) as tf.Tensor2D;
        }
        return tf.fused.matMul({ a: h, b: mlp.outKernel as tf.Tensor2D, bias: mlp.outBias });
      },
      level,
    );
  }

  /**
   * Raw attention weights a_j ([nodes.length, slots], row-major) of every
   * behaviour slot for the given nodes of tree level `level`; slots map to
   * history positions through `historyIndexOfSlot`.
   */
  attention(nodes: Int32Array, level: number): Float32Array {
    return this.chunked(nodes, this.len, (x, prep) => this.weightsOf(x, prep), level);
  }

  close(): void {
    for (const p of this.prepared.values()) tf.dispose([p.mat, p.p]);
    this.prepared.clear();
    this.nodeKernel?.dispose();
    this.nodeKernel = undefined;
  }
}

/**
 * Several users at once for the attention scorer: one AttentionSession per
 * history; each call's rows are grouped by user, scored, and put back in
 * row order.
 */
export function attentionBatchSession(network: ScorerNetwork, tree: Tree, histories: Int32Array[]): BatchScoringSession {
  const sessions = histories.map((h) => new AttentionSession(network, tree, h));
  return {
    score: (users: Int32Array, nodes: Int32Array, level: number) => {
      const out = new Float32Array(nodes.length);
      if (sessions.length === 1) {
        out.set(sessions[0].score(nodes, level));
        return out;
      }
      const byUser = new Map<number, number[]>();
      users.forEach((u, i) => {
        let rows = byUser.get(u);
        if (!rows) byUser.set(u, (rows = []));
        rows.push(i);
      });
      for (const [u, rows] of byUser) {
        const s = sessions[u].score(Int32Array.from(rows, (i) => nodes[i]), level);
        rows.forEach((i, j) => (out[i] = s[j]));
      }
      return out;
    },
    close: () => sessions.forEach((s) => s.close()),
  };
}
