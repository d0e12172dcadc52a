/**
 * Paired comparison of two methods measured on the same users: the mean of
 * the per-user differences, or the ratio of the two means, with a percentile
 * bootstrap interval (users resampled with replacement, seeded, so the
 * interval is reproducible). The scorer ablation uses the difference to say
 * whether a gap in mean recall is larger than the spread over test users;
 * the main bench uses the ratio for JTM / TDM and JTM / brute force.
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
  const n = checkPaired(a, b, 'difference');
  const diff = Float64Array.from({ length: n }, (_, i) => a[i] - b[i]);
  const mean = diff.reduce((s, x) => s + x, 0) / n;
  const interval = bootstrapInterval(n, o, (draw) => {
    let s = 0;
    for (let i = 0; i < n; i++) s += diff[draw()];
    return s / n;
  });
  return { mean, ...interval, users: n };
}

/** Ratio of mean a to mean b over users and its bootstrap interval. */
export interface PairedRatio {
  /** mean(a) / mean(b) (Infinity when mean(b) is 0 and mean(a) is not; NaN when both are 0). */
  ratio: number;
  low: number;
  high: number;
  level: number;
  users: number;
}

/**
 * mean(a) / mean(b) over the same users and its percentile bootstrap
 * interval (both means taken on the same resampled users, so the pairing is
 * kept). Same errors as {@link pairedDifference}.
 */
export function pairedRatio(a: ArrayLike<number>, b: ArrayLike<number>, o: PairedDifferenceOptions): PairedRatio {
  const n = checkPaired(a, b, 'ratio');
  const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((s, x) => s + x, 0);
  const interval = bootstrapInterval(n, o, (draw) => {
    let sa = 0;
    let sb = 0;
    for (let i = 0; i < n; i++) {
      const j = draw();
      sa += a[j];
      sb += b[j];
    }
    return sa / sb;
  });
  return { ratio: sum(a) / sum(b), ...interval, users: n };
}

function checkPaired(a: ArrayLike<number>, b: ArrayLike<number>, what: string): number {
  if (a.length !== b.length) throw new UsageError(`paired ${what}: ${a.length} values against ${b.length}`);
  if (a.length === 0) throw new UsageError(`paired ${what}: no users`);
  return a.length;
}

/**
 * Percentile bootstrap interval of a statistic of n users: `stat` draws n
 * user indices (with replacement) from `draw` and returns the statistic of
 * that resample. Seeded, so the interval is reproducible.
 */
function bootstrapInterval(n: number, o: PairedDifferenceOptions, stat: (draw: () => number) => number): { low: number; high: number; level: number } {
  const level = o.level ?? 0.95;
  const resamples = o.resamples ?? 2000;
  if (!(level > 0 && level < 1)) throw new UsageError(`paired comparison: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 1) throw new UsageError(`paired comparison: resamples must be a positive integer, got ${resamples}`);
  const rng = new Rng(o.seed);
  const draw = () => rng.int(n);
  const stats = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) stats[r] = stat(draw);
  stats.sort(); // NaN (0 / 0) sorts last
  const at = (q: number) => stats[Math.min(resamples - 1, Math.max(0, Math.round(q * (resamples - 1))))];
  return { low: at((1 - level) / 2), high: at(1 - (1 - level) / 2), level };
}
