/**
 * The scorer ablation (`npm run bench -- --ablation`): per data set, the
 * same store, split, category tree, seed and training budget for
 *   pooling · attention · attention + category embedding ·
 *   (synthetic only) attention + category + item vectors carrying the
 *   planted structure (a code for the item's super-category and category);
 * each evaluated on the same held-out users: recall@k of beam search and
 * brute force, training samples/s, and query cost. Query speed is measured
 * side by side after training: the variants take turns retrieving the same
 * queries, three rounds, and the median per variant is kept.
 *
 * Writes docs/bench/ablation/<name>.json; `ablationSection` renders them
 * for docs/BENCHMARKS.md.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stderrLogger } from '../src/core/log.js';
import { Rng } from '../src/core/rng.js';
import { Store, generateSynthetic, type InputFormat } from '../src/data/index.js';
import { readModel } from '../src/model/folder.js';
import { createModelFolder, evaluateModel, trainModelFolder, type TrainModelOptions } from '../src/pipeline/ops.js';
import { TreeDataset } from '../src/model/dataset.js';
import { pairedDifference } from '../src/eval/paired.js';
import { networkSearch } from '../src/beam/network-search.js';

/** What the ablation needs to know about a data set (bench/run.ts's specs fit). */
export interface AblationDataset {
  name: string;
  title: string;
  file?: string;
  format?: InputFormat;
  items?: string;
  minRating?: number;
  synthetic?: { items: number; users: number; categoryNoise?: number };
  testUsers: number;
  validUsers: number;
}

/** Budget of one ablation run (the same for every variant). */
export interface AblationOptions {
  datasetsDir: string;
  outDir: string;
  /** Training samples per epoch (a seeded subset). */
  samples: number;
  epochs: number;
  meta: Record<string, unknown>;
}

/** One variant's figures. */
interface VariantRow {
  variant: string;
  trainSamplesPerSecond: number;
  trainSeconds: number;
  epochs: number;
  recall: { k: number; beam: number; brute: number }[];
  beamPairsPerQuery: number;
  /** Median over the speed rounds: beam search ms per query and (user, node) pairs scored per second. */
  beamMsPerQuery: number;
  beamPairsPerSecond: number;
  /** Brute force throughput during evaluation (pairs per second). */
  brutePairsPerSecond: number;
  /**
   * Beam recall minus that of the pooling variant with the same item
   * features (`base`), paired over the same test users: mean and 95 %
   * bootstrap interval per k (absent for plain pooling).
   */
  vs?: { base: string; diffs: { k: number; mean: number; low: number; high: number }[] };
}

/** One data set's ablation. */
interface AblationRow {
  dataset: string;
  title: string;
  meta: Record<string, unknown>;
  items: number;
  evalUsers: number;
  ks: number[];
  beam: number;
  samplesPerEpoch: number;
  epochs: number;
  hierarchical: boolean;
  variants: VariantRow[];
}

/** Smaller synthetic set than the main bench, so four variants fit the time. */
const SYNTHETIC = { items: 10000, users: 2000 };
const KS = [10, 50];
const BEAM = 100;
const SPEED_QUERIES = 30;
const SPEED_ROUNDS = 3;

/** Writes a JSON-lines vectors file for a synthetic set: 16 values, a seeded code of the super-category plus one of the category, plus noise. */
function plantedVectors(ds: ReturnType<typeof generateSynthetic>, file: string): void {
  const rng = new Rng(4242);
  const dim = 16;
  const codes = new Map<string, number[]>();
  const code = (key: string) => {
    let c = codes.get(key);
    if (!c) codes.set(key, (c = Array.from({ length: dim }, () => rng.normal())));
    return c;
  };
  const lines = ds.items.map((it) => {
    const s = code(`s:${it.superCategory}`);
    const c = code(`c:${it.category}`);
    return JSON.stringify({ item: it.id, vector: s.map((x, i) => Number((x + 0.5 * c[i] + 0.1 * rng.normal()).toFixed(4))) });
  });
  writeFileSync(file, lines.join('\n') + '\n');
}

const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Runs the ablation on one data set; returns undefined when its file is absent. */
export async function runAblation(spec: AblationDataset, o: AblationOptions): Promise<AblationRow | undefined> {
  const log = stderrLogger();
  if (spec.file && !existsSync(join(o.datasetsDir, spec.file))) {
    log.warn(`ablation: skipping ${spec.name}: ${join(o.datasetsDir, spec.file)} not found`);
    return undefined;
  }
  log.info(`\n=== ablation: ${spec.title}`);
  const work = mkdtempSync(join(tmpdir(), `arbor-ablation-${spec.name}-`));
  const store = Store.open(join(work, 'store.db'));
  try {
    let vectorsFile: string | undefined;
    if (spec.synthetic) {
      const ds = generateSynthetic({ ...(spec.name === 'synthetic' ? SYNTHETIC : spec.synthetic), seed: 42 });
      store.insertDataset(ds, 'synthetic');
      vectorsFile = join(work, 'vectors.jsonl');
      plantedVectors(ds, vectorsFile);
    } else {
      await store.ingest(join(o.datasetsDir, spec.file!), spec.format!, { items: spec.items ? join(o.datasetsDir, spec.items) : undefined, minRating: spec.minRating, logger: log });
    }
    store.split({ testUsers: spec.testUsers, validUsers: spec.validUsers, seed: 42 });
    // each variant is compared with the pooling variant that has the same item features (`base`)
    const variants: { name: string; base?: string; opts: Partial<TrainModelOptions> }[] = [
      { name: 'pooling', opts: { scorer: 'pooling', categoryEmb: 'off' } },
      { name: 'pooling + category', base: 'pooling', opts: { scorer: 'pooling', categoryEmb: 'on' } },
      { name: 'attention', base: 'pooling', opts: { scorer: 'attention', categoryEmb: 'off' } },
      { name: 'attention + category', base: 'pooling + category', opts: { scorer: 'attention', categoryEmb: 'on' } },
      ...(vectorsFile
        ? [
            { name: 'pooling + category + item vectors', base: 'pooling + category', opts: { scorer: 'pooling' as const, categoryEmb: 'on' as const, itemVectors: vectorsFile } },
            { name: 'attention + category + item vectors', base: 'pooling + category + item vectors', opts: { scorer: 'attention' as const, categoryEmb: 'on' as const, itemVectors: vectorsFile } },
          ]
        : []),
    ];
    let evalUsers = 0;
    const rows: VariantRow[] = [];
    const dirs: string[] = [];
    const userRecall = new Map<string, number[][]>();
    for (const v of variants) {
      const dir = join(work, `m${dirs.length}`);
      dirs.push(dir);
      rmSync(dir, { recursive: true, force: true });
      await createModelFolder(store, dir, { init: 'category', branching: 2, seed: 42 }, log);
      log.info(`ablation ${spec.name}: training ${v.name}`);
      const t = Date.now();
      const { summary } = await trainModelFolder(
        store,
        dir,
        { train: { epochs: o.epochs, maxSamplesPerEpoch: o.samples, maxValidUsers: 60 }, embDim: 24, seed: 42, hierarchical: false, ...v.opts },
        log,
      );
      const trainSeconds = (Date.now() - t) / 1000;
      const model = readModel(dir, { requireScorer: true });
      // every test user (the same for every variant)
      const report = evaluateModel(store, model, { ks: KS, beam: BEAM, oracle: true, baselines: [], maxUsers: 0, seed: 42, perUser: true }, log);
      evalUsers = report.users;
      model.network!.dispose();
      const beam = report.methods.find((m) => m.name === 'beam')!;
      const brute = report.methods.find((m) => m.name === 'brute-force')!;
      rows.push({
        variant: v.name,
        trainSamplesPerSecond: summary.samplesPerSecond,
        trainSeconds,
        epochs: summary.epochs.length,
        recall: KS.map((k, i) => ({ k, beam: beam.metrics[i].recall, brute: brute.metrics[i].recall })),
        beamPairsPerQuery: beam.pairsPerQuery,
        beamMsPerQuery: NaN,
        beamPairsPerSecond: NaN,
        brutePairsPerSecond: (brute.pairsPerQuery * report.users) / (brute.totalMs / 1000),
        ...(v.base
          ? {
              vs: {
                base: v.base,
                diffs: KS.map((k, i) => {
                  const d = pairedDifference(beam.userRecall![i], userRecall.get(v.base!)![i], { seed: 42 });
                  return { k, mean: d.mean, low: d.low, high: d.high };
                }),
              },
            }
          : {}),
      });
      userRecall.set(v.name, beam.userRecall!);
    }
    // query speed side by side: the variants take turns on the same queries
    const models = dirs.map((d) => readModel(d, { requireScorer: true }));
    const queries = TreeDataset.of(store, models[0].tree).cases('test').cases.slice(0, SPEED_QUERIES).map((c) => c.history);
    const ms: number[][] = models.map(() => []);
    const pairs: number[] = models.map(() => 0);
    for (let r = 0; r < SPEED_ROUNDS; r++) {
      models.forEach((m, i) => {
        const search = networkSearch(m.tree, m.network!);
        const t0 = process.hrtime.bigint();
        let p = 0;
        for (const h of queries) p += search.retrieve(h, { k: Math.max(...KS), beam: BEAM }).pairsScored;
        ms[i].push(Number(process.hrtime.bigint() - t0) / 1e6 / queries.length);
        pairs[i] = p / queries.length;
      });
    }
    models.forEach((m, i) => {
      rows[i].beamMsPerQuery = median(ms[i]);
      rows[i].beamPairsPerSecond = pairs[i] / (rows[i].beamMsPerQuery / 1000);
      m.network!.dispose();
    });
    return {
      dataset: spec.name,
      title: spec.name === 'synthetic' ? `Synthetic (planted hierarchy, ${SYNTHETIC.items / 1000}k items, ${SYNTHETIC.users / 1000}k users, seed 42)` : spec.title,
      meta: o.meta,
      items: models[0].tree.numItems,
      evalUsers,
      ks: KS,
      beam: BEAM,
      samplesPerEpoch: o.samples,
      epochs: o.epochs,
      hierarchical: false,
      variants: rows,
    };
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const pct = (x: number) => (x * 100).toFixed(2);

/** "+1.23 (+0.10, +2.40) vs pooling": a variant's beam recall minus its base variant's at k, in points, with its interval. */
function diffCell(v: VariantRow, k: number): string {
  const d = v.vs?.diffs.find((x) => x.k === k);
  if (!d) return '';
  const sg = (x: number) => (x >= 0 ? '+' : '−') + Math.abs(x * 100).toFixed(2);
  return `${sg(d.mean)} (${sg(d.low)}, ${sg(d.high)}) vs ${v.vs!.base}`;
}

/** The ablation tables (markdown) from the JSON files in `dir`, ordered as `order`. */
export function ablationSection(dir: string, order: string[]): string {
  if (!existsSync(dir)) return '';
  const rows = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as AblationRow)
    .sort((a, b) => order.indexOf(a.dataset) - order.indexOf(b.dataset));
  if (rows.length === 0) return '';
  const out = [
    '',
    '## Scorer ablation: pooling vs attention (multi-interest) vs item side features',
    '',
    '<!-- written by `npm run bench -- --ablation` from docs/bench/ablation/*.json -->',
    'Per data set: the same store, split, category tree (branching 2), seed and training budget for every variant ' +
      '(stated per table: a seeded subset of the training samples per epoch and a cap on epochs; validation recall on 60 users after each epoch, ' +
      'training stops after 2 epochs without improvement and keeps the best epoch\'s weights; ' +
      'hierarchical user preference off, 24-d embeddings). Recall on the same held-out users (first half of each ' +
      "one's history as input, second half as truth). Each variant is compared with the pooling variant that has the same " +
      'item features (named in the cell): the difference is paired over those users, with a ' +
      '95 % percentile bootstrap interval (2,000 resamples of the users, seeded): an interval that contains 0 means the ' +
      'gap is within the spread over test users. Query cost: beam search with the beam below; ms per query and ' +
      'pairs/s are the median of three side-by-side rounds over the same 30 queries (variants taking turns); ' +
      'brute-force pairs/s is its throughput during evaluation. Training samples/s from the training run.',
  ];
  for (const r of rows) {
    const pool = r.variants.find((v) => v.variant === 'pooling');
    // the paired difference at the largest k (older runs have none)
    const kd = Math.max(...r.ks);
    const paired = r.variants.some((v) => v.vs);
    out.push(
      '',
      `### ${r.title}`,
      '',
      `${r.items} items, ${r.evalUsers} test users, beam ${r.beam}; training budget per variant: ${r.samplesPerEpoch} samples per epoch, up to ${r.epochs} epochs (${r.samplesPerEpoch * r.epochs} samples); ${r.meta.cpu} (${r.meta.cores} cores), ${r.meta.backend}, ${String(r.meta.date).slice(0, 10)}.`,
      '',
      `| variant | ${r.ks.map((k) => `beam R@${k} %`).join(' | ')} | ${paired ? `beam R@${kd} − base (95 % CI) | ` : ''}${r.ks.map((k) => `brute R@${k} %`).join(' | ')} | train samples/s | epochs run | beam ms/query | × pooling | beam pairs/s | brute pairs/s |`,
      `| :--- | ${r.ks.map(() => '---:').join(' | ')} | ${paired ? '---: | ' : ''}${r.ks.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: |`,
      ...r.variants.map(
        (v) =>
          `| ${v.variant} | ${v.recall.map((x) => pct(x.beam)).join(' | ')} | ${paired ? diffCell(v, kd) + ' | ' : ''}${v.recall.map((x) => pct(x.brute)).join(' | ')} | ${Math.round(v.trainSamplesPerSecond)} | ${v.epochs} | ${v.beamMsPerQuery.toFixed(1)} | ${pool ? (v.beamMsPerQuery / pool.beamMsPerQuery).toFixed(2) : ''} | ${Math.round(v.beamPairsPerSecond)} | ${Math.round(v.brutePairsPerSecond)} |`,
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** Runs the ablation for each spec and writes docs/bench/ablation/<name>.json. */
export async function runAblations(specs: AblationDataset[], o: AblationOptions): Promise<void> {
  const dir = join(o.outDir, 'bench', 'ablation');
  mkdirSync(dir, { recursive: true });
  for (const spec of specs) {
    const row = await runAblation(spec, o);
    if (row) writeFileSync(join(dir, `${spec.name}.json`), JSON.stringify(row, null, 2) + '\n');
  }
}
