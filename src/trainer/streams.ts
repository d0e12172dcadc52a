/**
 * The random streams of training. Every draw of a training run comes from a
 * generator derived from the run's seed and a position, never from a stream
 * shared across steps, so the draws do not depend on how a batch is split
 * over worker threads, on thread timing, or on what ran before:
 *
 *  - the order of an epoch's samples from (seed, epoch);
 *  - everything drawn for one sample (its negatives, or whatever a batch
 *    producer draws) from (seed, epoch, the sample's position in that
 *    epoch's order).
 *
 * The same seed therefore gives the same pairs with any number of workers
 * and any batch size; only the float rounding of the summed gradients
 * depends on how a batch is split.
 */
import { Rng, deriveSeed } from '../core/rng.js';
import { shuffledOrder } from './samples.js';

/** Key separating the epoch-order streams from the per-sample streams. */
const ORDER = 0x0de;
const SAMPLE = 0x5a3;

/**
 * The sample indices of epoch `epoch` (1-based) in training order: a seeded
 * permutation of 0..total-1, cut to the first `cap` when cap > 0.
 */
export function epochOrder(seed: number, epoch: number, total: number, cap = 0): Int32Array {
  const order = shuffledOrder(total, new Rng(deriveSeed(seed, ORDER, epoch)));
  return cap > 0 && order.length > cap ? order.subarray(0, cap) : order;
}

/** The generator of the sample at `position` of epoch `epoch`'s order. */
export function sampleRng(seed: number, epoch: number, position: number): Rng {
  return new Rng(deriveSeed(seed, SAMPLE, epoch, position));
}
