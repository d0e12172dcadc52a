/**
 * The multi-interest (DIN-style) attention scorer's extra parameters and its
 * differentiable training forward pass.
 *
 * For a user with behaviours b_j (j = 0 the latest) and a node n, the
 * attention unit gives each behaviour a weight
 *
 *   a_j = v · prelu(b_j·Wb + (b_j ⊙ n)·Wbn + n·Wn + c, α) + c₂,
 *
 * and window k becomes (1/|k|) Σ_{j∈k} a_j b_j (with every a_j = 1 this is
 * the pooling scorer's mean; v starts at 0 and c₂ at 1, so training starts
 * exactly from pooling).
 * The windows and n then go through the same MLP as the pooling scorer.
 *
 * Computed the fast way (in training and at query time): the MLP's first
 * layer on a window is pushed inside the sum, window_k·U_k = Σ_j a_j c_j
 * (b_j·U_k), so P_j = c_j b_j·U_{k(j)} is computed once per user; b·Wb once
 * per behaviour; n·Wn once per node; and the interaction term for all
 * behaviours at once is one product of the nodes with the matrix whose block
 * j is diag(b_j)·Wbn. `test/scorer.attention.test.ts` checks both paths
 * against the plain formula.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_ATTENTION_UNITS, type ScorerConfig } from './config.js';
import { matMulT, type MlpParams, type NamedArrays } from './mlp.js';
import { denseBiasPrelu, prelu2d } from './fast-grad.js';

/** Parameters of the attention unit (behaviour, behaviour ⊙ node, node) → units (PReLU) → 1. */
export interface AttentionParams {
  /** Behaviour part of the first layer: [d, units]. */
  bKernel: tf.Variable;
  /** Interaction (behaviour ⊙ node) part: [d, units]. */
  bnKernel: tf.Variable;
  /** Node part: [d, units]. */
  nKernel: tf.Variable;
  bias: tf.Variable;
  alpha: tf.Variable;
  /** [units, 1]. */
  outKernel: tf.Variable;
  /** [1], initialised to 1. */
  outBias: tf.Variable;
}

/** Units of the attention unit for a config. */
export function attentionUnits(cfg: ScorerConfig): number {
  return cfg.attentionUnits ?? DEFAULT_ATTENTION_UNITS;
}

/** Saved names and shapes of the attention weights, in a fixed order. */
export function attentionShapes(cfg: ScorerConfig): [string, number[]][] {
  const d = cfg.embDim;
  const a = attentionUnits(cfg);
  return [
    ['att/b_kernel', [d, a]],
    ['att/bn_kernel', [d, a]],
    ['att/n_kernel', [d, a]],
    ['att/bias', [a]],
    ['att/alpha', [a]],
    ['att/out_kernel', [a, 1]],
    ['att/out_bias', [1]],
  ];
}

/**
 * Fresh attention weights: Glorot-uniform kernels over the 3d inputs, output
 * kernel 0 and output bias 1, so every weight starts at exactly 1 and
 * training starts from mean pooling (the output kernel's gradient is the
 * hidden layer, so it moves at the first step and the rest follows). On
 * MovieLens (3 epochs × 12,000 samples) this start gave beam recall@50
 * 13.82 % against 13.02 % with a random output kernel.
 */
export function initAttentionArrays(cfg: ScorerConfig, next: () => number, into: NamedArrays): void {
  const d = cfg.embDim;
  const a = attentionUnits(cfg);
  const glorot = (fanIn: number, fanOut: number, n: number) => {
    const lim = Math.sqrt(6 / (fanIn + fanOut));
    return Float32Array.from({ length: n }, () => (next() * 2 - 1) * lim);
  };
  into.set('att/b_kernel', { shape: [d, a], data: glorot(3 * d, a, d * a) });
  into.set('att/bn_kernel', { shape: [d, a], data: glorot(3 * d, a, d * a) });
  into.set('att/n_kernel', { shape: [d, a], data: glorot(3 * d, a, d * a) });
  into.set('att/bias', { shape: [a], data: new Float32Array(a) });
  into.set('att/alpha', { shape: [a], data: new Float32Array(a).fill(0.25) });
  into.set('att/out_kernel', { shape: [a, 1], data: new Float32Array(a) });
  into.set('att/out_bias', { shape: [1], data: new Float32Array([1]) });
}

/** Builds the attention variables from named arrays; `v` validates and creates one variable. */
export function makeAttention(cfg: ScorerConfig, v: (name: string, shape: number[]) => tf.Variable): AttentionParams {
  const [b, bn, n, bias, alpha, out, outBias] = attentionShapes(cfg).map(([name, shape]) => v(name, shape));
  return { bKernel: b, bnKernel: bn, nKernel: n, bias, alpha, outKernel: out, outBias };
}

/** (name, variable) pairs of the attention unit, in saved order. */
export function attentionEntries(p: AttentionParams): [string, tf.Variable][] {
  return [
    ['att/b_kernel', p.bKernel],
    ['att/bn_kernel', p.bnKernel],
    ['att/n_kernel', p.nKernel],
    ['att/bias', p.bias],
    ['att/alpha', p.alpha],
    ['att/out_kernel', p.outKernel],
    ['att/out_bias', p.outBias],
  ];
}

/** Window index of every history slot (slot 0 = the latest behaviour). */
export function slotWindows(windows: number[]): Int32Array {
  const out: number[] = [];
  windows.forEach((size, k) => {
    for (let i = 0; i < size; i++) out.push(k);
  });
  return Int32Array.from(out);
}

/**
 * Pooling coefficient of each of the first `len` slots when `present`
 * behaviours exist: 1 / (behaviours present in the slot's window), 0 for
 * empty slots. Writes into `out` at `offset`.
 */
export function slotCoefficients(windows: number[], present: number, len: number, out: Float32Array, offset: number): void {
  let j = 0;
  for (const size of windows) {
    const count = Math.max(0, Math.min(size, present - j));
    for (let i = 0; i < size && j < len; i++, j++) out[offset + j] = j < present ? 1 / count : 0;
    if (j >= len) break;
  }
}

/**
 * Attention weights [U, m, L] of the attention unit for U users with L
 * behaviour slots each (`beh` [U, L, d]) and m nodes each (`nodes` [U, m, d]).
 */
export function attentionWeights(att: AttentionParams, beh: tf.Tensor3D, nodes: tf.Tensor3D): tf.Tensor3D {
  const [u, l, d] = beh.shape;
  const m = nodes.shape[1];
  const a = att.bias.shape[0] as number;
  // behaviour-only term once per behaviour, node-only term once per node
  const qb = tf.reshape(tf.add(matMulT(tf.reshape(beh, [u * l, d]), att.bKernel), att.bias), [u, 1, l, a]);
  const qn = tf.reshape(matMulT(tf.reshape(nodes, [u * m, d]), att.nKernel), [u, m, 1, a]);
  // the interaction of every (node, behaviour) as one 2-d product (tfjs-wasm's
  // batched matMul is several times slower than its 2-d one)
  const inter = matMulT(tf.reshape(tf.mul(tf.reshape(nodes, [u, m, 1, d]), tf.reshape(beh, [u, 1, l, d])), [u * m * l, d]), att.bnKernel);
  const z = tf.add(tf.add(tf.reshape(inter, [u, m, l, a]), qn), qb);
  const h = prelu2d(tf.reshape(z, [u * m * l, a]), att.alpha);
  const w = tf.add(matMulT(h, att.outKernel), att.outBias);
  return tf.reshape(w, [u, m, l]);
}

/**
 * P_j = b_j · U_{k(j)} for every slot: [U, L, h1] (the user half of the
 * first layer applied to each behaviour with its window's kernel block).
 */
export function slotProjections(mlp: MlpParams, windows: number[], beh: tf.Tensor3D): tf.Tensor3D {
  const [u, l, d] = beh.shape;
  const h1 = mlp.bias1.shape[0] as number;
  const parts: tf.Tensor[] = [];
  let s = 0;
  for (let k = 0; k < windows.length && s < l; k++) {
    const len = Math.min(windows[k], l - s);
    const x = tf.reshape(tf.slice(beh, [0, s, 0], [u, len, d]), [u * len, d]);
    const uk = tf.slice(mlp.userKernel, [k * d, 0], [d, h1]) as tf.Tensor2D;
    parts.push(tf.reshape(tf.matMul(x, uk), [u, len, h1]));
    s += len;
  }
  return (parts.length === 1 ? parts[0] : tf.concat(parts, 1)) as tf.Tensor3D;
}

/**
 * Training forward pass (differentiable): logits [U·m] for U users with L
 * behaviour slots each (`beh` [U, L, d], pooling coefficients `coef` [U, L],
 * 0 for empty slots) and m nodes each (`nodes` [U·m, d]).
 */
export function attentionLogits(mlp: MlpParams, att: AttentionParams, windows: number[], beh: tf.Tensor3D, coef: tf.Tensor2D, nodes: tf.Tensor2D, m: number): tf.Tensor1D {
  const [u, l, d] = beh.shape;
  const h1 = mlp.bias1.shape[0] as number;
  const n3 = tf.reshape(nodes, [u, m, d]) as tf.Tensor3D;
  const w = tf.mul(attentionWeights(att, beh, n3), tf.reshape(coef, [u, 1, l])) as tf.Tensor3D;
  let user: tf.Tensor;
  if (m * windows.length >= l) {
    // many nodes per user: the first layer pushed inside the window sums (P once per user)
    user = tf.reshape(tf.matMul(w, slotProjections(mlp, windows, beh)), [u * m, h1]);
  } else {
    // few nodes per user (a level's group with the hierarchical preference): the windows themselves, then the layer
    const parts: tf.Tensor[] = [];
    let s = 0;
    for (let k = 0; k < windows.length; k++) {
      const len = Math.max(0, Math.min(windows[k], l - s));
      parts.push(len > 0 ? tf.matMul(tf.slice(w, [0, 0, s], [u, m, len]), tf.slice(beh, [0, s, 0], [u, len, d])) : tf.zeros([u, m, d]));
      s += len;
    }
    user = matMulT(tf.reshape(tf.concat(parts, 2), [u * m, windows.length * d]), mlp.userKernel);
  }
  const z = tf.add(tf.add(user, matMulT(nodes, mlp.nodeKernel)), mlp.bias1);
  let h = prelu2d(z, mlp.alpha1);
  for (const layer of mlp.layers) h = denseBiasPrelu(h, layer.kernel, layer.bias, layer.alpha);
  return tf.reshape(tf.add(matMulT(h, mlp.outKernel), mlp.outBias), [u * m]) as tf.Tensor1D;
}
