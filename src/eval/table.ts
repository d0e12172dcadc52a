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

/** Shown for a metric a report does not have (no categories or training counts, or a report without it). */
const ABSENT = '—';

/** Header and body cells of the beyond-recall table: one row per method and evaluated k. */
function beyondCells(report: EvalReport): { header: string[]; rows: string[][] } {
  const pct = (x: number | undefined) => (x == null ? ABSENT : `${(x * 100).toFixed(2)}%`);
  const bits = (x: number | undefined) => (x == null ? ABSENT : x.toFixed(2));
  const header = ['method', 'k', 'nDCG', 'hit rate', 'coverage', 'novelty bits', 'diversity', 'new-category recall'];
  const rows = report.methods.flatMap((m) =>
    m.metrics.map((x) => [
      methodLabel(m.name, m.beam, m.pathWeight),
      String(x.k),
      pct(x.ndcg),
      pct(x.hitRate),
      pct(x.coverage),
      bits(x.novelty),
      pct(x.diversity),
      `${pct(x.newCategoryRecall)}${x.newCategoryUsers === undefined ? '' : ` (${x.newCategoryUsers} users)`}`,
    ]),
  );
  return { header, rows };
}

/**
 * The metrics beyond recall as a fixed-width text table, one row per method
 * and k: nDCG, hit rate, coverage, novelty (bits), diversity and
 * new-category recall with its number of users ("—" where not computed).
 */
export function formatBeyondTable(report: EvalReport): string {
  const { header, rows } = beyondCells(report);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** The same table as {@link formatBeyondTable}, as GitHub-flavoured markdown. */
export function formatMarkdownBeyondTable(report: EvalReport): string {
  const { header, rows } = beyondCells(report);
  const line = (cells: string[]) => `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  const align = `| ${header.map((_, c) => (c === 0 ? ':---' : '---:')).join(' | ')} |`;
  return [line(header), align, ...rows.map(line)].join('\n');
}
