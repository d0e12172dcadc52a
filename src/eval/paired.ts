/**
 * Paired comparison of two methods measured on the same users: the mean of
 * the per-user differences and a percentile bootstrap interval for it
 * (users resampled with replacement, seeded, so the interval is
 * reproducible). Used by the scorer ablation to say whether a gap in mean
 * recall is larger than the spread over test users.
 */
import { UsageError } from '../core/errors.js';
import { Rng } from '../core/rng.js';

/** Mean of a − b over users and its bootstrap interval. */
export interface PairedDifference {
  mean: number;
  /** Lower and upper ends of the interval at `level`. */
  low: number;
  high: number;
  level: number;
  users: number;
}

/** Options of {@link pairedDifference}. */
export interface PairedDifferenceOptions {
  seed: number;
  /** Bootstrap resamples (default 2000). */
  resamples?: number;
  /** Two-sided coverage of the interval (default 0.95). */
  level?: number;
}

/**
 * Mean of a[i] − b[i] and its percentile bootstrap interval. Throws a
 * UsageError when the arrays differ in length or are empty, or on a bad level.
 */
export function pairedDifference(a: ArrayLike<number>, b: ArrayLike<number>, o: PairedDifferenceOptions): PairedDifference {
  const n = a.length;
  if (n !== b.length) throw new UsageError(`paired difference: ${n} values against ${b.length}`);
  if (n === 0) throw new UsageError('paired difference: no users');
  const level = o.level ?? 0.95;
  const resamples = o.resamples ?? 2000;
  if (!(level > 0 && level < 1)) throw new UsageError(`paired difference: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new UsageError(`paired difference: resamples must be a positive integer, got ${resamples}`);
  const diff = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const mean = diff.reduce((s, x) => s + x, 0) / n;
  const rng = new Rng(o.seed);
  const means = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += diff[rng.int(n)];
    means[r] = s / n;
  }
  means.sort();
  const at = (q: number) => means[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { mean, low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), level, users: n };
}
