/**
 * Weighted sampling from cumulative tables by binary search.
 */
import type { Rng } from '../core/rng.js';

/** Running sums of `weights`. */
export function cumulative(weights: ArrayLike<number>): Float64Array {
  const cum = new Float64Array(weights.length);
  let sum = 0;
  for (let i = 0; i < weights.length; i++) cum[i] = sum += weights[i];
  return cum;
}

/** Running sums of the Zipf weights 1/(r+1)^exponent for ranks r = 0..n-1. */
export function zipfCumulative(n: number, exponent: number): Float64Array {
  const cum = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cum[r] = sum += Math.pow(r + 1, -exponent);
  return cum;
}

/**
 * An index in [0, n) drawn with probability proportional to its weight,
 * where `cum` holds running sums of weights and only its first n entries count.
 */
export function sampleCumulative(cum: Float64Array, n: number, rng: Rng): number {
  const target = rng.next() * cum[n - 1];
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] > target) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
