/**
 * `npm run bench`: the whole pipeline on the synthetic set and on each real
 * data set found in ../shared/datasets (skipped with a message when absent),
 * under the papers' protocol (held-out users, first half of each one's
 * time-sorted behaviours as input, second half as truth). Writes
 * docs/BENCHMARKS.md (readable tables) and docs/benchmarks.json.
 *
 * Options: --datasets DIR (default ../shared/datasets), --only a,b (names:
 * synthetic, taobao, movielens, amazon), --epochs N, --out DIR (default docs).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync, readdirSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stderrLogger } from '../src/core/log.js';
import { Store, generateSynthetic, type InputFormat } from '../src/data/index.js';
import { formatMarkdownTable } from '../src/eval/table.js';
import { readModel } from '../src/model/folder.js';
import { createModelFolder, evaluateModel, trainModelFolder, type ModelEvalReport } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import type { TrainSummary } from '../src/trainer/train.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

interface DatasetSpec {
  name: string;
  title: string;
  /** Files relative to the datasets folder; the first must exist. */
  file?: string;
  format?: InputFormat;
  items?: string;
  minRating?: number;
  synthetic?: { items: number; users: number };
  testUsers: number;
  validUsers: number;
  ks: number[];
  beam: number;
  note: string;
}

const DATASETS: DatasetSpec[] = [
  {
    name: 'synthetic',
    title: 'Synthetic (planted hierarchy, 30k items, 4k users, seed 42)',
    synthetic: { items: 30000, users: 4000 },
    testUsers: 400,
    validUsers: 200,
    ks: [10, 50, 200],
    beam: 400,
    note: 'made by arbor\'s generator (`arbor synth`)',
  },
  {
    name: 'taobao',
    title: 'Taobao UserBehavior (first 814 users)',
    file: 'taobao-userbehavior/UserBehavior_prefix_814users.csv',
    format: 'userbehavior',
    testUsers: 150,
    validUsers: 60,
    ks: [10, 50, 200],
    beam: 400,
    note: 'category init from category_id as in TDM; k = 200 is the papers\' cut-off',
  },
  {
    name: 'movielens',
    title: 'MovieLens 1M (users 1..2999), ratings >= 4',
    file: 'movielens-1m-part/ratings.dat',
    format: 'movielens',
    items: 'movielens-1m-part/movies.dat',
    minRating: 4,
    testUsers: 300,
    validUsers: 100,
    ks: [10, 50, 200],
    beam: 400,
    note: 'category = first genre; k = 10 is the papers\' cut-off',
  },
  {
    name: 'amazon',
    title: 'Amazon Beauty 5-core (sequences)',
    file: 'amazon-beauty/Beauty.txt',
    format: 'sequence',
    items: 'amazon-beauty/Beauty_item2attributes.json',
    testUsers: 1000,
    validUsers: 300,
    ks: [10, 50, 200],
    beam: 400,
    note: 'category = first attribute id',
  },
];

interface Row {
  dataset: string;
  title: string;
  note: string;
  users: number;
  items: number;
  events: number;
  ingestSeconds: number;
  buildSeconds: number;
  trainSeconds: number;
  training: TrainSummary;
  modelBytes: number;
  tree: { depth: number; branching: number };
  eval: ModelEvalReport;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    total += f.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

async function runOne(spec: DatasetSpec, datasetsDir: string, epochs: number | undefined): Promise<Row | undefined> {
  const log = stderrLogger();
  if (spec.file && !existsSync(join(datasetsDir, spec.file))) {
    log.warn(`skipping ${spec.name}: ${join(datasetsDir, spec.file)} not found`);
    return undefined;
  }
  log.info(`\n=== ${spec.title}`);
  const work = mkdtempSync(join(tmpdir(), `arbor-bench-${spec.name}-`));
  const store = Store.open(join(work, 'store.db'));
  try {
    let t = Date.now();
    if (spec.synthetic) {
      store.insertDataset(generateSynthetic({ ...spec.synthetic, seed: 42 }), 'synthetic');
    } else {
      await store.ingest(join(datasetsDir, spec.file!), spec.format!, {
        items: spec.items ? join(datasetsDir, spec.items) : undefined,
        minRating: spec.minRating,
        logger: log,
      });
    }
    const ingestSeconds = (Date.now() - t) / 1000;
    store.split({ testUsers: spec.testUsers, validUsers: spec.validUsers, seed: 42 });
    const stats = store.stats();
    const modelDir = join(work, 'model');
    t = Date.now();
    const manifest = await createModelFolder(store, modelDir, { init: 'category', branching: 2, seed: 42 }, log);
    const buildSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const { summary } = await trainModelFolder(store, modelDir, { train: epochs ? { epochs } : {}, embDim: 24, seed: 42 }, log);
    const trainSeconds = (Date.now() - t) / 1000;
    const report = evaluateModel(
      store,
      readModel(modelDir, { requireScorer: true }),
      { ks: spec.ks, beam: spec.beam, oracle: true, baselines: ['popularity', 'itemcf'], maxUsers: 0, seed: 42 },
      log,
    );
    return {
      dataset: spec.name,
      title: spec.title,
      note: spec.note,
      users: stats.users,
      items: stats.items,
      events: stats.events,
      ingestSeconds,
      buildSeconds,
      trainSeconds,
      training: summary,
      modelBytes: folderBytes(modelDir),
      tree: { depth: manifest.tree.depth, branching: manifest.tree.branching },
      eval: report,
    };
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

function markdown(rows: Row[], meta: Record<string, unknown>): string {
  const out: string[] = [
    '# arbor benchmarks',
    '',
    '<!-- written by `npm run bench`; numbers from one run on the machine described below -->',
    '',
    `Run ${meta.date} on ${meta.cpu} (${meta.cores} cores), Node ${meta.node}, tfjs backend \`${meta.backend}\`. Command: \`${meta.command}\`.`,
    '',
    'Protocol (TDM/JTM papers): held-out test users; each one\'s behaviours sorted by time, the first half is the',
    'model input and the distinct items of the second half the truth; precision, recall and F-measure@k per user,',
    'averaged. Training uses only the other users (validation users drive early stopping). Every method ranks the',
    'whole catalogue: *beam* is arbor\'s tree beam search, *brute-force* scores every item with the same trained',
    'scorer, *popularity* and *itemcf* are the classic baselines trained on the same training users.',
    'Latency is single-threaded, per query, measured side by side in the same process.',
    '',
  ];
  for (const r of rows) {
    const by = (n: string) => r.eval.methods.find((m) => m.name === n)!;
    const kMax = r.eval.ks[r.eval.ks.length - 1];
    const rec = (n: string) => by(n).metrics[by(n).metrics.length - 1].recall;
    out.push(
      `## ${r.title}`,
      '',
      `${r.users} users, ${r.items} items, ${r.events} events; ${r.eval.users} test users; ${r.note}.`,
      `Tree: branching ${r.tree.branching}, depth ${r.tree.depth}. Ingest ${r.ingestSeconds.toFixed(1)} s, tree build ${r.buildSeconds.toFixed(2)} s, ` +
        `training ${r.trainSeconds.toFixed(0)} s (${r.training.epochs.length} epochs, best ${r.training.bestEpoch}; ` +
        `${Math.round(r.training.samplesPerSecond)} samples/s = ${Math.round(r.training.pairsPerSecond)} (user, node) pairs/s, ${r.training.pairsPerSample} pairs a sample). ` +
        `Model folder ${(r.modelBytes / 1e6).toFixed(1)} MB.`,
      '',
      formatMarkdownTable(r.eval),
      '',
      `Ratios at k = ${kMax}: beam / brute-force recall ${(rec('beam') / rec('brute-force')).toFixed(3)}, ` +
        `beam / popularity ${(rec('beam') / rec('popularity')).toFixed(2)}, beam / item-CF ${(rec('beam') / rec('itemcf')).toFixed(2)}; ` +
        `pairs scored beam / brute force ${((100 * by('beam').pairsPerQuery) / by('brute-force').pairsPerQuery).toFixed(2)} %; ` +
        `ms per query brute force / beam ${(by('brute-force').msPerQuery.p50 / by('beam').msPerQuery.p50).toFixed(1)}×.`,
      '',
      'Validation recall by epoch: ' +
        r.training.epochs.map((e) => `${e.epoch}: ${e.validRecall !== undefined ? (e.validRecall * 100).toFixed(2) + '%' : 'n/a'}`).join(', ') +
        '.',
      '',
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      datasets: { type: 'string', default: resolve(root, '..', 'shared', 'datasets') },
      only: { type: 'string' },
      epochs: { type: 'string' },
      out: { type: 'string', default: join(root, 'docs') },
    },
  });
  const backend = await initBackend();
  process.stderr.write(`arbor bench: tfjs backend ${backend}\n`);
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const epochs = values.epochs ? Number(values.epochs) : undefined;
  if (!existsSync(values.datasets!)) process.stderr.write(`arbor bench: ${values.datasets} not found: real data sets skipped, synthetic only\n`);
  const rows: Row[] = [];
  for (const spec of DATASETS) {
    if (only && !only.has(spec.name)) continue;
    const row = await runOne(spec, values.datasets!, epochs);
    if (row) rows.push(row);
  }
  const meta = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    node: process.version,
    backend,
    command: 'npm run bench' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''),
  };
  mkdirSync(values.out!, { recursive: true });
  writeFileSync(join(values.out!, 'benchmarks.json'), JSON.stringify({ meta, results: rows }, null, 2) + '\n');
  writeFileSync(join(values.out!, 'BENCHMARKS.md'), markdown(rows, meta));
  process.stdout.write(markdown(rows, meta) + '\n');
}

await main();
