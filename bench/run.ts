/**
 * `npm run bench`: the whole pipeline on the synthetic set and on each real
 * data set found in ../shared/datasets (skipped with a message when absent),
 * under the papers' protocol (held-out users, first half of each one's
 * time-sorted behaviours as input, second half as truth). Writes
 * docs/BENCHMARKS.md (readable tables) and docs/benchmarks.json.
 *
 * Per data set: arbor's default model (category tree, hierarchical user
 * preference, objective tdm, path rank rule) against brute force with the
 * same scoring function, popularity, item-CF, EASE and two-tower, with its
 * ratio to the best peer at each k (paired bootstrap intervals over the
 * test users); its recall-vs-beam curve (bench/curve.ts: widths 25 … 1600
 * and brute force; docs/recall-curve.svg) under the path rule and, for the
 * same model, under the node rule, each with the check that recall never
 * falls as the beam widens; the OTM objective trained with the same budget
 * (`--no-otm` skips it); then (`--no-trees` skips them) the k-means rebuild
 * (a fresh scorer on a balanced k-means tree of the default model's item
 * embeddings) and JTM rounds of tree learning + `--round-epochs` of training
 * from the default model, each evaluated on the test users, the kept round
 * (best validation recall) compared with the default model.
 *
 * Each data set's figures go to docs/bench/<name>.json as soon as it is done;
 * docs/BENCHMARKS.md and docs/benchmarks.json are then rebuilt from every
 * file in docs/bench (so data sets can be run separately or in parallel:
 * `--only movielens`, `--report` to only rebuild the page).
 *
 * Options: USAGE below (`npm run bench -- --help`). After the data sets it
 * runs the retrieval cost benchmark (bench/retrieval.ts) in its own process,
 * the `arbor serve` load test and the data-parallel training comparison of
 * 1 and 2 worker threads (bench/train-workers.ts), `arbor ingest` against
 * SQLite's own CSV import (bench/ingest.ts) and the pipeline on a generated
 * UserBehavior-sized set (bench/scale.ts); `--ablation` runs the
 * scorer ablation (bench/ablation.ts) instead.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { stderrLogger, type Logger } from '../src/core/log.js';
import { Store, generateSynthetic, type SyntheticDataset } from '../src/data/index.js';
import { purityByLevel } from '../src/eval/tree-quality.js';
import type { Tree } from '../src/tree/tree.js';
import { formatMarkdownBeyondTable, formatMarkdownTable } from '../src/eval/table.js';
import { pairedRatio, type PairedRatio } from '../src/eval/paired.js';
import { readModel, type Model } from '../src/model/folder.js';
import { createModelFolder, evaluateModel, trainModelFolder, type EvalOptions, type ModelEvalReport } from '../src/pipeline/ops.js';
import { TreeDataset } from '../src/model/dataset.js';
import { jointTrain } from '../src/trainer/joint.js';
import type { ObjectiveChange } from '../src/trainer/pair-scorer.js';
import { initBackend } from '../src/scorer/backend.js';
import type { TrainSummary } from '../src/trainer/train.js';
import { runServeLoad, serveLoadDefaults, serveLoadSection } from './serve-load.js';
import { retrievalSection } from './retrieval-report.js';
import { ablationSection, runAblations, type AblationDataset } from './ablation.js';
import { runTrainWorkers, trainWorkersSection } from './train-workers.js';
import { runTrainSpeed, trainSpeedSection } from './train-speed.js';
import { beamCurve, curveSection, renderCurveSvg, type BeamCurve } from './curve.js';
import { ingestSection, runIngestBench } from './ingest.js';
import { runScaleBench, scaleBenchSection } from './scale.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** A bench data set: where its files are (relative to the datasets folder) and how it is evaluated. */
interface DatasetSpec extends AblationDataset {
  ks: number[];
  beam: number;
  note: string;
}

/** A planted set of 20k items and 5k users whose category labels are random with probability `p` (`arbor synth --category-noise p`). */
function noisySpec(p: number, what: string, note: string): DatasetSpec {
  return {
    name: `noisy-${p}`,
    title: `Synthetic with ${what}`,
    synthetic: { items: 20000, users: 5000, categoryNoise: p },
    testUsers: 500,
    validUsers: 200,
    ks: [10, 50, 200],
    beam: 400,
    note: `\`arbor synth --category-noise ${p}\`: ${note}`,
  };
}

const DATASETS: DatasetSpec[] = [
  {
    name: 'tiny',
    title: 'Tiny synthetic smoke test (only with --only tiny)',
    synthetic: { items: 2000, users: 500 },
    testUsers: 60,
    validUsers: 40,
    ks: [10, 50],
    beam: 100,
    note: 'a quick check of the bench itself',
  },
  {
    name: 'synthetic',
    title: 'Synthetic (planted hierarchy, 30k items, 3k users, seed 42)',
    synthetic: { items: 30000, users: 3000 },
    testUsers: 300,
    validUsers: 150,
    ks: [10, 50, 200],
    beam: 400,
    note: 'made by arbor\'s generator (`arbor synth`)',
  },
  {
    name: 'demo',
    title: 'The demo generator at 30k items (`arbor demo --items 30000 --users 1600 --test-users 250 --epochs 2`, seed 42)',
    synthetic: { items: 30000, users: 1600 },
    testUsers: 250,
    validUsers: 100,
    ks: [10, 50, 200],
    beam: 400,
    note: 'the generator and split of `arbor demo`, at a larger size than its one-minute default (4k items, 700 users, 1 epoch)',
  },
  noisySpec(0.5, 'noisy categories (20k items, 5k users, half the labels random, seed 42)', "each item's label is a uniformly random category with probability 0.5; behaviour follows the planted categories, which purity is measured against"),
  noisySpec(1, 'useless categories (20k items, 5k users, every label random, seed 42)', 'the same events as noisy-0.5, every label random'),
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

/** The baselines every set is evaluated with (one left out, with a warning, when it cannot serve the set). */
const BASELINES = ['popularity', 'itemcf', 'ease', 'two-tower'];

interface StageEval {
  label: string;
  eval: ModelEvalReport;
  /** Purity of the planted categories by tree level 1..depth-1 (synthetic sets with noisy labels only). */
  plantedPurity?: number[];
}

/** Purity by level of a tree against a synthetic data set's planted categories (not its possibly noisy labels). */
type PlantedPurity = (tree: Tree) => number[];

function plantedPurity(ds: SyntheticDataset): PlantedPurity {
  const categories = [...new Set(ds.items.map((i) => i.plantedCategory))];
  const index = new Map(categories.map((c, k) => [c, k]));
  const plantedOf = new Map(ds.items.map((i) => [i.id, index.get(i.plantedCategory)!]));
  return (tree) => purityByLevel(tree, Int32Array.from(tree.items.itemIds, (id) => plantedOf.get(id) ?? -1));
}

/** A method's mean recall@k and its per-user recalls (evaluated with perUser), or undefined when it has no row at that k. */
function userRecall(e: ModelEvalReport, name: string, k: number): { mean: number; users: number[] } | undefined {
  const m = e.methods.find((x) => x.name === name);
  const i = m ? m.metrics.findIndex((x) => x.k === k) : -1;
  return m && i >= 0 ? { mean: m.metrics[i].recall, users: m.userRecall![i] } : undefined;
}

interface Row {
  dataset: string;
  /** The run's tag (--tag), taken from its file name (<name>@<tag>.json) when the page is built. */
  tag?: string;
  title: string;
  note: string;
  meta: Record<string, unknown>;
  users: number;
  items: number;
  events: number;
  ingestSeconds: number;
  buildSeconds: number;
  trainSeconds: number;
  training: TrainSummary;
  modelBytes: number;
  tree: { depth: number; branching: number };
  /** TDM with brute force and baselines. */
  eval: ModelEvalReport;
  /** The default model's recall at beam widths 25 … 1600 and brute force (bench/curve.ts), under the default path rule. */
  curve?: BeamCurve;
  /** The same model and widths under the path rule (w = 1), when its own weight differs. */
  pathCurve?: BeamCurve;
  /** The same model and widths under the node rule (w = 0: the calibration off), when its own weight differs. */
  nodeCurve?: BeamCurve;
  /** The training objective of the default model. */
  objective?: string;
  /** The default model's beam recall over the best peer's (item-CF, EASE, two-tower: the best mean recall at that k), paired over the test users. */
  peers?: { k: number; best: string; bestRecall: number; recall: number; ratio: PairedRatio }[];
  /** The OTM objective, trained with the default model's budget and options otherwise: its evaluation and its beam recall over the default model's at each k. */
  otm?: { trainSeconds: number; training: TrainSummary; eval: ModelEvalReport; ratios: { k: number; ratio: PairedRatio }[] };
  kmeans?: StageEval & { buildSeconds: number; trainSeconds: number; epochs: number };
  jtm?: (StageEval & { round: number; moved: number; treeLearningSeconds: number; scoredNodes: number; validRecall?: number; objective?: ObjectiveChange })[];
  jtmRoundEpochs?: number;
  /** The round joint training kept (best validation recall). */
  jtmKeptRound?: number;
  /** A JTM round whose learned tree was refused (its objective on the validation users' pairs fell): not retrained, the rounds ended. */
  jtmRejected?: { round: number; moved: number; treeLearningSeconds: number; objective?: ObjectiveChange };
  /** Whether the JTM scorer has the hierarchical user preference. */
  jtmHierarchical?: boolean;
  /** Epochs and seconds of the JTM scorer's own round-0 training on the category tree (when it is not the TDM model). */
  jtmStart?: { epochs: number; keptEpoch: number; trainSeconds: number };
  /** Recall@k (k = 50) of the kept JTM round and of the k-means rebuild over the default model's, paired over the test users. */
  treeRatios?: { k: number; jtm: PairedRatio; kmeans: PairedRatio };
  /** Kept JTM round's beam recall at the largest k over TDM beam's and over brute force's (TDM scorer), paired over the test users, 95 % bootstrap interval. */
  jtmRatios?: { tdm: PairedRatio; bruteForce: PairedRatio };
  /** Purity of the default model's (category) tree against the planted categories, by level (noisy synthetic sets). */
  plantedPurity?: number[];
  /** Hierarchical user preference in the TDM scorer (absent in runs made before the option existed: off). */
  hierarchical?: boolean;
  /** Whether the TDM model's item rows had the category embedding (absent in rows run before this was recorded, which had none). */
  categoryEmb?: boolean;
}

function folderBytes(dir: string): number {
  let total = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    total += f.isDirectory() ? folderBytes(p) : statSync(p).size;
  }
  return total;
}

interface RunOptions {
  datasetsDir: string;
  epochs?: number;
  /** Also train the OTM objective and compare it with the default model. */
  otm: boolean;
  /** Also run the k-means rebuild and the JTM rounds. */
  trees: boolean;
  rounds: number;
  roundEpochs: number;
  /** Training worker threads of the default, OTM and k-means models (undefined: train's default, one per core). */
  workers?: number;
  meta: Record<string, unknown>;
}

async function runOne(spec: DatasetSpec, o: RunOptions): Promise<Row | undefined> {
  const log = stderrLogger();
  if (spec.file && !existsSync(join(o.datasetsDir, spec.file))) {
    log.warn(`skipping ${spec.name}: ${join(o.datasetsDir, spec.file)} not found`);
    return undefined;
  }
  log.info(`\n=== ${spec.title}`);
  const work = mkdtempSync(join(tmpdir(), `arbor-bench-${spec.name}-`));
  const store = Store.open(join(work, 'store.db'));
  try {
    let t = Date.now();
    let planted: PlantedPurity | undefined;
    if (spec.synthetic) {
      const ds = generateSynthetic({ ...spec.synthetic, seed: 42 });
      store.insertDataset(ds, 'synthetic');
      if (spec.synthetic.categoryNoise) planted = plantedPurity(ds);
    } else {
      await store.ingest(join(o.datasetsDir, spec.file!), spec.format!, {
        items: spec.items ? join(o.datasetsDir, spec.items) : undefined,
        minRating: spec.minRating,
        logger: log,
      });
    }
    const ingestSeconds = (Date.now() - t) / 1000;
    store.split({ testUsers: spec.testUsers, validUsers: spec.validUsers, seed: 42 });
    const stats = store.stats();
    const evalOpts = { ks: spec.ks, beam: spec.beam, oracle: true, baselines: [] as string[], maxUsers: 0, seed: 42 };

    // the default model: category tree, arbor's default training (hierarchical user preference, objective tdm, path rank rule)
    const tdmDir = join(work, 'tdm');
    t = Date.now();
    const manifest = await createModelFolder(store, tdmDir, { init: 'category', branching: 2, seed: 42 }, log);
    const buildSeconds = (Date.now() - t) / 1000;
    const trainOpts = { ...(o.epochs ? { epochs: o.epochs } : {}), ...(o.workers !== undefined ? { workers: o.workers } : {}) };
    t = Date.now();
    const { summary } = await trainModelFolder(store, tdmDir, { train: trainOpts, embDim: 24, seed: 42, hierarchical: true }, log);
    const trainSeconds = (Date.now() - t) / 1000;
    const tdm = readModel(tdmDir, { requireScorer: true });
    const report = evaluateModel(store, tdm, { ...evalOpts, perUser: true, baselines: BASELINES, skipUnavailableBaselines: true }, log);
    const curve = beamCurve(store, tdm, 'arbor defaults (category tree)', spec.ks, 42, log);
    const chosen = tdm.network!.config.pathWeight ?? 1;
    const pathCurve = chosen === 1 ? undefined : beamCurve(store, tdm, 'arbor defaults (category tree)', spec.ks, 42, log, 1);
    const nodeCurve = chosen === 0 ? undefined : beamCurve(store, tdm, 'arbor defaults (category tree)', spec.ks, 42, log, 0);
    const row: Row = {
      dataset: spec.name,
      title: spec.title,
      note: spec.note,
      meta: o.meta,
      users: stats.users,
      items: stats.items,
      events: stats.events,
      ingestSeconds,
      buildSeconds,
      trainSeconds,
      training: summary,
      objective: summary.options.objective,
      modelBytes: folderBytes(tdmDir),
      hierarchical: true,
      categoryEmb: tdm.network!.config.itemFeatures?.category ?? false,
      tree: { depth: manifest.tree.depth, branching: manifest.tree.branching },
      eval: report,
      curve,
      ...(pathCurve ? { pathCurve } : {}),
      ...(nodeCurve ? { nodeCurve } : {}),
      ...(planted ? { plantedPurity: planted(tdm.tree) } : {}),
    };
    // the default model against the best peer at every k (the best by mean recall on the test users, then paired)
    row.peers = spec.ks
      .filter((k) => k >= 50)
      .flatMap((k) => {
        const peers = ['itemcf', 'ease', 'two-tower'].map((n) => ({ n, r: userRecall(report, n, k) })).filter((p) => p.r);
        if (peers.length === 0) return [];
        const best = peers.reduce((a, b) => (b.r!.mean > a.r!.mean ? b : a));
        const mine = userRecall(report, 'beam', k)!;
        return [{ k, best: best.n, bestRecall: best.r!.mean, recall: mine.mean, ratio: pairedRatio(mine.users, best.r!.users, { seed: 42 }) }];
      });

    // OTM: the same model options and budget, objective otm
    if (o.otm) {
      const otmDir = join(work, 'otm');
      await createModelFolder(store, otmDir, { init: 'category', branching: 2, seed: 42 }, log);
      t = Date.now();
      const r = await trainModelFolder(store, otmDir, { train: { ...trainOpts, objective: 'otm' }, embDim: 24, seed: 42, hierarchical: true }, log);
      const otmSeconds = (Date.now() - t) / 1000;
      const otmModel = readModel(otmDir, { requireScorer: true });
      const otmEval = evaluateModel(store, otmModel, { ...evalOpts, perUser: true }, log);
      otmModel.network!.dispose();
      row.otm = {
        trainSeconds: otmSeconds,
        training: r.summary,
        eval: otmEval,
        ratios: spec.ks.map((k) => ({ k, ratio: pairedRatio(userRecall(otmEval, 'beam', k)!.users, userRecall(report, 'beam', k)!.users, { seed: 42 }) })),
      };
    }

    if (o.trees) await learnedTrees(row, store, tdm, tdmDir, work, evalOpts, trainOpts, o, log, planted);
    for (const e of [report, ...(row.jtm ?? []).map((j) => j.eval), ...(row.otm ? [row.otm.eval] : []), ...(row.kmeans ? [row.kmeans.eval] : [])]) for (const m of e.methods) delete m.userRecall;
    tdm.network!.dispose();
    return row;
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}


/**
 * The learned trees, from the default model: the k-means rebuild (a fresh
 * scorer on a balanced k-means tree of its item embeddings) and JTM rounds
 * (tree learning + `roundEpochs` of training each; round 0 is the default
 * model itself, which has JTM's hierarchical user preference).
 */
async function learnedTrees(row: Row, store: Store, start: Model, startDir: string, work: string, evalOpts: EvalOptions, trainOpts: { epochs?: number }, o: RunOptions, log: Logger, planted?: PlantedPurity): Promise<void> {
  const kmDir = join(work, 'kmeans');
  let t = Date.now();
  await createModelFolder(store, kmDir, { init: 'kmeans', branching: 2, seed: 42, from: startDir }, log);
  const kmBuild = (Date.now() - t) / 1000;
  t = Date.now();
  const km = await trainModelFolder(store, kmDir, { train: trainOpts, embDim: 24, seed: 42, hierarchical: true }, log);
  const kmModel = readModel(kmDir, { requireScorer: true });
  row.kmeans = {
    label: 'k-means rebuild',
    buildSeconds: kmBuild,
    trainSeconds: (Date.now() - t) / 1000,
    epochs: km.summary.epochs.length,
    eval: evaluateModel(store, kmModel, { ...evalOpts, perUser: true }, log),
    ...(planted ? { plantedPurity: planted(kmModel.tree) } : {}),
  };
  kmModel.network!.dispose();
  row.jtmHierarchical = true;
  const data = TreeDataset.of(store, start.tree);
  const sequences = data.trainSequences();
  const valid = data.cases('valid').cases;
  const jtmRows: NonNullable<Row['jtm']> = [];
  row.jtm = jtmRows;
  row.jtmRoundEpochs = o.roundEpochs;
  const joint = await jointTrain(
    start.tree,
    start.network!,
    { sequences, valid },
    { epochs: o.roundEpochs, seed: 42 },
    {
      rounds: o.rounds,
      gap: 7,
      maxPairsPerItem: 50,
      startTrained: true,
      onRound: (r, tree, network) => {
        const model = { tree, network, manifest: { ...start.manifest, training: undefined } };
        jtmRows.push({
          label: r.round > 0 ? `JTM round ${r.round}` : 'JTM round 0 (= the default model)',
          round: r.round,
          moved: r.moved,
          treeLearningSeconds: r.treeLearningSeconds,
          scoredNodes: r.scoredNodes,
          validRecall: r.validRecall,
          ...(r.objective ? { objective: r.objective } : {}),
          eval: evaluateModel(store, model, { ...evalOpts, perUser: true }, log),
          ...(planted ? { plantedPurity: planted(tree) } : {}),
        });
      },
    },
    log,
  );
  row.jtmKeptRound = joint.bestRound;
  const refused = joint.rounds.find((r) => r.rejected);
  if (refused) row.jtmRejected = { round: refused.round, moved: refused.moved, treeLearningSeconds: refused.treeLearningSeconds, ...(refused.objective ? { objective: refused.objective } : {}) };
  // recall@50 of the kept round and of the k-means rebuild over the default model's, paired
  const at = (e: ModelEvalReport, k: number) => userRecall(e, 'beam', k)!.users;
  const k50 = row.eval.ks.includes(50) ? 50 : row.eval.ks[0];
  row.treeRatios = {
    k: k50,
    jtm: pairedRatio(at(keptJtm(row)!.eval, k50), at(row.eval, k50), { seed: 42 }),
    kmeans: pairedRatio(at(row.kmeans.eval, k50), at(row.eval, k50), { seed: 42 }),
  };
  // the kept round's ratios with paired intervals (users resampled)
  const atLargestK = (e: ModelEvalReport, name: string) => userRecall(e, name, e.ks[e.ks.length - 1])!.users;
  const kept = atLargestK(keptJtm(row)!.eval, 'beam');
  row.jtmRatios = {
    tdm: pairedRatio(kept, atLargestK(row.eval, 'beam'), { seed: 42 }),
    bruteForce: pairedRatio(kept, atLargestK(row.eval, 'brute-force'), { seed: 42 }),
  };
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function stageTable(r: Row): string {
  const ks = r.eval.ks;
  const lines = [
    `| model | ${ks.map((k) => `recall@${k} beam`).join(' | ')} | ${ks.map((k) => `recall@${k} brute force`).join(' | ')} | validation recall@50 | purity (category, level ${r.tree.depth - 5}) |${r.plantedPurity ? ` purity (planted, level ${r.tree.depth - 5}) |` : ''} moved | tree learning s | objective, training pairs | objective, validation pairs |`,
    `| :--- | ${ks.map(() => '---:').join(' | ')} | ${ks.map(() => '---:').join(' | ')} | ---: | ---: |${r.plantedPurity ? ' ---: |' : ''} ---: | ---: | ---: | ---: |`,
  ];
  const arrow = (a: number, b: number) => `${a.toFixed(2)} → ${b.toFixed(2)}`;
  const row = (label: string, e: ModelEvalReport, j?: NonNullable<Row['jtm']>[number], validRecall = j?.validRecall, planted?: number[]) => {
    const beam = e.methods.find((m) => m.name === 'beam')!;
    const brute = e.methods.find((m) => m.name === 'brute-force');
    const pur = e.tree.categoryPurityByLevel[r.tree.depth - 6];
    const o = j?.objective;
    const plantedPur = planted?.[r.tree.depth - 6];
    const cells = [
      validRecall !== undefined ? pct(validRecall) : '',
      pur !== undefined ? pur.toFixed(3) : 'n/a',
      ...(r.plantedPurity ? [plantedPur !== undefined ? plantedPur.toFixed(3) : 'n/a'] : []),
      j && j.round > 0 ? pct(j.moved) : '',
      j && j.round > 0 ? j.treeLearningSeconds.toFixed(1) : '',
      o ? arrow(o.train.topBefore, o.train.topAfter) : '',
      o?.heldOut ? arrow(o.heldOut.topBefore, o.heldOut.topAfter) : '',
    ];
    lines.push(
      `| ${label}${j && j.round === r.jtmKeptRound ? ' (kept)' : ''} | ${beam.metrics.map((m) => pct(m.recall)).join(' | ')} | ${brute ? brute.metrics.map((m) => pct(m.recall)).join(' | ') : ks.map(() => '').join(' | ')} | ${cells.join(' | ')} |`,
    );
  };
  row('default model (category tree)', r.eval, undefined, bestValid(r.training), r.plantedPurity);
  if (r.kmeans) row(r.kmeans.label, r.kmeans.eval, undefined, undefined, r.kmeans.plantedPurity);
  // rows run before arbor refused such trees: a round retrained although its validation objective fell
  const refusedNow = (j: NonNullable<Row['jtm']>[number]) => j.round > 0 && !!j.objective?.heldOut && j.objective.heldOut.topAfter <= j.objective.heldOut.topBefore;
  let gateSeen = false;
  for (const j of r.jtm ?? []) {
    if (!(j.round > 0 || r.jtmStart)) continue;
    const ungated: boolean = refusedNow(j) && !gateSeen;
    gateSeen ||= ungated;
    row(ungated ? `${j.label} (run before the validation gate; arbor now refuses this tree and stops)` : j.label, j.eval, j, j.validRecall, j.plantedPurity);
  }
  if (r.jtmRejected) {
    const j = r.jtmRejected;
    const o = j.objective;
    const arrow = (a: number, b: number) => `${a.toFixed(2)} → ${b.toFixed(2)}`;
    const blank = ks.map(() => '—').join(' | ');
    lines.push(
      `| JTM round ${j.round}: not kept (its validation objective fell) | ${blank} | ${blank} | — | — |${r.plantedPurity ? ' — |' : ''} ${pct(j.moved)} | ${j.treeLearningSeconds.toFixed(1)} | ${o ? arrow(o.train.topBefore, o.train.topAfter) : ''} | ${o?.heldOut ? arrow(o.heldOut.topBefore, o.heldOut.topAfter) : ''} |`,
    );
  }
  if (r.treeRatios) {
    const ci = (x: PairedRatio) => `${x.ratio.toFixed(2)} (${x.low.toFixed(2)}–${x.high.toFixed(2)})`;
    lines.push('', `Recall@${r.treeRatios.k} (beam) over the default model's, paired over the test users (95 % bootstrap interval): kept JTM round ${ci(r.treeRatios.jtm)}; k-means rebuild ${ci(r.treeRatios.kmeans)}.`);
  }
  return lines.join('\n');
}

/**
 * The metrics beyond recall of the default model, brute force and every
 * baseline, one row per method and k ("—" for a metric the row's JSON lacks:
 * rows run before these metrics existed, or a set without categories).
 */
function beyondSection(r: Row): string[] {
  return [
    'Beyond recall (same test users and lists): nDCG (binary gains), hit rate (share of users with a hit), coverage (share of the catalogue in any user\'s list), ' +
      'novelty (mean −log2 of a listed item\'s add-one smoothed share of the training users\' events, in bits), diversity (share of listed item pairs of different categories), ' +
      'new-category recall (recall on truth items whose category is absent from the user\'s history, over the users who have one); definitions in `arbor eval --help`.',
    '',
    formatMarkdownBeyondTable(r.eval),
    '',
  ];
}

/** A line on what EASE chose and how two-tower trained and was served ('' lines dropped), then a blank line. */
function baselineNotes(r: Row): string[] {
  const by = (n: string) => r.eval.methods.find((x) => x.name === n);
  const notes: string[] = [];
  const ease = by('ease')?.details as { lambda: number; form: string; dim: number; validUsers: number; trials: { lambda: number; validRecall: number }[]; validK: number } | undefined;
  if (ease) {
    notes.push(
      `EASE: λ ${ease.lambda} chosen on ${ease.validUsers} validation users (recall@${ease.validK}: ${ease.trials.map((t) => `λ ${t.lambda} ${pct(t.validRecall)}`).join(', ')}); ${ease.form} form, a ${ease.dim} × ${ease.dim} inverse; built in ${by('ease')!.buildSeconds!.toFixed(1)} s.`,
    );
  }
  const tt = by('two-tower')?.details as { index: string; indexRecallAt50: number; indexRecallUsers: number; bestEpoch: number; epochs: unknown[]; samplesPerSecond: number; trainSeconds: number; indexSeconds: number } | undefined;
  if (tt) {
    notes.push(
      `Two-tower: ${tt.epochs.length} epochs (kept ${tt.bestEpoch}, ${Math.round(tt.samplesPerSecond)} samples/s, ${tt.trainSeconds.toFixed(0)} s), ${tt.index === 'hnsw' ? `HNSW index built in ${tt.indexSeconds.toFixed(1)} s, finding ${pct(tt.indexRecallAt50)} of the exact top 50 on ${tt.indexRecallUsers} validation histories` : 'exact search (hnswlib-node not installed)'}.`,
    );
  }
  return notes.length > 0 ? [notes.join(' '), ''] : [];
}

/** Validation recall of the epoch training kept. */
function bestValid(t: TrainSummary): number | undefined {
  return t.epochs.find((e) => e.epoch === t.bestEpoch)?.validRecall;
}

/** A ratio with its paired bootstrap interval. */
function ratioCell(p: PairedRatio): string {
  const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : String(x));
  return `${f(p.ratio)} (${f(p.low)}–${f(p.high)})`;
}

/** The JTM round the summary reports: the one joint training kept (chosen on validation users), never picked on test recall. */
function keptJtm(r: Row): NonNullable<Row['jtm']>[number] | undefined {
  return r.jtm?.find((j) => j.round === r.jtmKeptRound);
}

function markdown(rows: Row[]): string {
  const out: string[] = [
    '# arbor benchmarks',
    '',
    '<!-- written by `npm run bench` from docs/bench/*.json; each data set\'s figures come from one run on the machine it names -->',
    '',
    'Protocol (TDM/JTM papers): held-out test users; each one\'s behaviours sorted by time, the first half is the',
    'model input and the distinct items of the second half the truth; precision, recall and F-measure@k per user,',
    'averaged. Training uses only the other users (validation users drive early stopping and every choice a method',
    'makes). Every method ranks the whole catalogue: *beam* is arbor\'s tree beam search with its default model',
    '(category tree, hierarchical user preference, objective tdm, path weight chosen on validation users), *brute-force* the exact top k of the',
    'same scoring function, *popularity* and *itemcf* the classic baselines, *ease* (Steck 2019, λ chosen on the',
    'validation users) and *two-tower* (user and item towers, in-batch softmax with the logQ correction, early stopping',
    'on the validation users, served by HNSW) the learned peers, all trained on the same training users.',
    'Latency is single-threaded, per query, measured side by side in the same process.',
    '',
    '## Summary',
    '',
    'Recall on the test users. Path weight: the w the default model chose on its validation users (a node\'s key is log σ(its score) + w × its',
    'parent\'s key; 1 is the path rule, 0 the node rule). "never worse": whether recall never falls as the beam widens (25 … 1600) and brute force is the ceiling, each',
    'comparison paired over the test users with a 95 % bootstrap interval (see "Recall against beam width"); "node rule" gives the same',
    'model ranked by each node\'s own score (the TDM paper\'s rule) at the same beam, and its brute force. Ratios: paired over the test users,',
    'in brackets the 95 % percentile bootstrap interval (2,000 resamples). Best peer: the best of item-CF, EASE and two-tower by mean recall at',
    'that k. OTM: the same model trained with the otm objective for the same budget.',
    '',
    '| data set | k | path weight | beam | brute force | never worse | node rule: beam (brute force) | popularity | item-CF | EASE | two-tower | beam / best peer | OTM | OTM / beam |',
    '| :--- | ---: | ---: | ---: | ---: | :---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.flatMap((r) =>
      r.eval.ks.map((k) => {
        const at = (e: ModelEvalReport, n: string) => {
          const m = e.methods.find((x) => x.name === n);
          const x = m?.metrics.find((q) => q.k === k);
          return x ? pct(x.recall) : 'n/a';
        };
        const curveAt = (c: BeamCurve | undefined, beam: number | undefined) => {
          const p = c?.points.find((q) => q.beam === beam);
          const x = p?.recall.find((q) => q.k === k);
          return x ? pct(x.recall) : 'n/a';
        };
        const beamWidth = r.eval.methods.find((x) => x.name === 'beam')?.beam;
        const prop = r.curve?.property?.find((p) => p.k === k);
        const peer = r.peers?.find((p) => p.k === k);
        const otmRatio = r.otm?.ratios.find((x) => x.k === k);
        const node = r.nodeCurve ?? (r.curve?.pathWeight === 0 ? r.curve : undefined);
        return `| ${r.dataset}${r.tag ? ` [${r.tag}]` : ''} | ${k} | ${r.training.pathWeight ?? r.curve?.pathWeight ?? 'n/a'} | ${at(r.eval, 'beam')} | ${at(r.eval, 'brute-force')} | ${prop ? (prop.holds ? 'yes' : '**no**') : 'n/a'} | ${curveAt(node, beamWidth)} (${curveAt(node, undefined)}) | ${at(r.eval, 'popularity')} | ${at(r.eval, 'itemcf')} | ${at(r.eval, 'ease')} | ${at(r.eval, 'two-tower')} | ${peer ? `${ratioCell(peer.ratio)} vs ${peer.best}` : 'n/a'} | ${r.otm ? at(r.otm.eval, 'beam') : 'n/a'} | ${otmRatio ? ratioCell(otmRatio.ratio) : 'n/a'} |`;
      }),
    ),
    '',
  ];
  for (const r of rows) {
    const m = r.meta;
    const by = (n: string) => r.eval.methods.find((x) => x.name === n)!;
    const kMax = r.eval.ks[r.eval.ks.length - 1];
    const rec = (n: string) => by(n).metrics[by(n).metrics.length - 1].recall;
    out.push(
      `## ${r.title}`,
      '',
      `${r.users} users, ${r.items} items, ${r.events} events; ${r.eval.users} test users; ${r.note}.`,
      `Run ${m.date} on ${m.cpu} (${m.cores} cores), Node ${m.node}, tfjs backend \`${m.backend}\`; \`${m.command}\`. ` +
        `Default model: pooling scorer with the hierarchical user preference ${r.hierarchical ? 'on' : 'off'}, category embedding ${r.categoryEmb ? 'on' : 'off'}, objective ${r.objective ?? 'tdm'}, path weight ${r.training.pathWeight ?? 'n/a'} (chosen on the validation users).`,
      '',
      `### The default model against brute force and the baselines`,
      '',
      `Tree: branching ${r.tree.branching}, depth ${r.tree.depth}. Ingest ${r.ingestSeconds.toFixed(1)} s, tree build ${r.buildSeconds.toFixed(2)} s, ` +
        `training ${r.trainSeconds.toFixed(0)} s (${r.training.epochs.length} epochs, kept ${r.training.bestEpoch}; ` +
        `${Math.round(r.training.samplesPerSecond)} samples/s = ${Math.round(r.training.pairsPerSecond)} (user, node) pairs/s, ${r.training.pairsPerSample} pairs a sample, ${r.training.options.workers ?? 0} worker thread${r.training.options.workers === 1 ? '' : 's'}). ` +
        `Model folder ${(r.modelBytes / 1e6).toFixed(1)} MB.`,
      '',
      formatMarkdownTable(r.eval),
      '',
      ...beyondSection(r),
      ...baselineNotes(r),
      `Ratios at k = ${kMax}: beam / brute-force recall ${(rec('beam') / rec('brute-force')).toFixed(3)}, ` +
        `beam / popularity ${(rec('beam') / rec('popularity')).toFixed(2)}, beam / item-CF ${(rec('beam') / rec('itemcf')).toFixed(2)}; ` +
        `pairs scored beam / brute force ${((100 * by('beam').pairsPerQuery) / by('brute-force').pairsPerQuery).toFixed(2)} %; ` +
        `ms per query brute force / beam ${(by('brute-force').msPerQuery.p50 / by('beam').msPerQuery.p50).toFixed(1)}×.`,
      '',
      ...(r.peers && r.peers.length > 0
        ? [`Against the best peer (paired over the test users): ${r.peers.map((p) => `recall@${p.k} ${pct(p.recall)} against ${p.best}'s ${pct(p.bestRecall)}, ratio ${ratioCell(p.ratio)}`).join('; ')}.`, '']
        : []),
      'Validation recall by epoch: ' +
        r.training.epochs.map((e) => `${e.epoch}: ${e.validRecall !== undefined ? (e.validRecall * 100).toFixed(2) + '%' : 'n/a'}${e.pathWeight !== undefined ? ` (w ${e.pathWeight})` : ''}`).join(', ') +
        '.',
      '',
    );
    if (r.otm) {
      const o = r.otm;
      out.push(
        '### The OTM objective against the default',
        '',
        `OTM (Zhuo et al., ICML 2020): each step runs the current model's beam search (width ${o.training.options.trainBeam}, path rule) for every sample and trains on the nodes it scored, ` +
          `its path weight chosen on the validation users like the default's (${o.training.pathWeight ?? 'n/a'}), ` +
          `the target's ancestors labelled with OTM's pseudo targets, plus the default's uniform negatives. Same tree, options and epoch budget as the default model. ` +
          `Training ${o.trainSeconds.toFixed(0)} s (${o.training.epochs.length} epochs, kept ${o.training.bestEpoch}; ${Math.round(o.training.samplesPerSecond)} samples/s, ${o.training.pairsPerSample} pairs a sample); ` +
          `validation recall by epoch: ${o.training.epochs.map((e) => `${e.epoch}: ${e.validRecall !== undefined ? (e.validRecall * 100).toFixed(2) + '%' : 'n/a'}`).join(', ')}.`,
        '',
        formatMarkdownTable(o.eval),
        '',
        `OTM beam recall over the default's, paired: ${o.ratios.map((x) => `@${x.k} ${ratioCell(x.ratio)}`).join(', ')}.`,
        '',
      );
    }
    if (r.kmeans || r.jtm) {
      out.push(
        '### Learned trees: k-means rebuild and JTM rounds',
        '',
        `Same test users. k-means: a fresh default scorer trained (${r.kmeans?.epochs ?? '?'} epochs) on a balanced k-means tree of the default model's item embeddings (build ${r.kmeans?.buildSeconds.toFixed(1) ?? '?'} s). ` +
          (r.jtmStart
            ? `JTM as in its paper: a scorer with the hierarchical user preference, trained on the category tree (round 0: ${r.jtmStart.epochs} epochs, kept ${r.jtmStart.keptEpoch}, ${r.jtmStart.trainSeconds.toFixed(0)} s). `
            : `JTM: round 0 is the default model (its scorer has JTM's hierarchical user preference). `) +
          `Each round learns the tree (gap 7, at most 50 training pairs per item) and trains up to ${r.jtmRoundEpochs} more epochs; "moved" is the share of items whose leaf changed; "(kept)" marks the round joint training keeps (best validation recall); a learned tree that lowers the objective of levels 1-7 on the validation users' pairs is not retrained, and ends the rounds. ` +
          'Objective: the tree-learning objective (summed log-probabilities of the levels of the first step, 1-7) per pair, old tree → learned tree under the same weights, on the training pairs and on the validation users\' pairs. ' +
          'Purity: share of items under each node of that level belonging to its majority category (category-initialised trees start near 1 by construction).',
        '',
        stageTable(r),
        '',
      );
      if (r.jtmRatios) out.push(`Kept JTM round over the default model at k = ${kMax}: ${ratioCell(r.jtmRatios.tdm)}; over its brute force: ${ratioCell(r.jtmRatios.bruteForce)}.`, '');
    }
  }
  return out.join('\n');
}

/** The tree-learning scaling table, from `node dist/bench/tree-learning-scale.js`. */
function scaleSection(file: string): string {
  if (!existsSync(file)) return '';
  const doc = JSON.parse(readFileSync(file, 'utf8')) as {
    date: string;
    rows: { items: number; pairs: number; depth: number; gap: number; rowsScored: number; seconds: number; rowsPerSecond: number; peakRssMB: number }[];
  };
  return [
    '',
    '## Tree learning at 10k, 100k and 1M items',
    '',
    `Synthetic catalogues, an untrained pooling scorer (cost does not depend on the weights), at most one training pair per item, gap ${doc.rows[0]?.gap}; ` +
      `each size in its own process, peak memory = its max RSS (including the data, the tree and the scorer). Run ${doc.date} (\`node dist/bench/tree-learning-scale.js\`).`,
    '',
    '| items | pairs | depth | (pair, node) rows scored | seconds | rows/s | peak RSS MB |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...doc.rows.map((r) => `| ${r.items} | ${r.pairs} | ${r.depth} | ${r.rowsScored} | ${r.seconds.toFixed(1)} | ${Math.round(r.rowsPerSecond)} | ${Math.round(r.peakRssMB)} |`),
    '',
  ].join('\n');
}

function writeReport(outDir: string): void {
  const dir = join(outDir, 'bench');
  const order = DATASETS.map((d) => d.name);
  // a data set's row is docs/bench/<name>.json, each tagged run of it (--tag T) docs/bench/<name>@T.json;
  // other benches' files live beside them under other names
  // the page describes each set as its spec does now (the data are the same; a row's title and note
  // are those of the run that wrote it, which may predate a rewording)
  const files = existsSync(dir) ? readdirSync(dir) : [];
  const rows: Row[] = DATASETS.flatMap((d) => {
    const tags = files.filter((f) => f.startsWith(`${d.name}@`) && f.endsWith('.json')).map((f) => f.slice(d.name.length + 1, -'.json'.length));
    return [...(files.includes(`${d.name}.json`) ? [undefined] : []), ...tags.sort()].map((tag) => {
      const row = JSON.parse(readFileSync(join(dir, `${d.name}${tag ? '@' + tag : ''}.json`), 'utf8')) as Row;
      return { ...row, ...(tag ? { tag } : {}), title: tag ? `${d.title} [${tag}]` : d.title, note: d.note };
    });
  });
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'benchmarks.json'), JSON.stringify(rows, null, 2) + '\n');
  const curves = rows.map((r) => ({ title: r.title, curve: r.curve, pathCurve: r.pathCurve, nodeCurve: r.nodeCurve, modelPathWeight: r.training.pathWeight }));
  if (curves.some((c) => c.curve)) writeFileSync(join(outDir, 'recall-curve.svg'), renderCurveSvg(curves));
  writeFileSync(
    join(outDir, 'BENCHMARKS.md'),
    markdown(rows) + curveSection(curves, 'recall-curve.svg') + scaleSection(join(dir, 'tree-learning-scale.json')) + trainWorkersSection(join(dir, 'train-workers.json')) + trainSpeedSection(join(dir, 'train-speed.json')) + retrievalSection(join(dir, 'retrieval.json')) + serveLoadSection(dir) + ingestSection(join(dir, 'ingest.json')) + scaleBenchSection(join(dir, 'scale.json')) + ablationSection(join(dir, 'ablation'), order),
  );
  process.stderr.write(`arbor bench: wrote ${join(outDir, 'BENCHMARKS.md')} (${rows.length} data sets)\n`);
}

const USAGE = `npm run bench -- [options]   (or: node dist/bench/run.js [options])

Runs arbor's default model (with its recall-vs-beam curve under the path and the node rank rule), brute
force, popularity, item-CF, EASE, two-tower, the OTM objective, the k-means rebuild and JTM rounds on the
synthetic set and
on each real data set found in --datasets, then the retrieval cost and serve load benchmarks; writes
docs/bench/<name>.json per data set and rebuilds docs/BENCHMARKS.md and docs/benchmarks.json.

  --datasets DIR        real data sets (default ../shared/datasets; missing ones are skipped)
  --only a,b            only these: synthetic, demo, noisy-0.5, noisy-1, taobao, movielens, amazon, tiny (smoke test),
                        retrieval, serve, train-workers (1 vs 2 training worker threads),
                        train-speed (pairs/s of one training worker at 20k and 1M items, profiled),
                        ingest (arbor ingest against SQLite's CSV import), scale (the pipeline on 10M events)
  --ingest-events N     events in the ingest comparison's file (default 2000000)
  --ingest-reps N       side-by-side repetitions of the ingest comparison (default 5)
  --scale-events N      events of the scale bench's generated set (default 10000000; items N / 10)
  --scale-train-samples N  training samples of the scale bench's slice (default 300000)
  --train-workers-reps N     repetitions of each worker count in train-workers (default 3)
  --train-workers-samples N  training samples per train-workers run (default 65536: 256 steps, so the
                             workers' start-up and first steps weigh little)
  --workers N           training worker threads of the default, OTM and k-means models (default: train's,
                        one per core); two benches run side by side with --workers 1 each use both cores
  --epochs N            most training epochs of the default model, OTM and the k-means rebuild (default: train's)
  --rounds R            JTM tree-learning rounds (default 2)
  --round-epochs N      epochs of training after each tree-learning round (default 3)
  --no-otm              skip the OTM objective (trained with the default model's budget, compared with it)
  --no-trees            skip the learned trees (the k-means rebuild and the JTM rounds)
  --tag T               keep this run beside the set's main one: docs/bench/<name>@T.json, a row of its own
                        on the page (e.g. --tag defaults for a run with train's defaults, without --epochs)
  --out DIR             where the page and JSON go (default docs)
  --report              only rebuild the page from docs/bench/*.json
  --ablation            run the scorer ablation instead (--ablation-samples N per epoch, default 12000;
                        --ablation-epochs N, default 8)
  -h, --help            this text
`;

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        help: { type: 'boolean', short: 'h', default: false },
        datasets: { type: 'string', default: resolve(root, '..', 'shared', 'datasets') },
        only: { type: 'string' },
        epochs: { type: 'string' },
        workers: { type: 'string' },
        rounds: { type: 'string', default: '2' },
        'round-epochs': { type: 'string', default: '3' },
        out: { type: 'string', default: join(root, 'docs') },
        report: { type: 'boolean', default: false },
        'no-otm': { type: 'boolean', default: false },
        'no-trees': { type: 'boolean', default: false },
        tag: { type: 'string' },
        ablation: { type: 'boolean', default: false },
        'ablation-samples': { type: 'string', default: '12000' },
        'ablation-epochs': { type: 'string', default: '8' },
        'train-workers-reps': { type: 'string', default: '3' },
        'train-workers-samples': { type: 'string', default: '65536' },
        'ingest-events': { type: 'string', default: '2000000' },
        'ingest-reps': { type: 'string', default: '5' },
        'scale-events': { type: 'string', default: '10000000' },
        'scale-train-samples': { type: 'string', default: '300000' },
      },
    });
  } catch (e) {
    process.stderr.write(`arbor bench: ${(e as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  const { values } = parsed;
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const outDir = values.out!;
  const tag = values.tag;
  if (tag !== undefined && !/^[a-z0-9][a-z0-9-]*$/.test(tag)) {
    process.stderr.write(`arbor bench: --tag must be lower-case letters, digits and '-', got '${tag}'\n`);
    process.exit(2);
  }
  if (!values.report) {
    const backend = await initBackend();
    process.stderr.write(`arbor bench: tfjs backend ${backend}\n`);
    const only = values.only ? new Set(values.only.split(',')) : undefined;
    if (!existsSync(values.datasets!)) process.stderr.write(`arbor bench: ${values.datasets} not found: real data sets skipped, synthetic only\n`);
    const meta = {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: cpus().length,
      node: process.version,
      backend,
      command: 'npm run bench' + (process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''),
    };
    mkdirSync(join(outDir, 'bench'), { recursive: true });
    if (values.ablation) {
      const specs = DATASETS.filter((spec) => (only ? only.has(spec.name) : spec.name !== 'tiny'));
      await runAblations(specs, { datasetsDir: values.datasets!, outDir, samples: Number(values['ablation-samples']), epochs: Number(values['ablation-epochs']), meta });
    }
    for (const spec of values.ablation ? [] : DATASETS) {
      if (only ? !only.has(spec.name) : spec.name === 'tiny') continue;
      const row = await runOne(spec, {
        datasetsDir: values.datasets!,
        otm: !values['no-otm'],
        trees: !values['no-trees'],
        epochs: values.epochs ? Number(values.epochs) : undefined,
        workers: values.workers !== undefined ? Number(values.workers) : undefined,
        rounds: Number(values.rounds),
        roundEpochs: Number(values['round-epochs']),
        meta,
      });
      if (row) writeFileSync(join(outDir, 'bench', `${spec.name}${tag ? '@' + tag : ''}.json`), JSON.stringify(row, null, 2) + '\n');
    }
    // retrieval cost (bench/retrieval.ts), in its own process: `--only retrieval` runs just this
    if (!values.ablation && (!only || only.has('retrieval'))) {
      const r = spawnSync(process.execPath, ['--expose-gc', join(here, 'retrieval.js'), '--out', outDir, '--datasets', values.datasets!], { stdio: 'inherit' });
      if (r.status !== 0) process.stderr.write(`arbor bench: the retrieval benchmark failed (exit ${r.status})\n`);
    }
    // load test of `arbor serve` (bench/serve-load.ts; `--only serve` runs just this)
    if (!values.ablation && (!only || only.has('serve'))) await runServeLoad(serveLoadDefaults(outDir, values.datasets!));
    // data-parallel training, 1 against 2 worker threads (bench/train-workers.ts; `--only train-workers` runs just this)
    if (!values.ablation && (!only || only.has('train-workers'))) {
      await runTrainWorkers({
        outDir,
        reps: Number(values['train-workers-reps']),
        samples: Number(values['train-workers-samples']),
        items: 30000,
        users: 3000,
        workers: [1, 2],
        command: meta.command,
      });
    }
    // one training worker's pairs/s at 20k and 1M items (bench/train-speed.ts; `--only train-speed` runs just this)
    if (!values.ablation && (!only || only.has('train-speed'))) {
      await runTrainSpeed({ outDir, reps: 3, samples: 8192, sizes: [20000, 1000000], users: 3000, command: meta.command });
    }
    // ingest speed against SQLite's own CSV import (bench/ingest.ts; `--only ingest` runs just this)
    if (!values.ablation && (!only || only.has('ingest'))) {
      await runIngestBench({ outDir, events: Number(values['ingest-events']), reps: Number(values['ingest-reps']), command: meta.command });
    }
    // the pipeline at UserBehavior scale (bench/scale.ts; `--only scale` runs just this)
    if (!values.ablation && (!only || only.has('scale'))) {
      await runScaleBench({ outDir, events: Number(values['scale-events']), trainSamples: Number(values['scale-train-samples']), evalUsers: 500, validUsers: 200, seed: 42, command: meta.command });
    }
  }
  writeReport(outDir);
}

await main();
