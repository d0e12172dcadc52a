/** Human-readable renderings of an {@link EvalReport}. */
import { methodLabel, type EvalReport } from './evaluate.js';

/** Header and body cells shared by both renderings. */
function tableCells(report: EvalReport): { header: string[]; rows: string[][] } {
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const header = [
    'method',
    ...report.ks.flatMap((k) => [`recall@${k}`, `precision@${k}`, `F@${k}`]),
    'pairs/query',
    'ms/query p50',
  ];
  const rows = report.methods.map((m) => [
    methodLabel(m.name, m.beam),
    ...m.metrics.flatMap((x) => [pct(x.recall), pct(x.precision), pct(x.f)]),
    m.pairsPerQuery.toFixed(1),
    m.msPerQuery.p50.toFixed(3),
  ]);
  return { header, rows };
}

/**
 * A fixed-width text table: one row per method, recall/precision/F at each k
 * as percentages, mean pairs scored per query and median ms per query.
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
