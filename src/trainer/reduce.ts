/**
 * Reduction of the shards' gradients of one step, always in shard order
 * (shard 0 first), so the summed gradient, and so the weights, depend only
 * on the seed and the number of shards, never on which thread finished
 * first. Floating-point addition is not associative: the fixed order is what
 * makes a run repeatable.
 *
 *  - MLP: every shard's gradient is one flat float32 vector (the variables
 *    of `ScorerNetwork.variables()` in order); their sum times the step's
 *    scale (1 / pairs) goes to the flat Adam (flat-adam.ts). With several
 *    workers each one sums and updates only its slice of the vector.
 *  - Embedding table: every shard's RowGradients; a row's gradients are fed
 *    to the sparse optimiser shard by shard. With several workers each one
 *    updates only its share of the rows (blocks of 16 rows, see ownsRow), so every
 *    row is updated exactly once per step, by one thread.
 */
import * as tf from '@tensorflow/tfjs';
import { ownsRow, type EmbeddingUpdater, type RowShare } from './updater.js';
import type { RowGradients } from './row-gradients.js';

/** Writes `scale · (shards[0] + shards[1] + ...)` (summed left to right) into `out[lo, hi)`; returns `out`. */
export function reduceFlat(shards: Float32Array[], scale: number, out: Float32Array, lo = 0, hi = out.length): Float32Array {
  out.set(shards[0].subarray(lo, hi), lo);
  for (let j = 1; j < shards.length; j++) {
    const g = shards[j];
    for (let i = lo; i < hi; i++) out[i] += g[i];
  }
  for (let i = lo; i < hi; i++) out[i] *= scale;
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
    for (let k = 0; k < n; k++) if (ownsRow(share, rows[k])) updater.accumulate(rows[k], values, k * dim, scale);
  }
}

/** Total length of the flat MLP gradient. */
export function flatSize(vars: [string, tf.Variable][]): number {
  return vars.reduce((s, [, v]) => s + v.size, 0);
}

/** The variables' values as one flat vector (written into `out[lo, hi)`, all of it by default). */
export function readFlat(vars: [string, tf.Variable][], out: Float32Array, lo = 0, hi = out.length): Float32Array {
  let o = 0;
  for (const [, v] of vars) {
    const a = Math.max(lo, o);
    const b = Math.min(hi, o + v.size);
    if (a < b) out.set((v.dataSync() as Float32Array).subarray(a - o, b - o), a);
    o += v.size;
  }
  return out;
}

/** Sets the variables to the values of the flat vector `flat` (copied: a backend may keep the array it is given, and `flat` changes at the next step). */
export function assignFlat(vars: [string, tf.Variable][], flat: Float32Array): void {
  let o = 0;
  for (const [, v] of vars) {
    const t = tf.tensor(flat.slice(o, o + v.size), v.shape);
    v.assign(t);
    t.dispose();
    o += v.size;
  }
}
