/**
 * The recall-vs-beam curve of the bench (bench/run.ts): one model evaluated
 * on the test users at beam widths 25 … 1600 and by brute force with the same
 * scorer, each width at every k <= it; the per-set table for
 * docs/BENCHMARKS.md and the plot docs/recall-curve.svg (truth recall at one
 * fixed k against queries/s on one thread, one line per data set, brute force
 * as each line's end point).
 */
import type { Logger } from '../src/core/log.js';
import type { Store } from '../src/data/store.js';
import { checkBeamCurve } from '../src/eval/beam-curve.js';
import { metricsAt } from '../src/eval/evaluate.js';
import type { Model } from '../src/model/folder.js';
import { evaluateModel } from '../src/pipeline/ops.js';
import { renderLinePlot } from './line-plot.js';

/** Beam widths the curve sweeps. */
export const CURVE_BEAMS = [25, 50, 100, 200, 400, 800, 1600];
/** The k the plot compares at (widths below it are in the table only). */
export const CURVE_K = 50;

/** One width (or brute force) on the curve. */
export interface CurvePoint {
  /** The beam width; absent for brute force. */
  beam?: number;
  /** Truth recall at each evaluated k (k <= beam). */
  recall: { k: number; recall: number }[];
  pairsPerQuery: number;
  msPerQuery: { mean: number; p50: number; p95: number };
  /** 1000 / mean ms per query: one thread, one query at a time. */
  queriesPerSecond: number;
}

/** Whether recall never falls as the beam widens and brute force is the ceiling, at one k (see checkBeamCurve). */
export interface CurveProperty {
  k: number;
  holds: boolean;
  /** The comparison that falls furthest, when one does: recall(wider) − recall(narrower), mean and 95 % interval. */
  worst?: { narrower: number; wider: number | 'brute-force'; mean: number; low: number; high: number };
}

/** A data set's curve. */
export interface BeamCurve {
  /** Which model of the set it measures. */
  model: string;
  /** The path weight of the search (see RetrieveOptions.pathWeight; absent in curves measured before it existed: 0, the node rule). */
  pathWeight?: number;
  ks: number[];
  users: number;
  points: CurvePoint[];
  /** The property at each k, on the widths that reach it (paired bootstrap over the test users, 95 %). */
  property?: CurveProperty[];
}

/**
 * Evaluates `model` at every width of CURVE_BEAMS and by brute force on the
 * store's test users, and checks the property at each k; `pathWeight`
 * overrides the model's own.
 */
export function beamCurve(store: Store, model: Model, label: string, ks: number[], seed: number, logger: Logger, pathWeight?: number): BeamCurve {
  const widths = CURVE_BEAMS.filter((b) => b >= Math.min(...ks));
  const report = evaluateModel(store, model, { ks, beam: widths, ...(pathWeight === undefined ? {} : { pathWeight }), oracle: true, baselines: [], maxUsers: 0, seed, perUser: true }, logger);
  const brute = report.methods.find((m) => m.beam === undefined)!;
  const property = ks.map((k): CurveProperty => {
    const userRecallAt = (m: (typeof report.methods)[number]) => m.userRecall![m.metrics.findIndex((x) => x.k === k)];
    const points = report.methods.filter((m) => m.beam !== undefined && m.beam >= k).map((m) => ({ beam: m.beam!, userRecall: userRecallAt(m) }));
    const check = checkBeamCurve(points, userRecallAt(brute), { seed });
    const w = check.worst;
    return { k, holds: check.holds, ...(w ? { worst: { narrower: w.narrower, wider: w.wider, mean: w.diff.mean, low: w.diff.low, high: w.diff.high } } : {}) };
  });
  return {
    model: label,
    pathWeight: report.pathWeight,
    ks,
    users: report.users,
    property,
    points: report.methods.map((m) => ({
      ...(m.beam === undefined ? {} : { beam: m.beam }),
      recall: m.metrics.map(({ k, recall }) => ({ k, recall })),
      pairsPerQuery: m.pairsPerQuery,
      msPerQuery: m.msPerQuery,
      queriesPerSecond: m.msPerQuery.mean > 0 ? 1000 / m.msPerQuery.mean : Infinity,
    })),
  };
}

const pct = (x: number | undefined) => (x === undefined ? '–' : `${(x * 100).toFixed(2)}%`);
const recallAt = (p: CurvePoint, k: number) => p.recall.find((r) => r.k === k)?.recall;

/** The Markdown table of one curve: a row per width and brute force. */
export function curveTable(c: BeamCurve): string {
  return [
    `| search | ${c.ks.map((k) => `recall@${k}`).join(' | ')} | pairs/query | ms/query p50 | queries/s (one thread) |`,
    `| :--- | ${c.ks.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
    ...c.points.map(
      (p) =>
        `| ${p.beam === undefined ? 'brute force' : `beam ${p.beam}`} | ${c.ks.map((k) => pct(recallAt(p, k))).join(' | ')} | ${Math.round(p.pairsPerQuery).toLocaleString('en-US')} | ${p.msPerQuery.p50.toFixed(2)} | ${Math.round(p.queriesPerSecond).toLocaleString('en-US')} |`,
    ),
  ].join('\n');
}

/** One line on the property: holds at every k, or where it breaks. */
export function propertyLine(c: BeamCurve): string {
  if (!c.property) return '';
  const pts = (x: number) => `${(x * 100).toFixed(2)}`;
  const parts = c.property.map((p) => {
    if (p.holds) return `recall@${p.k}: holds`;
    const w = p.worst!;
    return `recall@${p.k}: **fails**, ${w.wider === 'brute-force' ? 'brute force' : `beam ${w.wider}`} − beam ${w.narrower} = ${pts(w.mean)} points (95 % interval ${pts(w.low)} to ${pts(w.high)})`;
  });
  return `Wider beam never worse, brute force the ceiling (paired 95 % intervals over the test users): ${parts.join('; ')}.`;
}

/** The page section: how to read the curve, then each set's table. */
export function curveSection(sets: { title: string; curve?: BeamCurve; pathCurve?: BeamCurve; nodeCurve?: BeamCurve; modelPathWeight?: number }[], svgName: string): string {
  const with_ = sets.filter((s) => s.curve);
  if (with_.length === 0) return '';
  const out = [
    '',
    '## Recall against beam width',
    '',
    `Each set's model (named per table) on its test users, beam search at widths ${CURVE_BEAMS.join(', ')} and brute force with the same scorer; ` +
      'a width is evaluated at the ks it reaches (beam search returns at most beam items: – above it). ' +
      'Queries/s: 1000 / mean ms per query, one query at a time on one thread, all widths of a set measured one after another in the same process. ' +
      `The plot shows recall@${CURVE_K} against queries/s, one line per set from the narrowest width to brute force (the square); ` +
      'read along a line: moving left costs speed, and the line should rise or stay level up to the square (a wider beam never loses recall, and brute force is the ceiling).',
    '',
    `![recall@${CURVE_K} against queries/s](${svgName})`,
    '',
  ];
  for (const s of with_) {
    out.push(`### ${s.title}: ${s.curve!.model}`, '', `${s.curve!.users} test users; path weight ${s.curve!.pathWeight ?? s.modelPathWeight ?? 0}${s.curve!.pathWeight === undefined || s.curve!.pathWeight === s.modelPathWeight ? ' (chosen on the validation users)' : ''}.`, '', curveTable(s.curve!), '', propertyLine(s.curve!), '');
    for (const [c, what] of [
      [s.pathCurve, 'the path rule (w = 1: the sum of log σ over the whole path)'],
      [s.nodeCurve, "the calibration off (the node rule, w = 0: each node's own score, as in the TDM paper)"],
    ] as [BeamCurve | undefined, string][]) {
      if (c) out.push(`The same model with ${what}:`, '', curveTable(c), '', propertyLine(c), '');
    }
  }
  return out.join('\n');
}

/** docs/recall-curve.svg: recall@CURVE_K against queries/s, one line per set, brute force as the end point. */
export function renderCurveSvg(sets: { title: string; curve?: BeamCurve }[]): string {
  const series = sets
    .filter((s) => s.curve && s.curve.ks.includes(CURVE_K))
    .map((s) => {
      const c = s.curve!;
      const point = (p: CurvePoint) => ({
        x: p.queriesPerSecond,
        y: recallAt(p, CURVE_K)!,
        tag: p.beam === undefined ? undefined : String(p.beam),
        title: `${s.title}: ${p.beam === undefined ? 'brute force' : `beam ${p.beam}`}, recall@${CURVE_K} ${pct(recallAt(p, CURVE_K))}, ${Math.round(p.queriesPerSecond)} queries/s`,
      });
      const beams = c.points.filter((p) => p.beam !== undefined && recallAt(p, CURVE_K) !== undefined).sort((a, b) => a.beam! - b.beam!);
      const brute = c.points.find((p) => p.beam === undefined);
      return { label: s.title, points: beams.map(point), ...(brute ? { end: point(brute) } : {}) };
    });
  return renderLinePlot({
    title: `Recall@${CURVE_K} of the held-out items against queries/s`,
    subtitle: `beam widths ${CURVE_BEAMS.filter((b) => b >= CURVE_K).join(', ')} (numbers by the points), then brute force with the same scorer (square)`,
    xLabel: 'queries per second, one thread (log scale)',
    yLabel: `recall@${CURVE_K} (log scale)`,
    xLog: true,
    yLog: true,
    yFormat: (y) => `${Number((y * 100).toPrecision(3))}%`,
    series,
    endLabel: 'brute force (same scorer)',
  });
}
