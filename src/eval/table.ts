/** Human-readable renderings of an {@link EvalReport}. */
import { methodLabel, metricsAt, type EvalReport } from './evaluate.js';

/** Shown for a k a method was not evaluated at (a beam below that k). */
const NOT_EVALUATED = '–';

/**
 * Header and body cells shared by both renderings. A "build s" column
 * (seconds to build or train before the first query) appears when some
 * method reports one.
 */
function tableCells(report: EvalReport): { header: string[]; rows: string[][] } {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const withBuild = report.methods.some((m) => m.buildSeconds !== undefined);
  const header = [
    'method',
    ...report.ks.flatMap((k) => [`recall@${k}`, `precision@${k}`, `F@${k}`]),
    'pairs/query',
    'ms/query p50',
    ...(withBuild ? ['build s'] : []),
  ];
  const rows = report.methods.map((m) => [
    methodLabel(m.name, m.beam, m.pathWeight),
    ...report.ks.flatMap((k) => {
      const x = metricsAt(m, k);
      return x ? [pct(x.recall), pct(x.precision), pct(x.f)] : [NOT_EVALUATED, NOT_EVALUATED, NOT_EVALUATED];
    }),
    m.pairsPerQuery.toFixed(1),
    m.msPerQuery.p50.toFixed(3),
    ...(withBuild ? [m.buildSeconds === undefined ? '' : m.buildSeconds.toFixed(1)] : []),
  ]);
  return { header, rows };
}

/**
 * A fixed-width text table: one row per method (one per beam width for beam
 * search), recall/precision/F at each k as percentages ("–" where a beam is
 * below k), mean pairs scored per query and median ms per query.
 */
export function formatEvalTable(report: EvalReport): string {
  const { header, rows } = tableCells(report);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** The same table as {@link formatEvalTable}, as GitHub-flavoured markdown. */
export function formatMarkdownTable(report: EvalReport): string {
  const { header, rows } = tableCells(report);
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  const align = `| ${header.map((_, c) => (c === 0 ? ':---' : '---:')).join(' | ')} |`;
  return [line(header), align, ...rows.map(line)].join('\n');
}
