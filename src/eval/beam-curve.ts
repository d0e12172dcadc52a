/**
 * The property a beam search owes its users: recall never falls as the beam
 * widens, and exhaustive search (brute force with the same scorer) is at
 * least as good as the best beam. Checked on per-user recall of the same
 * test users at every width, so each comparison is paired: a width "falls"
 * below a narrower one (or brute force below a beam) only when the whole
 * bootstrap interval of the difference lies below zero. Used by the bench
 * (every data set's recall-vs-beam curve) and by the calibration test.
 */
import { UsageError } from '../core/errors.js';
import { pairedDifference, type PairedDifference } from './paired.js';

/** One point of the curve: a beam width and each test user's recall there. */
export interface CurvePoint {
  beam: number;
  userRecall: ArrayLike<number>;
}

/** One paired comparison: `wider` (a width, or "brute-force") against `narrower`. */
export interface CurveStep {
  narrower: number;
  wider: number | 'brute-force';
  /** recall(wider) − recall(narrower) over the users, with its interval. */
  diff: PairedDifference;
  /** The whole interval lies below zero. */
  falls: boolean;
}

/** The verdict on a curve. */
export interface CurveCheck {
  /** No width falls below a narrower one and brute force falls below no width. */
  holds: boolean;
  /** Every comparison that was made, widths ascending. */
  steps: CurveStep[];
  /** The comparison that falls furthest (the smallest interval top), if any. */
  worst?: CurveStep;
}

/**
 * Checks the curve: every width against every narrower one, and brute force
 * against every width. Points may come in any order; widths must be distinct.
 */
export function checkBeamCurve(points: readonly CurvePoint[], bruteForce: ArrayLike<number>, o: { seed: number; level?: number }): CurveCheck {
  const sorted = [...points].sort((a, b) => a.beam - b.beam);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].beam === sorted[i - 1].beam) throw new UsageError(`beam width ${sorted[i].beam} appears twice in the curve`);
  }
  const steps: CurveStep[] = [];
  const add = (narrower: CurvePoint, wider: number | 'brute-force', recall: ArrayLike<number>) => {
    const diff = pairedDifference(recall, narrower.userRecall, { seed: o.seed, ...(o.level ? { level: o.level } : {}) });
    steps.push({ narrower: narrower.beam, wider, diff, falls: diff.high < 0 });
  };
  sorted.forEach((p, j) => {
    for (let i = 0; i < j; i++) add(sorted[i], p.beam, p.userRecall);
  });
  for (const p of sorted) add(p, 'brute-force', bruteForce);
  const falling = steps.filter((s) => s.falls);
  const worst = falling.length > 0 ? falling.reduce((a, b) => (b.diff.high < a.diff.high ? b : a)) : undefined;
  return { holds: falling.length === 0, steps, ...(worst ? { worst } : {}) };
}
