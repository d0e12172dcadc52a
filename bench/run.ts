/**
 * `npm run bench`: the whole pipeline on the synthetic set and on each real
 * data set found in ../shared/datasets (skipped with a message when absent),
 * under the papers' protocol (held-out users, first half of each one's
 * time-sorted behaviours as input, second half as truth). Writes
 * docs/BENCHMARKS.md (readable tables) and docs/benchmarks.json.
 *
 * Per data set: TDM (category-initialised tree, default training) against
 * brute force with the same scorer, popularity, item-CF, EASE and two-tower
 * (bench tables gain a column each), and TDM's recall-vs-beam curve
 * (bench/curve.ts: widths 25 … 1600 and brute force; docs/recall-curve.svg);
 * then TDM + the
 * k-means rebuild (a fresh scorer on a balanced k-means tree of the TDM item
 * embeddings); then JTM as in its paper: a scorer with the hierarchical user
 * preference trained on the category tree for the TDM budget (round 0), then
 * rounds of tree learning + `--round-epochs` of training, each evaluated on
 * the test users. The summary reports the round joint training kept (best
 * validation recall) and its recall over TDM's and over brute force's, with
 * paired bootstrap intervals over the test users.
 *
 * Each data set's figures go to docs/bench/<name>.json as soon as it is done;
 * docs/BENCHMARKS.md and docs/benchmarks.json are then rebuilt from every
 * file in docs/bench (so data sets can be run separately or in parallel:
 * `--only movielens`, `--report` to only rebuild the page).
 *
 * Options: USAGE below (`npm run bench -- --help`). After the data sets it
 * runs the retrieval cost benchmark (bench/retrieval.ts) in its own process,
 * the `arbor serve` load test and the data-parallel training comparison of
 * 1 and 2 worker threads (bench/train-workers.ts); `--ablation` runs the
 * scorer ablation (bench/ablation.ts) instead.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync, statSync, readdirSync, readFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { spawnSync } from 'node:child_process';
import { stderrLogger } from '../src/core/log.js';
import { Store, generateSynthetic } from '../src/data/index.js';
import { formatMarkdownTable } from '../src/eval/table.js';
import { pairedRatio, type PairedRatio } from '../src/eval/paired.js';
import { readModel } from '../src/model/folder.js';
import { createModelFolder, evaluateModel, trainModelFolder, type ModelEvalReport } from '../src/pipeline/ops.js';
import { mapCases, mapSequences, storeToTree } from '../src/pipeline/items.js';
import { jointTrain } from '../src/trainer/joint.js';
import type { ObjectiveChange } from '../src/trainer/pair-scorer.js';
import { initBackend } from '../src/scorer/backend.js';
import type { TrainSummary } from '../src/trainer/train.js';
import { runServeLoad, serveLoadDefaults, serveLoadSection } from './serve-load.js';
import { retrievalSection } from './retrieval-report.js';
import { ablationSection, runAblations, type AblationDataset } from './ablation.js';
import { runTrainWorkers, trainWorkersSection } from './train-workers.js';
import { beamCurve, curveSection, renderCurveSvg, type BeamCurve } from './curve.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** A bench data set: where its files are (relative to the datasets folder) and how it is evaluated. */
interface DatasetSpec extends AblationDataset {
  ks: number[];
  beam: number;
  note: string;
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
}

interface Row {
  dataset: string;
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
  /** TDM's recall at beam widths 25 … 1600 and brute force (bench/curve.ts). */
  curve?: BeamCurve;
  kmeans?: StageEval & { buildSeconds: number; trainSeconds: number; epochs: number };
  jtm?: (StageEval & { round: number; moved: number; treeLearningSeconds: number; scoredNodes: number; validRecall?: number; objective?: ObjectiveChange })[];
  jtmRoundEpochs?: number;
  /** The round joint training kept (best validation recall). */
  jtmKeptRound?: number;
  /** Whether the JTM scorer has the hierarchical user preference. */
  jtmHierarchical?: boolean;
  /** Epochs and seconds of the JTM scorer's own round-0 training on the category tree (when it is not the TDM model). */
  jtmStart?: { epochs: number; keptEpoch: number; trainSeconds: number };
  /** Kept JTM round's beam recall at the largest k over TDM beam's and over brute force's (TDM scorer), paired over the test users, 95 % bootstrap interval. */
  jtmRatios?: { tdm: PairedRatio; bruteForce: PairedRatio };
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
  hierarchical: boolean;
  /** JTM as in its paper: a scorer with the hierarchical user preference, trained on the category tree, then rounds. False: rounds start from the TDM model. */
  jtmHierarchical: boolean;
  epochs?: number;
  rounds: number;
  roundEpochs: number;
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
    if (spec.synthetic) {
      store.insertDataset(generateSynthetic({ ...spec.synthetic, seed: 42 }), 'synthetic');
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

    // TDM: category tree, default training
    const tdmDir = join(work, 'tdm');
    t = Date.now();
    const manifest = await createModelFolder(store, tdmDir, { init: 'category', branching: 2, seed: 42 }, log);
    const buildSeconds = (Date.now() - t) / 1000;
    t = Date.now();
    const { summary } = await trainModelFolder(store, tdmDir, { train: o.epochs ? { epochs: o.epochs } : {}, embDim: 24, seed: 42, hierarchical: o.hierarchical }, log);
    const trainSeconds = (Date.now() - t) / 1000;
    const tdm = readModel(tdmDir, { requireScorer: true });
    const report = evaluateModel(store, tdm, { ...evalOpts, perUser: true, baselines: BASELINES, skipUnavailableBaselines: true }, log);
    const curve = beamCurve(store, tdm, 'TDM (category tree)', spec.ks, 42, log);
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
      modelBytes: folderBytes(tdmDir),
      hierarchical: o.hierarchical,
      categoryEmb: tdm.network!.config.itemFeatures?.category ?? false,
      tree: { depth: manifest.tree.depth, branching: manifest.tree.branching },
      eval: report,
      curve,
    };

    // TDM + k-means rebuild: balanced k-means on the TDM item embeddings, fresh scorer
    const kmDir = join(work, 'kmeans');
    t = Date.now();
    await createModelFolder(store, kmDir, { init: 'kmeans', branching: 2, seed: 42, from: tdmDir }, log);
    const kmBuild = (Date.now() - t) / 1000;
    t = Date.now();
    const km = await trainModelFolder(store, kmDir, { train: o.epochs ? { epochs: o.epochs } : {}, embDim: 24, seed: 42, hierarchical: o.hierarchical }, log);
    row.kmeans = {
      label: 'TDM + k-means rebuild',
      buildSeconds: kmBuild,
      trainSeconds: (Date.now() - t) / 1000,
      epochs: km.summary.epochs.length,
      eval: evaluateModel(store, readModel(kmDir, { requireScorer: true }), evalOpts, log),
    };

    // JTM as in its paper: the hierarchical user preference from the start (round 0: trained on the
    // category tree for the TDM budget), then rounds of tree learning + training; or (--jtm-plain)
    // rounds starting from the TDM model itself.
    let start = tdm;
    if (o.jtmHierarchical && !o.hierarchical) {
      const jtmDir = join(work, 'jtm');
      await createModelFolder(store, jtmDir, { init: 'category', branching: 2, seed: 42 }, log);
      t = Date.now();
      const js = await trainModelFolder(store, jtmDir, { train: o.epochs ? { epochs: o.epochs } : {}, embDim: 24, seed: 42, hierarchical: true }, log);
      row.jtmStart = { epochs: js.summary.epochs.length, keptEpoch: js.summary.bestEpoch, trainSeconds: (Date.now() - t) / 1000 };
      start = readModel(jtmDir, { requireScorer: true });
    }
    row.jtmHierarchical = Boolean(start.network!.config.hierarchical);
    const map = storeToTree(store.catalogue(), start.tree);
    const sequences = mapSequences(store.sequences(['train']), map).map((x) => x.items);
    const valid = mapCases(store.evalCases('valid'), map).cases;
    row.jtm = [];
    row.jtmRoundEpochs = o.roundEpochs;
    const jtmRows = row.jtm;
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
            label: r.round > 0 ? `JTM round ${r.round}` : start !== tdm ? 'JTM round 0 (category tree)' : 'JTM round 0 (= TDM)',
            round: r.round,
            moved: r.moved,
            treeLearningSeconds: r.treeLearningSeconds,
            scoredNodes: r.scoredNodes,
            validRecall: r.validRecall,
            ...(r.objective ? { objective: r.objective } : {}),
            eval: evaluateModel(store, model, { ...evalOpts, perUser: true }, log),
          });
        },
      },
      log,
    );
    row.jtmKeptRound = joint.bestRound;
    // the summary's ratios with paired intervals (users resampled), then the per-user figures go: they would bloat the JSON
    const atLargestK = (e: ModelEvalReport, name: string) => {
      const m = e.methods.find((x) => x.name === name)!;
      return m.userRecall![m.userRecall!.length - 1];
    };
    const kept = atLargestK(keptJtm(row)!.eval, 'beam');
    row.jtmRatios = {
      tdm: pairedRatio(kept, atLargestK(report, 'beam'), { seed: 42 }),
      bruteForce: pairedRatio(kept, atLargestK(report, 'brute-force'), { seed: 42 }),
    };
    for (const e of [report, ...jtmRows.map((j) => j.eval)]) for (const m of e.methods) delete m.userRecall;
    if (start !== tdm) start.network!.dispose();
    tdm.network!.dispose();
    return row;
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;

function stageTable(r: Row): string {
  const ks = r.eval.ks;
  const lines = [
    `| model | ${ks.map((k) => `recall@${k} beam`).join(' | ')} | ${ks.map((k) => `recall@${k} brute force`).join(' | ')} | validation recall@50 | purity (category, level ${r.tree.depth - 5}) | moved | tree learning s | objective, training pairs | objective, validation pairs |`,
    `| :--- | ${ks.map(() => '---:').join(' | ')} | ${ks.map(() => '---:').join(' | ')} | ---: | ---: | ---: | ---: | ---: | ---: |`,
  ];
  const arrow = (a: number, b: number) => `${a.toFixed(2)} → ${b.toFixed(2)}`;
  const row = (label: string, e: ModelEvalReport, j?: NonNullable<Row['jtm']>[number], validRecall = j?.validRecall) => {
    const beam = e.methods.find((m) => m.name === 'beam')!;
    const brute = e.methods.find((m) => m.name === 'brute-force');
    const pur = e.tree.categoryPurityByLevel[r.tree.depth - 6];
    const o = j?.objective;
    const cells = [
      validRecall !== undefined ? pct(validRecall) : '',
      pur !== undefined ? pur.toFixed(3) : 'n/a',
      j && j.round > 0 ? pct(j.moved) : '',
      j && j.round > 0 ? j.treeLearningSeconds.toFixed(1) : '',
      o ? arrow(o.train.topBefore, o.train.topAfter) : '',
      o?.heldOut ? arrow(o.heldOut.topBefore, o.heldOut.topAfter) : '',
    ];
    lines.push(
      `| ${label}${j && j.round === r.jtmKeptRound ? ' (kept)' : ''} | ${beam.metrics.map((m) => pct(m.recall)).join(' | ')} | ${brute ? brute.metrics.map((m) => pct(m.recall)).join(' | ') : ks.map(() => '').join(' | ')} | ${cells.join(' | ')} |`,
    );
  };
  row('TDM (category init)', r.eval, undefined, bestValid(r.training));
  if (r.kmeans) row(r.kmeans.label, r.kmeans.eval);
  for (const j of r.jtm ?? []) if (j.round > 0 || r.jtmStart) row(j.label, j.eval, j);
  return lines.join('\n');
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
    'averaged. Training uses only the other users (validation users drive early stopping). Every method ranks the',
    'whole catalogue: *beam* is arbor\'s tree beam search, *brute-force* scores every item with the same trained',
    'scorer, *popularity* and *itemcf* are the classic baselines, *ease* (Steck 2019, λ chosen on the validation users) and *two-tower* (user and item towers, in-batch softmax with the logQ correction, early stopping on the validation users, served by HNSW) the learned peers, all trained on the same training users.',
    'Latency is single-threaded, per query, measured side by side in the same process.',
    '',
    '## Summary (recall at the largest k)',
    '',
    'JTM: the round joint training kept (best validation recall, chosen on the validation users, not the test users); the goal of issue 3 is JTM / TDM >= 1.2 and JTM / brute force >= 1.',
    'In brackets after each ratio: its 95 % interval, percentile bootstrap over the test users (2,000 resamples, both recalls of a resample taken on the same users).',
    '',
    '| data set | k | TDM beam | brute force (TDM scorer) | popularity | item-CF | EASE | two-tower | TDM + k-means | JTM (kept round) | JTM / TDM | JTM / brute force | training samples/s | ms/query beam (brute force) |',
    '| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const last = (e: ModelEvalReport, n: string) => {
        const m = e.methods.find((x) => x.name === n);
        return m ? m.metrics[m.metrics.length - 1].recall : NaN;
      };
      const opt = (n: string) => (r.eval.methods.some((x) => x.name === n) ? pct(last(r.eval, n)) : 'n/a');
      const ms = (n: string) => r.eval.methods.find((x) => x.name === n)!.msPerQuery.p50.toFixed(2);
      const kept = keptJtm(r);
      const jtmRecall = kept ? last(kept.eval, 'beam') : NaN;
      return `| ${r.dataset} | ${r.eval.ks[r.eval.ks.length - 1]} | ${pct(last(r.eval, 'beam'))} | ${pct(last(r.eval, 'brute-force'))} | ${pct(last(r.eval, 'popularity'))} | ${pct(last(r.eval, 'itemcf'))} | ${opt('ease')} | ${opt('two-tower')} | ${r.kmeans ? pct(last(r.kmeans.eval, 'beam')) : 'n/a'} | ${kept ? `${pct(jtmRecall)} (round ${kept.round})` : 'n/a'} | ${r.jtmRatios ? ratioCell(r.jtmRatios.tdm) : 'n/a'} | ${r.jtmRatios ? ratioCell(r.jtmRatios.bruteForce) : 'n/a'} | ${Math.round(r.training.samplesPerSecond)} | ${ms('beam')} (${ms('brute-force')}) |`;
    }),
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
        `Scorer: pooling, category embedding ${r.categoryEmb ? 'on' : 'off'}; hierarchical user preference ${r.hierarchical ? 'on' : 'off'} for TDM and the k-means rebuild` +
        (r.jtmHierarchical !== undefined ? `, ${r.jtmHierarchical ? 'on' : 'off'} for JTM.` : '.'),
      '',
      `### TDM against brute force and the baselines`,
      '',
      `Tree: branching ${r.tree.branching}, depth ${r.tree.depth}. Ingest ${r.ingestSeconds.toFixed(1)} s, tree build ${r.buildSeconds.toFixed(2)} s, ` +
        `training ${r.trainSeconds.toFixed(0)} s (${r.training.epochs.length} epochs, kept ${r.training.bestEpoch}; ` +
        `${Math.round(r.training.samplesPerSecond)} samples/s = ${Math.round(r.training.pairsPerSecond)} (user, node) pairs/s, ${r.training.pairsPerSample} pairs a sample). ` +
        `Model folder ${(r.modelBytes / 1e6).toFixed(1)} MB.`,
      '',
      formatMarkdownTable(r.eval),
      '',
      ...baselineNotes(r),
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
    if (r.kmeans || r.jtm) {
      out.push(
        '### Learned trees: k-means rebuild and JTM rounds',
        '',
        `Same test users. k-means: a fresh scorer trained (${r.kmeans?.epochs ?? '?'} epochs) on a balanced k-means tree of the TDM item embeddings (build ${r.kmeans?.buildSeconds.toFixed(1) ?? '?'} s). ` +
          (r.jtmStart
            ? `JTM as in its paper: a scorer with the hierarchical user preference, trained on the category tree with the TDM budget (round 0: ${r.jtmStart.epochs} epochs, kept ${r.jtmStart.keptEpoch}, ${r.jtmStart.trainSeconds.toFixed(0)} s), so round 0 against TDM measures the hierarchical preference and later rounds against round 0 measure tree learning (plus their extra training). `
            : `JTM: from the TDM model (scorer with the hierarchical user preference ${r.jtmHierarchical ? 'on' : 'off'}). `) +
          `Each round learns the tree (gap 7, at most 50 training pairs per item) and trains up to ${r.jtmRoundEpochs} more epochs; "moved" is the share of items whose leaf changed; "(kept)" marks the round joint training keeps (best validation recall). ` +
          'Objective: the tree-learning objective (summed log-probabilities of the levels of the first step, 1-7) per pair, old tree → learned tree under the same weights, on the training pairs and on the validation users\' pairs. ' +
          'Purity: share of items under each node of that level belonging to its majority category (category-initialised trees start near 1 by construction).',
        '',
        stageTable(r),
        '',
      );
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
  // a data set's row is docs/bench/<name>.json; other benches' files live beside them under other names
  const rows: Row[] = order
    .map((name) => join(dir, `${name}.json`))
    .filter((f) => existsSync(f))
    .map((f) => JSON.parse(readFileSync(f, 'utf8')) as Row);
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'benchmarks.json'), JSON.stringify(rows, null, 2) + '\n');
  const curves = rows.map((r) => ({ title: r.title, curve: r.curve }));
  if (curves.some((c) => c.curve)) writeFileSync(join(outDir, 'recall-curve.svg'), renderCurveSvg(curves));
  writeFileSync(
    join(outDir, 'BENCHMARKS.md'),
    markdown(rows) + curveSection(curves, 'recall-curve.svg') + scaleSection(join(dir, 'tree-learning-scale.json')) + trainWorkersSection(join(dir, 'train-workers.json')) + retrievalSection(join(dir, 'retrieval.json')) + serveLoadSection(dir) + ablationSection(join(dir, 'ablation'), order),
  );
  process.stderr.write(`arbor bench: wrote ${join(outDir, 'BENCHMARKS.md')} (${rows.length} data sets)\n`);
}

const USAGE = `npm run bench -- [options]   (or: node dist/bench/run.js [options])

Runs TDM (with its recall-vs-beam curve), brute force, popularity, item-CF, EASE, two-tower, the k-means
rebuild and JTM rounds on the synthetic set and
on each real data set found in --datasets, then the retrieval cost and serve load benchmarks; writes
docs/bench/<name>.json per data set and rebuilds docs/BENCHMARKS.md and docs/benchmarks.json.

  --datasets DIR        real data sets (default ../shared/datasets; missing ones are skipped)
  --only a,b            only these: synthetic, taobao, movielens, amazon, tiny (smoke test),
                        retrieval, serve, train-workers (1 vs 2 training worker threads)
  --train-workers-reps N     repetitions of each worker count in train-workers (default 3)
  --train-workers-samples N  training samples per train-workers run (default 16384)
  --epochs N            training epochs of TDM, the k-means rebuild and JTM's round 0 (default: train's)
  --rounds R            JTM tree-learning rounds (default 2)
  --round-epochs N      epochs of training after each tree-learning round (default 3)
  --hierarchical        give the TDM scorer the hierarchical user preference too (off: TDM as in its paper)
  --jtm-plain           JTM rounds start from the TDM model instead of their own hierarchical scorer
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
        rounds: { type: 'string', default: '2' },
        'round-epochs': { type: 'string', default: '3' },
        out: { type: 'string', default: join(root, 'docs') },
        report: { type: 'boolean', default: false },
        hierarchical: { type: 'boolean', default: false },
        'jtm-plain': { type: 'boolean', default: false },
        ablation: { type: 'boolean', default: false },
        'ablation-samples': { type: 'string', default: '12000' },
        'ablation-epochs': { type: 'string', default: '8' },
        'train-workers-reps': { type: 'string', default: '3' },
        'train-workers-samples': { type: 'string', default: '16384' },
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
        hierarchical: values.hierarchical!,
        jtmHierarchical: !values['jtm-plain'],
        epochs: values.epochs ? Number(values.epochs) : undefined,
        rounds: Number(values.rounds),
        roundEpochs: Number(values['round-epochs']),
        meta,
      });
      if (row) writeFileSync(join(outDir, 'bench', `${spec.name}.json`), JSON.stringify(row, null, 2) + '\n');
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
  }
  writeReport(outDir);
}

await main();
