/**
 * Retrieval quality under the TDM paper's protocol: precision@k, recall@k and
 * F@k are computed for each user, then averaged over users.
 */
import { UsageError, assertPositiveInteger } from '../core/errors.js';

/** Precision, recall and F-measure at one cut-off k. */
export interface MetricsAtK {
  k: number;
  precision: number;
  recall: number;
  f: number;
}

/** Metrics at one cut-off, averaged over `users` users. */
export interface AveragedMetrics extends MetricsAtK {
  users: number;
}

/** Throws a UsageError unless `ks` is a non-empty list of positive integers. */
export function validateKs(ks: readonly number[]): void {
  if (ks.length === 0) throw new UsageError('at least one k is needed');
  for (const k of ks) assertPositiveInteger('k', k);
}

/** Harmonic mean of precision and recall; 0 when both are 0. */
export function fMeasure(precision: number, recall: number): number {
  const sum = precision + recall;
  return sum === 0 ? 0 : (2 * precision * recall) / sum;
}

/**
 * For each k of `ks`, how many truth items are among the first k ranked items
 * (all of them when the list is shorter). An item repeated in the list counts once.
 * Throws a UsageError unless `ks` is a non-empty list of positive integers.
 */
export function hitsAt(ranked: Int32Array, truth: ReadonlySet<number>, ks: readonly number[]): number[] {
  validateKs(ks);
  const depth = Math.min(Math.max(...ks), ranked.length);
  // cumulative[d] = hits among the first d ranked items.
  const cumulative = new Int32Array(depth + 1);
  const found = new Set<number>();
  for (let d = 0; d < depth; d++) {
    const item = ranked[d];
    const hit = truth.has(item) && !found.has(item);
    if (hit) found.add(item);
    cumulative[d + 1] = cumulative[d] + (hit ? 1 : 0);
  }
  return ks.map((k) => cumulative[Math.min(k, depth)]);
}

/**
 * One user's metrics at each k of `ks`, from a ranked list (best first) and
 * the user's distinct truth items. Precision divides by k even when the list
 * is shorter than k; recall is 0 when the truth is empty. Validates `ks` like {@link hitsAt}.
 */
export function userMetrics(ranked: Int32Array, truth: ReadonlySet<number>, ks: readonly number[]): MetricsAtK[] {
  const hits = hitsAt(ranked, truth, ks);
  return ks.map((k, i) => {
    const precision = hits[i] / k;
    const recall = truth.size === 0 ? 0 : hits[i] / truth.size;
    return { k, precision, recall, f: fMeasure(precision, recall) };
  });
}

/** Averages per-user metrics over users, taking one user at a time. */
export class MetricsAccumulator {
  /** The cut-offs, in the order given. */
  readonly ks: readonly number[];
  /** Running sums of precision, recall and F: three slots per k. */
  private readonly sums: Float64Array;
  private count = 0;

  /** Throws a UsageError unless `ks` is a non-empty list of positive integers. */
  constructor(ks: readonly number[]) {
    validateKs(ks);
    this.ks = [...ks];
    this.sums = new Float64Array(3 * ks.length);
  }

  /** Adds one user (ranked list best first, distinct truth items) and returns that user's metrics. */
  add(ranked: Int32Array, truth: ReadonlySet<number>): MetricsAtK[] {
    const metrics = userMetrics(ranked, truth, this.ks);
    metrics.forEach((m, i) => {
      this.sums[3 * i] += m.precision;
      this.sums[3 * i + 1] += m.recall;
      this.sums[3 * i + 2] += m.f;
    });
    this.count++;
    return metrics;
  }

  /** Number of users added so far. */
  get users(): number {
    return this.count;
  }

  /** Metrics averaged over the users added so far (zeros before the first user), one entry per k. */
  result(): AveragedMetrics[] {
    const n = Math.max(this.count, 1);
    return this.ks.map((k, i) => ({
      k,
      precision: this.sums[3 * i] / n,
      recall: this.sums[3 * i + 1] / n,
      f: this.sums[3 * i + 2] / n,
      users: this.count,
    }));
  }
}
