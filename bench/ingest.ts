/**
 * Ingest speed and memory (`npm run bench -- --only ingest`, or
 * `node dist/bench/ingest.js`).
 *
 * A seeded synthetic UserBehavior CSV (`--events` events, default 2M, over
 * 200k items, 20-180 events a user as in the real set's ~100) is loaded, in
 * turns, by the reference and by `arbor ingest FILE --format userbehavior`
 * (the CLI, a fresh store each time), `--reps` times; the ratio of their
 * wall times is taken per repetition and its median reported (goal: arbor at
 * least half as fast as the reference, ratio ≥ 0.5). The reference is the
 * sqlite3 program's own CSV import (`.import --csv` into a table without
 * indexes, with the store's journal and synchronous settings) when a
 * `sqlite3` program is on the PATH, else a plain better-sqlite3 bulk insert
 * of the same file (one prepared statement, one transaction, lines split on
 * commas); the report says which ran.
 *
 * Memory: arbor's peak RSS ingesting files of ¼, ½, 1, 2 and 4 × `--events`
 * (same catalogue, users in proportion). Standard input: the file piped to
 * `arbor ingest -` and to `arbor ingest /dev/stdin`, each checked to store
 * every row (rows read = lines, events stored = the file ingest's).
 *
 * Writes docs/bench/ingest.json; {@link ingestSection} renders it for
 * docs/BENCHMARKS.md.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';
import { writeSyntheticUserBehaviorCsv } from '../src/data/index.js';
import { measureProcess, median, type ProcessRun } from './measure-process.js';
import { writeBenchJson } from './bench-json.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const ARBOR = join(root, 'bin', 'arbor.js');

/** Settings of the run. */
export interface IngestBenchOptions {
  outDir: string;
  events: number;
  reps: number;
  command: string;
}

/** The generated file of one size. */
interface FileSpec {
  events: number;
  users: number;
  items: number;
  bytes: number;
}

/** One repetition of the side-by-side comparison. */
interface SpeedRep {
  rep: number;
  referenceSeconds: number;
  arborSeconds: number;
  /** reference seconds / arbor seconds: arbor's speed as a fraction of the reference's. */
  ratio: number;
  referenceRssMiB: number;
  arborRssMiB: number;
  loadBefore: number;
}

/** The JSON written to docs/bench/ingest.json. */
export interface IngestBenchReport {
  date: string;
  cpu: string;
  cores: number;
  node: string;
  command: string;
  loadStart: number[];
  loadEnd: number[];
  reference: { kind: 'sqlite3-import' | 'better-sqlite3-insert'; version: string; description: string };
  file: FileSpec;
  speed: SpeedRep[];
  medianRatio: number;
  medianArborRowsPerSecond: number;
  medianReferenceRowsPerSecond: number;
  memory: (FileSpec & { seconds: number; peakRssMiB: number; storeUsers: number })[];
  stdin: { how: string; seconds: number; rowsRead: number; eventsInserted: number; everyRow: boolean }[];
}

const ITEMS = 200_000;
/** Events a user, as UserBehavior's ~100 on average. */
const MIN_EVENTS = 20;
const MAX_EVENTS = 180;
const SEED = 14;

/** Writes the seeded file of about `events` events into `dir`. */
function makeFile(dir: string, events: number): { path: string; spec: FileSpec } {
  const users = Math.max(1, Math.round(events / ((MIN_EVENTS + MAX_EVENTS) / 2)));
  const path = join(dir, `ub-${events}.csv`);
  const n = writeSyntheticUserBehaviorCsv({ items: ITEMS, users, seed: SEED, minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS }, path);
  const bytes = readFileSync(path).length;
  return { path, spec: { events: n, users, items: ITEMS, bytes } };
}

/** The sqlite3 program's version, or undefined when there is none on the PATH. */
function sqlite3Version(): string | undefined {
  const r = spawnSync('sqlite3', ['-version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split(' ')[0] : undefined;
}

/** The reference load of `file` into a fresh database `db`. */
function runReference(kind: IngestBenchReport['reference']['kind'], file: string, db: string): Promise<ProcessRun> {
  rmSync(db, { force: true });
  if (kind === 'sqlite3-import') {
    const script = [
      'PRAGMA journal_mode = DELETE;',
      'PRAGMA synchronous = NORMAL;',
      'CREATE TABLE ub (user_id TEXT, item_id TEXT, category_id TEXT, behavior_type TEXT, timestamp INTEGER);',
      `.import --csv '${file.replaceAll("'", "''")}' ub`,
      '',
    ].join('\n');
    return measureProcess('sqlite3', [db], { input: script });
  }
  return measureProcess(process.execPath, [join(here, 'ingest-reference.js'), file, db]);
}

/** `arbor ingest` of `file` into a fresh store `db`; throws unless it succeeded. */
async function runArbor(file: string, db: string, o: { stdinFile?: string } = {}): Promise<ProcessRun & { report: { rowsRead: number; eventsInserted: number; usersInserted: number } }> {
  rmSync(db, { force: true });
  const r = await measureProcess(process.execPath, [ARBOR, 'ingest', file, '--format', 'userbehavior', '--db', db], o.stdinFile ? { inputFile: o.stdinFile } : {});
  if (r.code !== 0) throw new Error(`arbor ingest ${file} failed (exit ${r.code}): ${r.stderr}`);
  return { ...r, report: JSON.parse(r.stdout) };
}

/** Runs the bench and writes docs/bench/ingest.json. */
export async function runIngestBench(o: IngestBenchOptions): Promise<IngestBenchReport> {
  const work = mkdtempSync(join(tmpdir(), 'arbor-bench-ingest-'));
  const log = (s: string) => process.stderr.write(`ingest bench: ${s}\n`);
  try {
    const version = sqlite3Version();
    const reference: IngestBenchReport['reference'] = version
      ? { kind: 'sqlite3-import', version, description: `sqlite3 ${version}: .import --csv into a table of 5 columns without indexes (journal_mode DELETE, synchronous NORMAL, as arbor's store)` }
      : { kind: 'better-sqlite3-insert', version: new Database(':memory:').prepare('SELECT sqlite_version()').pluck().get() as string, description: 'no sqlite3 program on the PATH: better-sqlite3 (same SQLite library as arbor), the file read by lines, split on commas, one prepared INSERT per row in one transaction, into a table without indexes' };
    const loadStart = loadavg();
    log(`writing ${o.events} events`);
    const main = makeFile(work, o.events);
    const lines = main.spec.events;
    const speed: SpeedRep[] = [];
    for (let rep = 0; rep < o.reps; rep++) {
      const loadBefore = loadavg()[0];
      // alternate which goes first, so neither always meets a warm or a cold page cache
      const order = rep % 2 === 0 ? ['reference', 'arbor'] : ['arbor', 'reference'];
      let ref: ProcessRun | undefined;
      let arbor: ProcessRun | undefined;
      for (const who of order) {
        if (who === 'reference') {
          ref = await runReference(reference.kind, main.path, join(work, 'ref.db'));
          if (ref.code !== 0) throw new Error(`the reference import failed (exit ${ref.code}): ${ref.stderr}`);
        } else {
          const a = await runArbor(main.path, join(work, 'arbor.db'));
          if (a.report.rowsRead !== lines) throw new Error(`arbor read ${a.report.rowsRead} rows of ${lines}`);
          arbor = a;
        }
      }
      const r: SpeedRep = {
        rep,
        referenceSeconds: ref!.seconds,
        arborSeconds: arbor!.seconds,
        ratio: ref!.seconds / arbor!.seconds,
        referenceRssMiB: ref!.peakRssMiB,
        arborRssMiB: arbor!.peakRssMiB,
        loadBefore,
      };
      speed.push(r);
      log(`rep ${rep}: reference ${r.referenceSeconds.toFixed(2)} s, arbor ${r.arborSeconds.toFixed(2)} s, ratio ${r.ratio.toFixed(2)} (load ${loadBefore.toFixed(1)})`);
    }
    const refRows = new Database(join(work, 'ref.db'), { readonly: true });
    const stored = refRows.prepare('SELECT count(*) FROM ub').pluck().get() as number;
    refRows.close();
    if (stored !== lines) throw new Error(`the reference stored ${stored} rows of ${lines}`);

    const fileEvents = (await runArbor(main.path, join(work, 'arbor.db'))).report.eventsInserted;
    const stdin: IngestBenchReport['stdin'] = [];
    for (const how of ['-', '/dev/stdin']) {
      const r = await runArbor(how, join(work, 'stdin.db'), { stdinFile: main.path });
      const everyRow = r.report.rowsRead === lines && r.report.eventsInserted === fileEvents;
      stdin.push({ how: `cat FILE | arbor ingest ${how} --format userbehavior`, seconds: r.seconds, rowsRead: r.report.rowsRead, eventsInserted: r.report.eventsInserted, everyRow });
      log(`stdin ${how}: ${r.report.rowsRead} rows read, ${r.report.eventsInserted} events stored (${everyRow ? 'every row' : 'ROWS MISSING'})`);
    }

    const memory: IngestBenchReport['memory'] = [];
    for (const f of [0.25, 0.5, 1, 2, 4]) {
      const m = f === 1 ? main : makeFile(work, Math.round(o.events * f));
      const r = await runArbor(m.path, join(work, 'mem.db'));
      memory.push({ ...m.spec, seconds: r.seconds, peakRssMiB: r.peakRssMiB, storeUsers: r.report.usersInserted });
      log(`memory: ${m.spec.events} events, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`);
      if (m !== main) rmSync(m.path, { force: true });
    }
    const report: IngestBenchReport = {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: cpus().length,
      node: process.version,
      command: o.command,
      loadStart,
      loadEnd: loadavg(),
      reference,
      file: main.spec,
      speed,
      medianRatio: median(speed.map((s) => s.ratio)),
      medianArborRowsPerSecond: median(speed.map((s) => lines / s.arborSeconds)),
      medianReferenceRowsPerSecond: median(speed.map((s) => lines / s.referenceSeconds)),
      memory,
      stdin,
    };
    writeBenchJson(o.outDir, 'ingest', report);
    log(`median ratio ${report.medianRatio.toFixed(2)} (goal ≥ 0.5)`);
    return report;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The BENCHMARKS.md section of docs/bench/ingest.json ('' when absent). */
export function ingestSection(file: string): string {
  if (!existsSync(file)) return '';
  const r = JSON.parse(readFileSync(file, 'utf8')) as IngestBenchReport;
  const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);
  const krows = (x: number) => `${Math.round(x / 1000)}k`;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const mem = r.memory;
  const perMillion = mem.length > 1 ? ((mem[mem.length - 1].peakRssMiB - mem[mem.length - 2].peakRssMiB) / ((mem[mem.length - 1].events - mem[mem.length - 2].events) / 1e6)) : NaN;
  return [
    '',
    '## Ingest',
    '',
    `A seeded synthetic UserBehavior CSV of ${r.file.events} events (${r.file.users} users, ${r.file.items} items, ${mb(r.file.bytes)} MiB), loaded in turns by the reference ` +
      `and by \`arbor ingest FILE --format userbehavior\` (a fresh store each time; wall time of the whole process, start-up included), ${r.speed.length} repetitions. ` +
      `Reference: ${r.reference.description}. Run ${r.date} on ${r.cores} × ${r.cpu}, Node ${r.node} (\`${r.command}\`). ` +
      `Load average (1, 5, 15 min) ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end: the machine is shared.`,
    '',
    `Arbor's speed over the reference's, per repetition: ${r.speed.map((s) => s.ratio.toFixed(2)).join(', ')}; **median ${r.medianRatio.toFixed(2)}** ` +
      `(goal ≥ 0.5: ${r.medianRatio >= 0.5 ? 'met' : 'not met'}). Median rows/s: arbor ${krows(r.medianArborRowsPerSecond)}, reference ${krows(r.medianReferenceRowsPerSecond)}. ` +
      'Arbor does more than the reference: it checks every field, interns user, item and category ids into their tables, and keeps events unique ' +
      'through an index on (user, time, item, behaviour), which is also the order every reader needs.',
    '',
    '| repetition | reference s | arbor s | ratio | reference peak RSS MiB | arbor peak RSS MiB | load before |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.speed.map((s) => `| ${s.rep + 1} | ${s.referenceSeconds.toFixed(2)} | ${s.arborSeconds.toFixed(2)} | ${s.ratio.toFixed(2)} | ${s.referenceRssMiB.toFixed(0)} | ${s.arborRssMiB.toFixed(0)} | ${s.loadBefore.toFixed(1)} |`),
    '',
    'Memory as the file grows (same catalogue, users in proportion; peak RSS of the `arbor ingest` process, read from /proc every 20 ms):',
    '',
    '| events | users | file MiB | seconds | peak RSS MiB |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...mem.map((m) => `| ${m.events} | ${m.users} | ${mb(m.bytes)} | ${m.seconds.toFixed(2)} | ${m.peakRssMiB.toFixed(0)} |`),
    '',
    `The input is streamed in 1 MiB reads and rows go to SQLite in multi-row statements, so no part of the file is held; what grows is SQLite's page cache ` +
      `(up to its 128 MiB) and the id tables (about 16 bytes plus the id's length per distinct user, item and category). ` +
      `Between the two largest files: ${perMillion.toFixed(1)} MiB per million more events.`,
    '',
    'Standard input (the file piped into the process):',
    '',
    '| command | seconds | rows read | events stored | every row stored |',
    '| :--- | ---: | ---: | ---: | :--- |',
    ...r.stdin.map((s) => `| \`${s.how.replaceAll('|', '\\|')}\` | ${s.seconds.toFixed(2)} | ${s.rowsRead} | ${s.eventsInserted} | ${s.everyRow ? 'yes' : 'NO'} |`),
    '',
  ].join('\n');
}

const USAGE = `node dist/bench/ingest.js [--events N] [--reps N] [--out DIR]

  --events N   events in the compared file (default 2000000); memory is also measured at 1/4, 1/2, 2 and 4 x N
  --reps N     side-by-side repetitions (default 5)
  --out DIR    where bench/ingest.json goes (default docs)
`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '2000000' },
      reps: { type: 'string', default: '5' },
      out: { type: 'string', default: join(root, 'docs') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const events = Number(values.events);
  const reps = Number(values.reps);
  if (!Number.isInteger(events) || events < 1000 || !Number.isInteger(reps) || reps < 1) {
    process.stderr.write(`ingest bench: --events must be an integer >= 1000 and --reps >= 1\n\n${USAGE}`);
    process.exit(2);
  }
  await runIngestBench({ outDir: values.out!, events, reps, command: ['node dist/bench/ingest.js', ...process.argv.slice(2)].join(' ') });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
