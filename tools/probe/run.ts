/**
 * The hostile-input probe: runs every case (input formats, the store, the
 * model folder, the HTTP service, command lines, and faults: kill -9, a
 * full disk, read-only files, a locked or corrupt store) against the built
 * CLI, and writes the outcome table into docs/HOSTILE-INPUT.md (between its
 * probe markers) and docs/hostile-probe.json.
 *
 *   npm run build && node dist/tools/probe/run.js [--only AREA,...] [--keep]
 *   node dist/tools/probe/run.js --report    (re-render the table from docs/hostile-probe.json)
 *
 * Faults that need a private mount (a small tmpfs for a full disk, a
 * read-only bind mount) run when the probe runs as root with `unshare`;
 * fault injection at a chosen system call needs `strace`. Otherwise those
 * cases are reported as not run. It takes a few minutes (most cases start
 * the CLI) and uses one core.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arbor, ROOT, type CaseResult } from './harness.js';
import { Probe } from './probe.js';
import { formatCases } from './formats.js';
import { storeCases } from './store.js';
import { modelCases } from './model.js';
import { httpCases } from './http.js';
import { optionCases } from './options.js';
import { faultCases } from './faults.js';
import { renderReport } from './report.js';

const AREAS: Record<string, (p: Probe) => Promise<void>> = {
  format: formatCases,
  store: storeCases,
  model: modelCases,
  http: httpCases,
  options: optionCases,
  fault: faultCases,
};

const JSON_FILE = join(ROOT, 'docs', 'hostile-probe.json');
const DOC = join(ROOT, 'docs', 'HOSTILE-INPUT.md');

/** Writes the results (scratch paths shown as <scratch>) and the table in the doc. */
function write(results: CaseResult[], base: string): void {
  const clean = base ? (JSON.parse(JSON.stringify(results).split(base).join('<scratch>')) as CaseResult[]) : results;
  writeFileSync(JSON_FILE, JSON.stringify(clean, null, 1) + '\n');
  writeFileSync(DOC, renderReport(readFileSync(DOC, 'utf8'), clean));
  process.stderr.write(`probe: wrote docs/hostile-probe.json and the table in docs/HOSTILE-INPUT.md\n`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('--report')) {
    // re-render the table from the last run's results (after editing the report or the fixes list)
    write(JSON.parse(readFileSync(JSON_FILE, 'utf8')) as CaseResult[], '');
    return;
  }
  const onlyAt = args.indexOf('--only');
  const only = onlyAt >= 0 ? args[onlyAt + 1].split(',') : Object.keys(AREAS);
  const keep = args.includes('--keep');
  const base = mkdtempSync(join(tmpdir(), 'arbor-probe-'));
  chmodSync(base, 0o755); // cases run as an unprivileged user must reach the fixtures
  process.stderr.write(`probe: scratch folder ${base}\n`);
  const need = (r: ReturnType<typeof arbor>, what: string) => {
    if (r.code !== 0) throw new Error(`probe setup failed at ${what}: ${r.stderr}`);
  };
  // fixtures: a small synthetic store with a split and a briefly trained model
  need(arbor(['synth', '--out', 'ub.csv', '--items', '400', '--users', '150', '--seed', '7'], { cwd: base }), 'synth');
  need(arbor(['ingest', 'ub.csv', '--format', 'userbehavior', '--db', 'store.db'], { cwd: base }), 'ingest');
  need(arbor(['split', '--db', 'store.db', '--test-users', '20', '--valid-users', '10', '--seed', '7'], { cwd: base }), 'split');
  need(arbor(['build-tree', '--db', 'store.db', '--out', 'model', '--seed', '7'], { cwd: base }), 'build-tree');
  need(arbor(['train', '--db', 'store.db', '--model', 'model', '--epochs', '1', '--max-samples', '2000', '--emb-dim', '8', '--workers', '0', '--seed', '7'], { cwd: base }), 'train');
  const p = new Probe(base, join(base, 'store.db'), join(base, 'model'), join(base, 'ub.csv'));
  for (const area of only) {
    if (!AREAS[area]) throw new Error(`unknown area ${area} (known: ${Object.keys(AREAS).join(', ')})`);
    await AREAS[area](p);
  }
  const failed = p.results.filter((r) => !r.pass);
  const skipped = p.results.filter((r) => r.skipped);
  process.stderr.write(`probe: ${p.results.length} cases, ${p.results.length - failed.length - skipped.length} as expected, ${failed.length} not, ${skipped.length} not run\n`);
  if (onlyAt < 0) write(p.results, base);
  if (!keep) rmSync(base, { recursive: true, force: true });
  process.exitCode = failed.length > 0 ? 1 : 0;
}

await main();
