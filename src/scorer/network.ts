/**
 * The TDM node-scoring network, split for speed into:
 *  - embeddings (items and internal nodes) held in a plain Float32Array and
 *    updated sparsely by the trainer (tfjs-wasm has no gather gradient, and a
 *    sparse update touches only the rows a batch used);
 *  - the user side: the history in time windows, each mean-pooled, computed
 *    in JS once per user (`userVector`);
 *  - the MLP in tfjs. Its first layer on [user windows ; node] is split into a
 *    user half (computed once per user) and a node half, which is exactly the
 *    concatenated layer but far cheaper when one user meets many nodes.
 */
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { maxHistory, validateScorerConfig, type ScorerConfig } from './config.js';
import { denseBiasPrelu, userNodePrelu } from './fast-grad.js';
import type { AttentionParams } from './attention.js';
import { kindWeights, type KindParams } from './kind-weights.js';
import { makeMlp, matMulT, mlpEntries, variableMaker, type MlpParams, type NamedArrays } from './mlp.js';

export { matMulT, mlpEntries, type DenseLayer, type MlpParams, type NamedArrays } from './mlp.js';



/** The scorer's parameters and its forward passes. */
export class ScorerNetwork {
  readonly config: ScorerConfig;
  /** Internal tree nodes (rows 0..numInternal-1 of the embedding table). */
  readonly numInternal: number;
  /** Items (rows numInternal..numInternal+numItems-1). */
  readonly numItems: number;
  /** Embedding table, row-major [numRows, embDim]. */
  readonly emb: Float32Array;
  readonly mlp: MlpParams;
  /** The kind's own parameters (see kind-weights.ts). */
  readonly kindParams: KindParams;
  /** The attention unit (attention kind only). */
  readonly attention?: AttentionParams;

  private constructor(config: ScorerConfig, numInternal: number, numItems: number, emb: Float32Array, mlp: MlpParams, kindParams: KindParams) {
    this.config = config;
    this.numInternal = numInternal;
    this.numItems = numItems;
    this.emb = emb;
    this.mlp = mlp;
    this.kindParams = kindParams;
    this.attention = kindParams.attention;
  }

  /** Rows in the embedding table. */
  get numRows(): number {
    return this.numInternal + this.numItems;
  }

  /** Fresh weights: Glorot-uniform kernels, small normal embeddings, all from the seeded Rng. */
  static init(config: ScorerConfig, numInternal: number, numItems: number, rng: Rng): ScorerNetwork {
    validateScorerConfig(config);
    const d = config.embDim;
    const emb = new Float32Array((numInternal + numItems) * d);
    for (let i = 0; i < emb.length; i++) emb[i] = rng.normal() * 0.05;
    const glorot = (fanIn: number, fanOut: number, n = fanIn * fanOut) => {
      const lim = Math.sqrt(6 / (fanIn + fanOut));
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = (rng.next() * 2 - 1) * lim;
      return a;
    };
    const h = config.hidden;
    const userIn = config.windows.length * d;
    const w1 = glorot(userIn + d, h[0], (userIn + d) * h[0]);
    const arrays: NamedArrays = new Map();
    arrays.set('dense0/user_kernel', { shape: [userIn, h[0]], data: w1.subarray(0, userIn * h[0]) });
    arrays.set('dense0/node_kernel', { shape: [d, h[0]], data: w1.subarray(userIn * h[0]) });
    arrays.set('dense0/bias', { shape: [h[0]], data: new Float32Array(h[0]) });
    arrays.set('dense0/alpha', { shape: [h[0]], data: new Float32Array(h[0]).fill(0.25) });
    for (let i = 1; i < h.length; i++) {
      arrays.set(`dense${i}/kernel`, { shape: [h[i - 1], h[i]], data: glorot(h[i - 1], h[i]) });
      arrays.set(`dense${i}/bias`, { shape: [h[i]], data: new Float32Array(h[i]) });
      arrays.set(`dense${i}/alpha`, { shape: [h[i]], data: new Float32Array(h[i]).fill(0.25) });
    }
    arrays.set('out/kernel', { shape: [h[h.length - 1], 1], data: glorot(h[h.length - 1], 1) });
    arrays.set('out/bias', { shape: [1], data: new Float32Array(1) });
    // the kind's own weights are drawn after the shared ones, so those do not depend on the kind
    kindWeights(config).init(config, () => rng.next(), arrays);
    return ScorerNetwork.build(config, numInternal, numItems, emb, arrays, '(init)');
  }

  /** Rebuilds a network from saved arrays (`embedding` plus the MLP names); `file` names the source in errors. */
  static fromArrays(config: ScorerConfig, numInternal: number, numItems: number, arrays: NamedArrays, file: string): ScorerNetwork {
    validateScorerConfig(config);
    const e = arrays.get('embedding');
    const want = (numInternal + numItems) * config.embDim;
    if (!e || e.data.length !== want) {
      throw new ModelFormatError(file, `embedding must hold ${want} values, found ${e ? e.data.length : 'none'}`);
    }
    return ScorerNetwork.build(config, numInternal, numItems, new Float32Array(e.data), arrays, file);
  }

  /**
   * A network over a given embedding table, used as is (not copied): worker
   * threads of the data-parallel trainer share one table in a
   * SharedArrayBuffer. `arrays` holds the MLP (and attention) weights.
   */
  static withTable(config: ScorerConfig, numInternal: number, numItems: number, table: Float32Array, arrays: NamedArrays, file: string): ScorerNetwork {
    validateScorerConfig(config);
    const want = (numInternal + numItems) * config.embDim;
    if (table.length !== want) throw new ModelFormatError(file, `embedding must hold ${want} values, found ${table.length}`);
    return ScorerNetwork.build(config, numInternal, numItems, table, arrays, file);
  }

  private static build(config: ScorerConfig, numInternal: number, numItems: number, emb: Float32Array, arrays: NamedArrays, file: string): ScorerNetwork {
    const v = variableMaker(arrays, file);
    const own = kindWeights(config).make(config, v);
    return new ScorerNetwork(config, numInternal, numItems, emb, makeMlp(config, v), own);
  }

  /** Every trainable tfjs variable with its saved name: the MLP, then the kind's own (the attention unit). */
  variables(): [string, tf.Variable][] {
    return [...mlpEntries(this.mlp), ...kindWeights(this.config).entries(this.kindParams)];
  }

  /** Every weight as a named array (embedding first), for saving or snapshots. */
  toArrays(): NamedArrays {
    const out: NamedArrays = new Map();
    out.set('embedding', { shape: [this.numRows, this.config.embDim], data: new Float32Array(this.emb) });
    for (const [name, a] of this.variableArrays()) out.set(name, a);
    return out;
  }

  /** The tfjs variables' weights as named arrays (no embedding table). */
  variableArrays(): NamedArrays {
    const out: NamedArrays = new Map();
    for (const [name, v] of this.variables()) out.set(name, { shape: v.shape.slice(), data: v.dataSync() as Float32Array });
    return out;
  }

  /** Overwrites the weights from a snapshot made by `toArrays()` (the table too when the snapshot has "embedding"). */
  restore(arrays: NamedArrays): void {
    const e = arrays.get('embedding');
    if (e) this.emb.set(e.data);
    for (const [name, v] of this.variables()) {
      const t = tf.tensor(arrays.get(name)!.data, v.shape);
      v.assign(t);
      t.dispose();
    }
  }

  /** Sets the path weight retrieval ranks this scorer's scores with (see ScorerConfig.pathWeight). */
  setPathWeight(w: number): void {
    this.config.pathWeight = w;
  }

  /** Frees the tfjs variables. */
  dispose(): void {
    for (const [, v] of this.variables()) v.dispose();
  }

  /** Length of the user vector: windows × embDim. */
  get userDim(): number {
    return this.config.windows.length * this.config.embDim;
  }

  /**
   * The user side: the most recent `sum(windows)` behaviours, window 0 the
   * latest, each window the mean of its items' embeddings (zeros if empty).
   * `rowOf` maps an item to the embedding row that represents it (default:
   * the item's own row; `Tree.levelRows(level)` for the hierarchical user
   * preference). Writes into `out` at `offset`; returns `out`.
   */
  userVector(history: Int32Array, out: Float32Array = new Float32Array(this.userDim), offset = 0, rowOf?: Int32Array): Float32Array {
    const d = this.config.embDim;
    const emb = this.emb;
    const base = this.numInternal;
    let pos = history.length - 1;
    const stop = Math.max(0, history.length - maxHistory(this.config));
    this.config.windows.forEach((size, w) => {
      const o = offset + w * d;
      out.fill(0, o, o + d);
      let count = 0;
      for (let j = 0; j < size && pos >= stop; j++, pos--) {
        const r = (rowOf ? rowOf[history[pos]] : base + history[pos]) * d;
        for (let t = 0; t < d; t++) out[o + t] += emb[r + t];
        count++;
      }
      if (count > 1) for (let t = 0; t < d; t++) out[o + t] /= count;
    });
    return out;
  }

  /** User halves of the first layer (bias included) for `n` user vectors ([n, windows·d]) at once: [n, h1]. */
  userHiddenRows(userVecs: Float32Array, n: number): Float32Array {
    const t = tf.tidy(() => tf.add(tf.matMul(tf.tensor2d(userVecs, [n, this.userDim]), this.mlp.userKernel as tf.Tensor2D), this.mlp.bias1));
    return takeData(t);
  }

  /** Copies the embedding rows `rows` into a [rows.length, d] array. */
  gatherRows(rows: Int32Array, out: Float32Array = new Float32Array(rows.length * this.config.embDim)): Float32Array {
    const d = this.config.embDim;
    const emb = this.emb;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i] * d;
      const o = i * d;
      for (let t = 0; t < d; t++) out[o + t] = emb[r + t];
    }
    return out;
  }

  /**
   * Logits for B users × M nodes each (training path, differentiable):
   * `user` [B, windows·d], `nodes` [B·M, d] → [B·M].
   */
  logits(user: tf.Tensor2D, nodes: tf.Tensor2D, m: number): tf.Tensor1D {
    const p = this.mlp;
    const hu = tf.add(matMulT(user, p.userKernel), p.bias1) as tf.Tensor2D;
    let h = userNodePrelu(hu, matMulT(nodes, p.nodeKernel), p.alpha1, m);
    for (const layer of p.layers) h = denseBiasPrelu(h, layer.kernel, layer.bias, layer.alpha);
    return tf.reshape(tf.add(matMulT(h, p.outKernel), p.outBias), [h.shape[0]]) as tf.Tensor1D;
  }

  /**
   * Logits for groups of users with a fixed number of nodes each (training
   * path): group g takes the next `users` rows of `user` and the next
   * `users · m` rows of `nodes`. With one group this is `logits`.
   */
  logitsGrouped(user: tf.Tensor2D, nodes: tf.Tensor2D, groups: { users: number; m: number }[]): tf.Tensor1D {
    if (groups.length === 1) return this.logits(user, nodes, groups[0].m);
    const p = this.mlp;
    const hu = tf.add(matMulT(user, p.userKernel), p.bias1) as tf.Tensor2D;
    const hn = matMulT(nodes, p.nodeKernel);
    const parts: tf.Tensor2D[] = [];
    let u0 = 0;
    let n0 = 0;
    for (const g of groups) {
      parts.push(userNodePrelu(tf.slice(hu, [u0, 0], [g.users, -1]), tf.slice(hn, [n0, 0], [g.users * g.m, -1]), p.alpha1, g.m));
      u0 += g.users;
      n0 += g.users * g.m;
    }
    let h = tf.concat(parts, 0) as tf.Tensor2D;
    for (const layer of p.layers) h = denseBiasPrelu(h, layer.kernel, layer.bias, layer.alpha);
    return tf.reshape(tf.add(matMulT(h, p.outKernel), p.outBias), [h.shape[0]]) as tf.Tensor1D;
  }

  /** The same logits through tfjs autodiff ops only (a reference for tests of the fast gradients). */
  logitsReference(user: tf.Tensor2D, nodes: tf.Tensor2D, m: number): tf.Tensor1D {
    const p = this.mlp;
    const h1 = p.userKernel.shape[1] as number;
    const hu = tf.add(tf.matMul(user, p.userKernel as tf.Tensor2D), p.bias1);
    const hn = tf.matMul(nodes, p.nodeKernel as tf.Tensor2D);
    const b = user.shape[0];
    let h = tf.prelu(tf.reshape(tf.add(tf.reshape(hn, [b, m, h1]), tf.expandDims(hu, 1)), [b * m, h1]), p.alpha1 as tf.Tensor) as tf.Tensor2D;
    for (const layer of p.layers) h = tf.prelu(tf.add(tf.matMul(h, layer.kernel as tf.Tensor2D), layer.bias), layer.alpha as tf.Tensor) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.matMul(h, p.outKernel as tf.Tensor2D), p.outBias), [b * m]) as tf.Tensor1D;
  }

  /** The user half of the first layer plus its bias, [h1], computed once per query. */
  userHidden(userVec: Float32Array): Float32Array {
    return this.userHiddenRows(userVec, 1);
  }

  /** Inference: logits of `n` nodes ([n, d] embeddings) for one user whose `userHidden` ([h1]) is given. */
  scoreNodes(userHidden: Float32Array, nodes: Float32Array, n: number): Float32Array {
    const p = this.mlp;
    const t = tf.tidy(() => {
      const x = tf.tensor2d(nodes, [n, this.config.embDim]);
      const h = tf.fused.matMul({ a: x, b: p.nodeKernel as tf.Tensor2D, bias: tf.tensor1d(userHidden), activation: 'prelu', preluActivationWeights: p.alpha1 });
      return this.upperLayers(h as tf.Tensor2D);
    });
    return takeData(t);
  }

  /**
   * Inference for many users at once: row i pairs node embedding `nodes[i]`
   * with user hidden `userHidden[i]` ([n, h1], from `userHidden()`).
   */
  scoreRows(userHidden: Float32Array, nodes: Float32Array, n: number): Float32Array {
    const p = this.mlp;
    const h1 = p.bias1.shape[0] as number;
    const t = tf.tidy(() => {
      const z = tf.add(tf.matMul(tf.tensor2d(nodes, [n, this.config.embDim]), p.nodeKernel as tf.Tensor2D), tf.tensor2d(userHidden, [n, h1]));
      return this.upperLayers(tf.prelu(z, p.alpha1 as tf.Tensor) as tf.Tensor2D);
    });
    return takeData(t);
  }

  /**
   * Inference for one or many users (the query path): row i pairs node
   * embedding `nodes[i]` ([n, d]) with the user-hidden row `users[i]` of
   * `userHidden` ([numUsers, h1], from `userHiddenRows`). One kernel for a
   * single query and for a batch, so both give bit-identical logits.
   */
  scoreUsers(userHidden: Float32Array, numUsers: number, users: Int32Array, nodes: Float32Array, n: number): Float32Array {
    const p = this.mlp;
    const h1 = p.bias1.shape[0] as number;
    const t = tf.tidy(() => {
      const hn = tf.matMul(tf.tensor2d(nodes, [n, this.config.embDim]), p.nodeKernel as tf.Tensor2D);
      // one user: broadcast its row; several: expand rows in JS (tf.gather is far slower on wasm).
      // Either way each element is the same single addition, so the logits agree bit for bit.
      const hu = numUsers === 1 ? tf.tensor1d(userHidden.subarray(0, h1)) : tf.tensor2d(this.expandRows(userHidden, users, n, h1), [n, h1]);
      return this.upperLayers(tf.prelu(tf.add(hn, hu), p.alpha1 as tf.Tensor) as tf.Tensor2D);
    });
    return takeData(t);
  }

  private expanded = new Float32Array(0);

  /** Row i of the result is row `users[i]` of `rows` ([*, w]); reuses one buffer. */
  private expandRows(rows: Float32Array, users: Int32Array, n: number, w: number): Float32Array {
    if (this.expanded.length < n * w) this.expanded = new Float32Array(n * w);
    const out = this.expanded.subarray(0, n * w);
    for (let i = 0; i < n; i++) {
      const u = users[i] * w;
      out.set(rows.subarray(u, u + w), i * w);
    }
    return out;
  }

  /** Hidden layers after the first, and the output logit (inference). */
  private upperLayers(h: tf.Tensor2D): tf.Tensor2D {
    const p = this.mlp;
    for (const layer of p.layers) {
      h = tf.fused.matMul({ a: h, b: layer.kernel as tf.Tensor2D, bias: layer.bias, activation: 'prelu', preluActivationWeights: layer.alpha }) as tf.Tensor2D;
    }
    return tf.fused.matMul({ a: h, b: p.outKernel as tf.Tensor2D, bias: p.outBias }) as tf.Tensor2D;
  }
}

/**
 * Copies a tensor's values out and disposes it. (Results leave tf.tidy as
 * tensors: tidy walks a returned typed array element by element.)
 */
function takeData(t: tf.Tensor): Float32Array {
  const out = t.dataSync() as Float32Array;
  t.dispose();
  return out;
}
