/**
 * Reduction of the shards' gradients of one step, always in shard order
 * (shard 0 first), so the summed gradient, and so the weights, depend only
 * on the seed and the number of shards, never on which thread finished
 * first. Floating-point addition is not associative: the fixed order is what
 * makes a run repeatable.
 *
 *  - MLP: every shard's gradient is one flat float32 vector (the variables
 *    of `ScorerNetwork.variables()` in order); their sum times the step's
 *    scale (1 / pairs) goes to the tfjs optimiser.
 *  - Embedding table: every shard's RowGradients; a row's gradients are fed
 *    to the sparse optimiser shard by shard. With several workers each one
 *    updates only its share of the rows (row mod count = index), so every
 *    row is updated exactly once per step, by one thread.
 */
import * as tf from '@tensorflow/tfjs';
import type { EmbeddingUpdater, RowShare } from './updater.js';
import type { RowGradients } from './row-gradients.js';

/** Writes `scale · (shards[0] + shards[1] + ...)` (summed left to right) into `out`; returns `out`. */
export function reduceFlat(shards: Float32Array[], scale: number, out: Float32Array): Float32Array {
  const n = out.length;
  out.set(shards[0].subarray(0, n));
  for (let j = 1; j < shards.length; j++) {
    const g = shards[j];
    for (let i = 0; i < n; i++) out[i] += g[i];
  }
  for (let i = 0; i < n; i++) out[i] *= scale;
  return out;
}

export type { RowShare } from './updater.js';

/** The whole table (a single thread). */
export const ALL_ROWS: RowShare = { index: 0, count: 1 };

/** Feeds `updater` the gradients of the rows in `share`, shard by shard in order, each scaled by `scale`. */
export function reduceRows(shards: RowGradients[], updater: Pick<EmbeddingUpdater, 'accumulate'>, scale: number, share: RowShare = ALL_ROWS): void {
  for (const g of shards) {
    const n = g.count;
    const rows = g.rows;
    const values = g.values;
    const dim = g.dim;
    if (share.count === 1) {
      for (let k = 0; k < n; k++) updater.accumulate(rows[k], values, k * dim, scale);
    } else {
      for (let k = 0; k < n; k++) if (rows[k] % share.count === share.index) updater.accumulate(rows[k], values, k * dim, scale);
    }
  }
}

/** Total length of the flat MLP gradient. */
export function flatSize(vars: [string, tf.Variable][]): number {
  return vars.reduce((s, [, v]) => s + v.size, 0);
}

/** One optimiser step of the tfjs variables with the flat gradient `flat`. */
export function applyFlat(optimizer: tf.Optimizer, vars: [string, tf.Variable][], flat: Float32Array): void {
  const named: tf.NamedTensorMap = {};
  let o = 0;
  for (const [, v] of vars) {
    named[v.name] = tf.tensor(flat.subarray(o, o + v.size), v.shape);
    o += v.size;
  }
  optimizer.applyGradients(named as unknown as tf.NamedTensorMap & Record<string, tf.Variable>);
  tf.dispose(Object.values(named));
}
