/**
 * Query-time scoring with the attention scorer, the fast way (see
 * attention.ts): per query (and per tree level with the hierarchical user
 * preference) the behaviour-only parts are computed once — b·Wb + c, the
 * matrix whose block j is diag(b_j)·Wbn, and P_j = c_j·b_j·U_{k(j)} — and
 * each `score` call then needs, per node, one product with that matrix, the
 * attention unit's PReLU and output, one product of the weights with P, and
 * the rest of the MLP.
 */
import * as tf from '@tensorflow/tfjs';
import { maxHistory } from './config.js';
import type { ScorerNetwork } from './network.js';
import type { BatchScoringSession, ScoringSession } from './types.js';
import type { Tree } from '../tree/tree.js';
import { slotCoefficients } from './attention.js';

/** Per-query (and per-level) tensors that do not depend on the node. */
interface Prepared {
  /** Behaviour slots (slot 0 = the latest behaviour). */
  len: number;
  /** b·Wb + c: [len, A]. */
  qb: tf.Tensor2D;
  /** Block j = diag(b_j)·Wbn: [d, len·A]. */
  dmat: tf.Tensor2D;
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
  private rows = new Int32Array(0);
  private feats = new Float32Array(0);

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
    const [qb, dmat, p] = tf.tidy(() => {
      const b = tf.tensor2d(beh, [len, d]);
      const qbT = tf.add(tf.matMul(b, att.bKernel as tf.Tensor2D), att.bias) as tf.Tensor2D;
      const dm = tf.reshape(tf.transpose(tf.mul(tf.reshape(b, [len, d, 1]), tf.reshape(att.bnKernel, [1, d, a])), [1, 0, 2]), [d, len * a]) as tf.Tensor2D;
      const parts: tf.Tensor2D[] = [];
      let s = 0;
      for (let k = 0; k < windows.length && s < len; k++) {
        const n = Math.min(windows[k], len - s);
        const uk = tf.slice(mlp.userKernel, [k * d, 0], [d, h1]) as tf.Tensor2D;
        parts.push(tf.matMul(tf.slice(b, [s, 0], [n, d]), uk));
        s += n;
      }
      const pj = tf.mul(parts.length === 1 ? parts[0] : tf.concat(parts, 0), tf.tensor2d(this.coef, [len, 1])) as tf.Tensor2D;
      return [qbT, dm, pj];
    });
    prep = { len, qb, dmat, p };
    this.prepared.set(key, prep);
    return prep;
  }

  /** Embedding rows of the nodes, gathered into [n, d]. */
  private nodeFeatures(nodes: Int32Array): Float32Array {
    const n = nodes.length;
    const d = this.network.config.embDim;
    if (this.rows.length < n) {
      this.rows = new Int32Array(n);
      this.feats = new Float32Array(n * d);
    }
    const rows = this.rows.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const r = this.tree.nodeRow(nodes[i]);
      if (r < 0) throw new Error(`node ${nodes[i]} is an empty leaf and cannot be scored`);
      rows[i] = r;
    }
    return this.network.gatherRows(rows, this.feats.subarray(0, n * d));
  }

  /** Attention weights [n, len] for node features x [n, d]. */
  private weightsOf(x: tf.Tensor2D, prep: Prepared): tf.Tensor2D {
    const att = this.network.attention!;
    const n = x.shape[0];
    const a = att.bias.shape[0] as number;
    const qn = tf.reshape(tf.matMul(x, att.nKernel as tf.Tensor2D), [n, 1, a]);
    const g = tf.reshape(tf.matMul(x, prep.dmat), [n, prep.len, a]);
    const h = tf.prelu(tf.add(tf.add(g, prep.qb), qn), att.alpha);
    return tf.reshape(tf.add(tf.matMul(tf.reshape(h, [n * prep.len, a]), att.outKernel as tf.Tensor2D), att.outBias), [n, prep.len]);
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
      const t = tf.tidy(() => fn(tf.tensor2d(feats, [e - s, d]), prep));
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
        let h = tf.prelu(tf.add(tf.add(tf.matMul(x, mlp.nodeKernel as tf.Tensor2D), user), mlp.bias1), mlp.alpha1) as tf.Tensor2D;
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
    for (const p of this.prepared.values()) tf.dispose([p.qb, p.dmat, p.p]);
    this.prepared.clear();
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
