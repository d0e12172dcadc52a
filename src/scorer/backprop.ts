/**
 * The pooling scorer's training pass (loss and every gradient of one batch
 * of (user, node) pairs) with a hand-written backward pass instead of tfjs
 * autodiff. On tfjs-wasm the cost of autodiff is not the products but what
 * surrounds them: slices (their gradient pads to the full input), concats,
 * transposes of the large activations, broadcast bias adds and the
 * cross-entropy's dozen element-wise passes. Here:
 *
 *  - the batch runs in chunks of about CHUNK_ROWS pairs (whole users of one
 *    pair group each), so no slice or concat is needed and a chunk's
 *    activations stay in cache;
 *  - every user row meets the user half of the first layer once
 *    (`userRows · userKernel + bias`), broadcast over its m nodes;
 *  - biases of the later layers ride in fused matMuls;
 *  - the logits leave tfjs once per chunk and the loss and its derivative
 *    are computed in JS (float64);
 *  - a weight gradient `Xᵀ · dZ` transposes the narrower of X and dZ; the
 *    inputs (user rows, node rows) are transposed in JS, where it is cheap;
 *  - the weight gradients are summed over the chunks in chunk order.
 *
 * The result is the gradient of Σ weight · sigmoid cross-entropy over the
 * batch's pairs with respect to the MLP weights, the user rows and the node
 * rows, as `test/scorer.backprop.test.ts` checks against tfjs autodiff of the
 * same network. Deterministic: a fixed order of operations for a given batch.
 */
import * as tf from '@tensorflow/tfjs';
import type { ScorerNetwork } from './network.js';

/** Pairs a chunk holds at most (fewer when a user's m does not divide it; at least one user). */
export const CHUNK_ROWS = 2048;

/** A run of user rows that each meet the same number of node rows. */
export interface PairGroupShape {
  users: number;
  m: number;
}

/** One batch of pairs as the training pass consumes it. */
export interface BackpropBatch {
  /** Groups in slot order: group g takes the next `users` user rows, each with the next `m` node rows. */
  groups: readonly PairGroupShape[];
  /** User rows, [slots, userDim]. */
  user: Float32Array;
  /** Node rows, [pairs, embDim]. */
  nodes: Float32Array;
  /** Target of each pair, in [0, 1]. */
  labels: Float32Array;
  /** Weight of each pair (absent: 1). */
  weights?: Float32Array;
}

/** Where the gradients go. */
export interface BackpropOutput {
  /** Flat MLP gradient in the order of `ScorerNetwork.variables()`. */
  mlp: Float32Array;
  /** Gradient of the user rows, [slots, userDim]. */
  user: Float32Array;
  /** Gradient of the node rows, [pairs, embDim]. */
  nodes: Float32Array;
}

type T2 = tf.Tensor2D;

/** The training pass of a pooling network (one per network; reuses its buffers). */
export class PoolingBackprop {
  private userT = new Float32Array(0);
  private nodesT = new Float32Array(0);
  private dLogit = new Float32Array(0);

  constructor(
    private readonly net: ScorerNetwork,
    private readonly chunkRows = CHUNK_ROWS,
  ) {
    if (net.attention) throw new Error('PoolingBackprop: the attention scorer has its own training step');
  }

  /** Writes the gradients of Σ weight · cross-entropy into `out`; returns that sum (the loss). */
  run(batch: BackpropBatch, out: BackpropOutput): number {
    const net = this.net;
    const p = net.mlp;
    const ud = net.userDim;
    const d = net.config.embDim;
    const h1 = p.bias1.shape[0] as number;
    // transposed kernels for the input gradients (small), made once per batch
    const kt = tf.tidy(() => ({
      user: tf.transpose(p.userKernel) as T2,
      node: tf.transpose(p.nodeKernel) as T2,
      layers: p.layers.map((l) => tf.transpose(l.kernel) as T2),
      out: tf.transpose(p.outKernel) as T2,
    }));
    let acc: tf.Tensor[] | undefined;
    let loss = 0;
    let dOutBias = 0;
    try {
      let s0 = 0;
      let p0 = 0;
      for (const g of batch.groups) {
        if (g.m === 0) {
          out.user.fill(0, s0 * ud, (s0 + g.users) * ud);
          s0 += g.users;
          continue;
        }
        const per = Math.max(1, Math.floor(this.chunkRows / g.m));
        for (let u = 0; u < g.users; u += per) {
          const b = Math.min(per, g.users - u);
          const r = b * g.m;
          const prev = acc;
          const res = tf.tidy(() => {
            const grads = this.chunk(batch, out, kt, s0, p0, b, g.m, ud, d, h1);
            return prev ? grads.map((x, i) => tf.add(prev[i], x)) : grads;
          });
          if (prev) tf.dispose(prev);
          acc = res;
          loss += this.lastLoss;
          dOutBias += this.lastOutBias;
          s0 += b;
          p0 += r;
        }
      }
      this.writeMlp(acc, dOutBias, out.mlp);
    } finally {
      if (acc) tf.dispose(acc);
      tf.dispose([kt.user, kt.node, ...kt.layers, kt.out]);
    }
    return loss;
  }

  private lastLoss = 0;
  private lastOutBias = 0;

  /**
   * One chunk: b users from slot s0, m pairs each from pair p0. Writes the
   * user and node row gradients into `out`; returns the MLP gradients in
   * accumulator form (see writeMlp).
   */
  private chunk(batch: BackpropBatch, out: BackpropOutput, kt: { user: T2; node: T2; layers: T2[]; out: T2 }, s0: number, p0: number, b: number, m: number, ud: number, d: number, h1: number): tf.Tensor[] {
    const p = this.net.mlp;
    const r = b * m;
    const userRows = batch.user.subarray(s0 * ud, (s0 + b) * ud);
    const nodeRows = batch.nodes.subarray(p0 * d, (p0 + r) * d);
    // forward
    const ut = tf.tensor2d(userRows, [b, ud]);
    const hu = tf.fused.matMul({ a: ut, b: p.userKernel as T2, bias: p.bias1 });
    const nt = tf.tensor2d(nodeRows, [r, d]);
    const hn = tf.matMul(nt, p.nodeKernel as T2);
    const z1 = (m === 1 ? tf.add(hn, hu) : tf.reshape(tf.add(tf.reshape(hn, [b, m, h1]), tf.reshape(hu, [b, 1, h1])), [r, h1])) as T2;
    const zs: T2[] = [z1];
    const as: T2[] = [tf.prelu(z1, p.alpha1 as unknown as T2)];
    for (const layer of p.layers) {
      const z = tf.fused.matMul({ a: as[as.length - 1], b: layer.kernel as T2, bias: layer.bias }) as T2;
      zs.push(z);
      as.push(tf.prelu(z, layer.alpha as unknown as T2) as T2);
    }
    const top = as[as.length - 1];
    const logits = tf.fused.matMul({ a: top, b: p.outKernel as T2, bias: p.outBias }).dataSync() as Float32Array;
    // loss and its derivative by the logits, in JS
    if (this.dLogit.length < r) this.dLogit = new Float32Array(r);
    const g = this.dLogit.subarray(0, r);
    const { labels, weights } = batch;
    let loss = 0;
    let gSum = 0;
    for (let i = 0; i < r; i++) {
      const x = logits[i];
      const y = labels[p0 + i];
      const w = weights ? weights[p0 + i] : 1;
      const e = Math.exp(-Math.abs(x));
      loss += w * (Math.max(x, 0) - x * y + Math.log1p(e));
      const sig = x >= 0 ? 1 / (1 + e) : e / (1 + e);
      g[i] = w * (sig - y);
      gSum += g[i];
    }
    this.lastLoss = loss;
    this.lastOutBias = gSum;
    // backward: output layer
    const dl = tf.tensor2d(g, [r, 1]);
    const grads: tf.Tensor[] = [];
    const dOutT = tf.matMul(tf.reshape(dl, [1, r]), top); // [1, h_last]
    let da = tf.matMul(dl, kt.out) as T2; // [r, h_last]
    const ones = tf.ones([r, 1]) as T2;
    const upper: tf.Tensor[] = [];
    for (let i = p.layers.length - 1; i >= 0; i--) {
      const layer = p.layers[i];
      const [dz, dAlpha] = preluBackward(zs[i + 1], layer.alpha, da, ones);
      const x = as[i];
      const [nIn, nOut] = layer.kernel.shape as [number, number];
      // Xᵀ·dZ transposing the narrower of X and dZ: [out, in] or [in, out], put right in writeMlp
      let dW: tf.Tensor;
      let db: tf.Tensor;
      if (nOut < nIn) {
        const dzT = tf.transpose(dz) as T2;
        dW = tf.matMul(dzT, x);
        db = tf.sum(dzT, 1);
      } else {
        dW = tf.matMul(tf.transpose(x) as T2, dz);
        db = colSum(dz, ones);
      }
      upper.unshift(dW, db, dAlpha);
      da = tf.matMul(dz, kt.layers[i]) as T2;
    }
    // first layer: the node half per pair, the user half per user
    const [dz1, dAlpha1] = preluBackward(z1, p.alpha1, da, ones);
    const dWn = tf.matMul(tf.tensor2d(this.transposed('node', nodeRows, r, d), [d, r]), dz1);
    out.nodes.set(tf.matMul(dz1, kt.node).dataSync() as Float32Array, p0 * d);
    const dhu = (m === 1 ? dz1 : tf.sum(tf.reshape(dz1, [b, m, h1]), 1)) as T2;
    const dWu = tf.matMul(tf.tensor2d(this.transposed('user', userRows, b, ud), [ud, b]), dhu);
    out.user.set(tf.matMul(dhu, kt.user).dataSync() as Float32Array, s0 * ud);
    const db1 = colSum(dhu, m === 1 ? ones : tf.ones([b, 1]) as T2);
    grads.push(dWu, dWn, db1, dAlpha1, ...upper, dOutT);
    return grads;
  }

  /** `rows` ([n, w]) transposed to [w, n] in a reused buffer. */
  private transposed(which: 'user' | 'node', rows: Float32Array, n: number, w: number): Float32Array {
    const key = which === 'user' ? 'userT' : 'nodesT';
    if (this[key].length < n * w) this[key] = new Float32Array(n * w);
    const t = this[key].subarray(0, n * w);
    for (let i = 0; i < n; i++) {
      const o = i * w;
      for (let j = 0; j < w; j++) t[j * n + i] = rows[o + j];
    }
    return t;
  }

  /** Copies the accumulated gradients into the flat vector (order of `variables()`), transposing where needed. */
  private writeMlp(acc: tf.Tensor[] | undefined, dOutBias: number, flat: Float32Array): void {
    const size = this.net.variables().reduce((n, [, v]) => n + v.size, 0);
    if (!acc) {
      flat.fill(0, 0, size);
      return;
    }
    const p = this.net.mlp;
    // acc: dWu, dWn, db1, dα1, then per layer dW (maybe transposed), db, dα, then dWoᵀ
    let o = 0;
    const put = (t: tf.Tensor, transpose: boolean) => {
      const src = transpose ? tf.transpose(t) : t;
      const data = src.dataSync() as Float32Array;
      if (src !== t) src.dispose();
      flat.set(data, o);
      o += data.length;
    };
    put(acc[0], false);
    put(acc[1], false);
    put(acc[2], false);
    put(acc[3], false);
    p.layers.forEach((layer, i) => {
      const [nIn, nOut] = layer.kernel.shape as [number, number];
      put(acc[4 + 3 * i], nOut < nIn);
      put(acc[5 + 3 * i], false);
      put(acc[6 + 3 * i], false);
    });
    put(acc[4 + 3 * p.layers.length], false); // [1, h] holds the same values as [h, 1]
    flat[o++] = dOutBias;
    if (o !== size) throw new Error(`PoolingBackprop wrote ${o} MLP gradient values, the network has ${size}`);
  }
}

/** Column sums of x [r, n] as [n, 1] (`ones` is [r, 1]): a matrix-vector product, which on tfjs-wasm costs a fraction of `ones[1, r] · x` (that packs x) or of `tf.sum(x, 0)` (that transposes it). */
function colSum(x: T2, ones: T2): tf.Tensor {
  return tf.matMul(x, ones, true, false);
}

/**
 * dZ and dα of A = prelu(Z, α) given dA: dZ = dA where Z > 0, α·dA
 * elsewhere; dα = Σ_rows dA·min(Z, 0), as [n, 1].
 */
function preluBackward(z: T2, alpha: tf.Tensor, da: T2, ones: T2): [T2, tf.Tensor] {
  const u = tf.step(z, -1); // +1 where z > 0, −1 elsewhere
  const dz = tf.mul(da, tf.mul(tf.prelu(u, alpha as T2), u)) as T2;
  // 2·min(z, 0) = z·(1 − u)
  const dAlpha = tf.mul(colSum(tf.mul(da, tf.mul(z, tf.sub(1, u))) as T2, ones), 0.5);
  return [dz, dAlpha];
}
