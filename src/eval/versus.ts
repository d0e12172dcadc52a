/**
 * One method against every other method of an evaluation, at one k: the
 * ratio of their mean recalls over the same test users with a paired
 * bootstrap interval, and a verdict that says "ahead" only when the whole
 * interval is above 1 ("behind" only when it is below). The demo prints
 * these so that a reader sees at once which rows beat arbor's beam search.
 */
import { UsageError } from '../core/errors.js';
import type { EvalReport, MethodReport } from './evaluate.js';
import { pairedRatio } from './paired.js';

/** How a method compares to another at one k. */
export type Verdict = 'ahead' | 'level' | 'behind';

/** The reference method against one other method. */
export interface Versus {
  /** The other method's name (as in MethodReport.name) and beam, if any. */
  name: string;
  beam?: number;
  k: number;
  /** Mean recall@k of the reference and of the other method. */
  recall: number;
  otherRecall: number;
  /** recall / otherRecall and its bootstrap interval at `level`. */
  ratio: number;
  low: number;
  high: number;
  level: number;
  /** The reference's standing: ahead when low > 1, behind when high < 1, else level. */
  verdict: Verdict;
  /** The reference's mean pairs scored per query over the other's (the other's 0 gives Infinity). */
  pairsRatio: number;
}

/** The entry of a method's metrics at k, or -1. */
function indexAt(m: MethodReport, k: number): number {
  return m.metrics.findIndex((x) => x.k === k);
}

/**
 * Compares `ref` with every other method of `report` that was evaluated at
 * k. The report must carry per-user recall (EvaluateOptions.perUser); a
 * UsageError says so otherwise, or when `ref` has no entry at k.
 */
export function versusAll(report: EvalReport, ref: MethodReport, k: number, seed: number): Versus[] {
  const i = indexAt(ref, k);
  if (i < 0) throw new UsageError(`versus: ${ref.name} was not evaluated at k ${k}`);
  if (!ref.userRecall) throw new UsageError('versus: the report has no per-user recall (evaluate with perUser)');
  const mine = ref.userRecall[i];
  const out: Versus[] = [];
  for (const m of report.methods) {
    const j = indexAt(m, k);
    if (m === ref || j < 0 || !m.userRecall) continue;
    const r = pairedRatio(mine, m.userRecall[j], { seed });
    const verdict: Verdict = r.low > 1 ? 'ahead' : r.high < 1 ? 'behind' : 'level';
    out.push({
      name: m.name,
      ...(m.beam !== undefined ? { beam: m.beam } : {}),
      k,
      recall: ref.metrics[i].recall,
      otherRecall: m.metrics[j].recall,
      ratio: r.ratio,
      low: r.low,
      high: r.high,
      level: r.level,
      verdict,
      pairsRatio: ref.pairsPerQuery / m.pairsPerQuery,
    });
  }
  return out;
}
