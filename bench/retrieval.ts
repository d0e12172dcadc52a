/**
 * Retrieval cost benchmark (`node dist/bench/retrieval.js`, also run by
 * `npm run bench` and `npm run bench -- --only retrieval`).
 *
 * Per catalogue (synthetic 10k, 100k and 1M items, and the real sets found in
 * ../shared/datasets), with a briefly trained pooling scorer (hierarchical
 * user preference on, as `arbor train` defaults; cost does not depend on how
 * well it is trained):
 *  - brute force with the same scorer: p50/p95 ms per query on one thread
 *    (the calling thread, one query at a time) and queries/s on a pool of all
 *    cores' workers;
 *  - beam search at beams 25, 50, 100, 200, 400 (k = min(200, beam): the
 *    project requires beam >= k): the same figures, pairs scored per query,
 *    recall@k against brute force's own top k (overlap) and, on held-out
 *    users, truth recall@k of beam divided by that of brute force.
 * On the 10k catalogue it also runs `--memory-queries` (default 100k)
 * queries and reports tf.memory() and RSS before and after.
 *
 * Writes docs/bench/retrieval.json and docs/retrieval.svg (recall@25
 * against brute force vs queries/s: every width at the same k, taken from
 * the first 25 items of its results); bench/run.ts renders the table into
 * docs/BENCHMARKS.md.
 * Beam queries/s are the median of three runs; brute force's of one (it is
 * slow at 1M items).
 * Options: --only a,b (synthetic-10k, synthetic-100k, synthetic-100k-b4 (the
 * same catalogue with a 4-ary tree: half the levels), synthetic-1m, taobao,
 * movielens, amazon), --datasets DIR, --out DIR, --workers N,
 * --memory-queries N, --quick (fewer queries, for a smoke run), --epochs E
 * and --train-samples N (training budget; default 1 epoch of each
 * catalogue's sample count, 0 = all samples). Catalogues not run keep their
 * previous figures in retrieval.json.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { openRetrievalService } from '../src/runtime/retrieval-pool.js';
import { hitsAt } from '../src/eval/metrics.js';
import type { RetrievalResult } from '../src/beam/retriever.js';
import type { Query } from '../src/runtime/retrieval-service.js';
import { stderrLogger } from '../src/core/log.js';
import { Rng } from '../src/core/rng.js';
import { Store, generateSynthetic, type InputFormat } from '../src/data/index.js';
import type { EvalCase } from '../src/data/types.js';
import { readModel, writeModel } from '../src/model/folder.js';
import { createModelFolder, trainModelFolder } from '../src/pipeline/ops.js';
import { TreeDataset } from '../src/model/dataset.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { trainScorer } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import type { Tree } from '../src/tree/tree.js';
import { renderRetrievalSvg } from './retrieval-report.js';
import type { CatalogueResult, MethodPoint, RetrievalBench } from './retrieval-types.js';
import { networkSearch } from '../src/beam/network-search.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const log = stderrLogger();
const BEAMS = [25, 50, 100, 200, 400];
const KMAX = 200;
/** The k every point is also measured at (the smallest beam reaches it), for the plot. */
const PLOT_K = Math.min(...BEAMS);
const SEED = 42;
/** Training budget of every catalogue's scorer (`--epochs`, `--train-samples`; samples undefined: each catalogue's own). */
const budget: { epochs: number; samples?: number } = { epochs: 1 };

interface Spec {
  name: string;
  title: string;
  /** Tree branching (default 2). */
  branching?: number;
  synthetic?: { items: number; users: number; trainSamples: number };
  real?: { file: string; format: InputFormat; items?: string; minRating?: number; testUsers: number };
  /** Queries timed per beam width (single thread) and per beam width on the pool. */
  queries: number;
  poolQueries: number;
  /** Queries brute force answers (single thread, and on the pool). */
  bruteQueries: number;
}

const SPECS: Spec[] = [
  { name: 'synthetic-10k', title: 'synthetic, 10k items', synthetic: { items: 10_000, users: 3000, trainSamples: 20_000 }, queries: 300, poolQueries: 3000, bruteQueries: 200 },
  { name: 'synthetic-100k', title: 'synthetic, 100k items', synthetic: { items: 100_000, users: 5000, trainSamples: 20_000 }, queries: 300, poolQueries: 2000, bruteQueries: 60 },
  { name: 'synthetic-100k-b4', title: 'synthetic, 100k items, 4-ary tree', branching: 4, synthetic: { items: 100_000, users: 5000, trainSamples: 20_000 }, queries: 300, poolQueries: 2000, bruteQueries: 60 },
  { name: 'synthetic-1m', title: 'synthetic, 1M items', synthetic: { items: 1_000_000, users: 6000, trainSamples: 20_000 }, queries: 300, poolQueries: 1000, bruteQueries: 16 },
  { name: 'taobao', title: 'Taobao UserBehavior (814 users)', real: { file: 'taobao-userbehavior/UserBehavior_prefix_814users.csv', format: 'userbehavior', testUsers: 150 }, queries: 150, poolQueries: 1500, bruteQueries: 60 },
  { name: 'movielens', title: 'MovieLens 1M part, ratings >= 4', real: { file: 'movielens-1m-part/ratings.dat', format: 'movielens', items: 'movielens-1m-part/movies.dat', minRating: 4, testUsers: 300 }, queries: 300, poolQueries: 3000, bruteQueries: 200 },
  { name: 'amazon', title: 'Amazon Beauty 5-core', real: { file: 'amazon-beauty/Beauty.txt', format: 'sequence', items: 'amazon-beauty/Beauty_item2attributes.json', testUsers: 1000 }, queries: 300, poolQueries: 3000, bruteQueries: 200 },
];

/** Percentile of sorted values. */
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function msStats(ms: number[]): { p50: number; p95: number; mean: number } {
  const s = ms.slice().sort((a, b) => a - b);
  return { p50: pct(s, 0.5), p95: pct(s, 0.95), mean: ms.reduce((a, b) => a + b, 0) / Math.max(1, ms.length) };
}

/**
 * Share of the distinct `relevant` items that `items` contains (`ifNone` when
 * there are none): truth recall against a user's held-out items, or overlap
 * with brute force's top k.
 */
function shareFound(items: Int32Array, relevant: Int32Array, ifNone: number): number {
  const set = new Set(relevant);
  if (set.size === 0) return ifNone;
  return hitsAt(items, set, [Math.max(1, items.length)])[0] / set.size;
}

/** `count` queries cycling over the cases. */
function cycle(cases: EvalCase[], count: number, k: number, beam: number): Query[] {
  return Array.from({ length: count }, (_, i) => ({ history: cases[i % cases.length].history, opts: { k, beam } }));
}

/** A synthetic catalogue: tree over every generated item, scorer trained briefly on all but the test users. */
async function synthetic(spec: Spec, dir: string): Promise<{ cases: EvalCase[]; training: string; items: number }> {
  const s = spec.synthetic!;
  const t0 = Date.now();
  const ds = generateSynthetic({ items: s.items, users: s.users, seed: SEED });
  const catIndex = new Map<string, number>();
  const itemCategory = new Int32Array(ds.items.length);
  ds.items.forEach((it, i) => {
    let c = catIndex.get(it.category);
    if (c === undefined) catIndex.set(it.category, (c = catIndex.size));
    itemCategory[i] = c;
  });
  const itemIndex = new Map(ds.items.map((it, i) => [it.id, i]));
  const tree = buildCategoryTree({ itemIds: ds.items.map((it) => it.id), itemCategory, categoryIds: [...catIndex.keys()] }, { branching: spec.branching ?? 2, seed: SEED });
  const byUser = new Map<string, number[]>();
  for (const e of ds.events) {
    let l = byUser.get(e.user);
    if (!l) byUser.set(e.user, (l = []));
    l.push(itemIndex.get(e.item)!);
  }
  const users = [...byUser.values()];
  const testUsers = Math.min(500, Math.floor(users.length / 10));
  const train = users.slice(0, users.length - testUsers).map((l) => Int32Array.from(l));
  const cases: EvalCase[] = users.slice(users.length - testUsers).map((l, i) => {
    const half = Math.floor(l.length / 2);
    return { user: `t${i}`, history: Int32Array.from(l.slice(0, half)), truth: Int32Array.from(new Set(l.slice(half))) };
  });
  const net = ScorerNetwork.init({ ...DEFAULT_SCORER_CONFIG, hierarchical: true }, tree.layout.numInternal, tree.numItems, new Rng(SEED));
  const summary = trainScorer(tree, net, { sequences: train }, { epochs: budget.epochs, maxSamplesPerEpoch: budget.samples ?? s.trainSamples, seed: SEED }, log);
  await writeModel(join(dir, 'model'), { tree, network: net, seed: SEED, config: { bench: 'retrieval', synthetic: s } });
  net.dispose();
  const training = `${epochsOf(summary.epochs.length)} of ${summary.samplesPerEpoch} sliding-window samples from ${train.length} users (${summary.seconds.toFixed(0)} s)`;
  log.info(`${spec.name}: ${tree.numItems} items, depth ${tree.layout.depth}, ${training}; ready in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return { cases, training, items: tree.numItems };
}

const epochsOf = (n: number): string => `${n} epoch${n === 1 ? '' : 's'}`;

/** A real data set: ingest, split, category tree, brief training. */
async function real(spec: Spec, dir: string, datasets: string): Promise<{ cases: EvalCase[]; training: string; items: number } | undefined> {
  const r = spec.real!;
  const file = join(datasets, r.file);
  if (!existsSync(file)) {
    log.warn(`${spec.name}: ${file} not found, skipped`);
    return undefined;
  }
  const store = Store.open(join(dir, 'store.db'));
  try {
    await store.ingest(file, r.format, { items: r.items ? join(datasets, r.items) : undefined, minRating: r.minRating, logger: log });
    store.split({ testUsers: r.testUsers, validUsers: 0, seed: SEED });
    const modelDir = join(dir, 'model');
    await createModelFolder(store, modelDir, { init: 'category', branching: 2, seed: SEED }, log);
    const { summary } = await trainModelFolder(store, modelDir, { train: { epochs: budget.epochs, maxSamplesPerEpoch: budget.samples ?? 20_000 }, embDim: 24, seed: SEED, hierarchical: true }, log);
    const { tree } = readModel(modelDir, { requireScorer: true });
    const cases = TreeDataset.of(store, tree).cases('test').cases.filter((c) => c.history.length > 0);
    return { cases, training: `${epochsOf(summary.epochs.length)} of ${summary.samplesPerEpoch} sliding-window samples (${summary.seconds.toFixed(0)} s)`, items: tree.numItems };
  } finally {
    store.close();
  }
}

/** Queries/s of the whole list handed to a pool at once: the median of `repeats` runs. */
async function poolRate(modelDir: string, workers: number, method: 'beam' | 'brute-force', qs: Query[], repeats = 3): Promise<number> {
  const pool = await openRetrievalService(modelDir, { workers, method, maxPending: qs.length + 1 });
  try {
    await pool.retrieveBatch(qs.slice(0, Math.min(qs.length, 4 * workers))); // warm-up
    const rates: number[] = [];
    for (let r = 0; r < repeats; r++) {
      const t = performance.now();
      await pool.retrieveBatch(qs);
      rates.push(qs.length / ((performance.now() - t) / 1000));
    }
    return rates.sort((a, b) => a - b)[Math.floor(repeats / 2)];
  } finally {
    await pool.close();
  }
}

async function measure(spec: Spec, modelDir: string, cases: EvalCase[], workers: number, quick: boolean): Promise<Omit<CatalogueResult, 'name' | 'title' | 'training' | 'items'>> {
  const { tree, network } = readModel(modelDir, { requireScorer: true }) as { tree: Tree; network: ScorerNetwork };
  const beam = networkSearch(tree, network);
  const brute = networkSearch(tree, network, 'brute-force');
  const nq = quick ? Math.min(30, spec.queries) : spec.queries;
  const nb = quick ? Math.min(5, spec.bruteQueries) : spec.bruteQueries;
  const np = quick ? Math.min(200, spec.poolQueries) : spec.poolQueries;
  const qCases = cases.slice(0, nq);
  // warm-up (wasm kernels, JIT)
  for (const c of qCases.slice(0, 10)) beam.retrieve(c.history, { k: KMAX, beam: 400 });
  brute.retrieve(qCases[0].history, { k: KMAX });

  // brute force, one thread
  const bruteMs: number[] = [];
  const bruteTop: Int32Array[] = [];
  for (const c of qCases.slice(0, nb)) {
    const t = performance.now();
    const r = brute.retrieve(c.history, { k: KMAX });
    bruteMs.push(performance.now() - t);
    bruteTop.push(r.items);
  }
  const bruteQps = await poolRate(modelDir, workers, 'brute-force', cycle(qCases.slice(0, nb), Math.max(nb, 2 * workers), KMAX, KMAX), 1);
  const points: MethodPoint[] = [];
  const bruteByK = (k: number) => {
    const rec = qCases.slice(0, nb).map((c, i) => shareFound(bruteTop[i].subarray(0, k), c.truth, 0));
    return rec.reduce((a, b) => a + b, 0) / rec.length;
  };
  for (const b of BEAMS) {
    const k = Math.min(KMAX, b);
    const ms: number[] = [];
    const res: RetrievalResult[] = [];
    for (const c of qCases) {
      const t = performance.now();
      res.push(beam.retrieve(c.history, { k, beam: b }));
      ms.push(performance.now() - t);
    }
    const ov = res.slice(0, nb).map((r, i) => shareFound(r.items, bruteTop[i].subarray(0, k), 1));
    const beamTruth = res.slice(0, nb).map((r, i) => shareFound(r.items, qCases[i].truth, 0));
    const bt = bruteByK(k);
    const at = (f: (r: RetrievalResult, i: number) => number) => {
      const sub = res.slice(0, nb);
      return sub.reduce((a, r, i) => a + f(r, i), 0) / sub.length;
    };
    const atFixedK = {
      k: PLOT_K,
      recallVsBrute: at((r, i) => shareFound(r.items.subarray(0, PLOT_K), bruteTop[i].subarray(0, PLOT_K), 1)),
      truthRecall: at((r, i) => shareFound(r.items.subarray(0, PLOT_K), qCases[i].truth, 0)),
    };
    const qps = await poolRate(modelDir, workers, 'beam', cycle(qCases, np, k, b));
    const st = msStats(ms);
    points.push({
      method: 'beam',
      beam: b,
      k,
      queries: qCases.length,
      pairsPerQuery: res.reduce((s, r) => s + r.pairsScored, 0) / res.length,
      p50ms: st.p50,
      p95ms: st.p95,
      qps,
      recallVsBrute: ov.reduce((a, x) => a + x, 0) / ov.length,
      truthRecall: beamTruth.reduce((a, x) => a + x, 0) / beamTruth.length,
      bruteTruthRecall: bt,
      atFixedK,
    });
    log.info(`${spec.name}: beam ${b} k ${k}: p50 ${st.p50.toFixed(2)} ms, ${Math.round(qps)} q/s on ${workers} workers, overlap ${points[points.length - 1].recallVsBrute.toFixed(3)}`);
  }
  const bst = msStats(bruteMs);
  const brutePoint: MethodPoint = {
    method: 'brute-force',
    k: KMAX,
    queries: nb,
    pairsPerQuery: tree.numItems,
    p50ms: bst.p50,
    p95ms: bst.p95,
    qps: bruteQps,
    recallVsBrute: 1,
    truthRecall: bruteByK(KMAX),
    bruteTruthRecall: bruteByK(KMAX),
    atFixedK: { k: PLOT_K, recallVsBrute: 1, truthRecall: bruteByK(PLOT_K) },
  };
  log.info(`${spec.name}: brute force p50 ${bst.p50.toFixed(1)} ms, ${bruteQps.toFixed(1)} q/s on ${workers} workers`);
  network.dispose();
  return { depth: tree.layout.depth, testUsers: cases.length, measuredAt: new Date().toISOString(), loadAvg: loadavg()[0], points: [...points, brutePoint] };
}

/** Runs many queries on one thread and reports tf.memory() and RSS before and after. */
function memoryRun(modelDir: string, cases: EvalCase[], count: number): RetrievalBench['memory'] {
  const { tree, network } = readModel(modelDir, { requireScorer: true });
  const search = networkSearch(tree, network!);
  const qs = cycle(cases, 64, 25, 25);
  search.retrieveBatch(qs);
  global.gc?.();
  const before = { ...tf.memory(), rssMB: process.memoryUsage().rss / 2 ** 20 };
  const t = performance.now();
  for (let done = 0; done < count; done += qs.length) search.retrieveBatch(qs.slice(0, Math.min(qs.length, count - done)));
  const seconds = (performance.now() - t) / 1000;
  global.gc?.();
  const after = { ...tf.memory(), rssMB: process.memoryUsage().rss / 2 ** 20 };
  network!.dispose();
  return {
    queries: count,
    seconds,
    before: { numTensors: before.numTensors, numBytes: before.numBytes, rssMB: before.rssMB },
    after: { numTensors: after.numTensors, numBytes: after.numBytes, rssMB: after.rssMB },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      datasets: { type: 'string', default: resolve(root, '..', 'shared', 'datasets') },
      out: { type: 'string', default: join(root, 'docs') },
      workers: { type: 'string' },
      'memory-queries': { type: 'string', default: '100000' },
      quick: { type: 'boolean', default: false },
      epochs: { type: 'string', default: '1' },
      'train-samples': { type: 'string' },
    },
  });
  budget.epochs = Number(values.epochs);
  // 0: every sliding-window sample
  if (values['train-samples'] !== undefined) budget.samples = Number(values['train-samples']);
  const backend = await initBackend();
  const load0 = loadavg()[0];
  const workers = values.workers ? Number(values.workers) : availableParallelism();
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const results: CatalogueResult[] = [];
  let memory: RetrievalBench['memory'];
  for (const spec of SPECS) {
    if (only && !only.has(spec.name)) continue;
    const dir = mkdtempSync(join(tmpdir(), `arbor-rbench-${spec.name}-`));
    try {
      const made = spec.synthetic ? await synthetic(spec, dir) : await real(spec, dir, values.datasets!);
      if (!made) continue;
      const m = await measure(spec, join(dir, 'model'), made.cases, workers, values.quick!);
      results.push({ name: spec.name, title: spec.title, training: made.training, items: made.items, ...m });
      if (spec.name === 'synthetic-10k') memory = memoryRun(join(dir, 'model'), made.cases, Number(values['memory-queries']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // catalogues not run this time keep their previous figures
  const file = join(values.out!, 'bench', 'retrieval.json');
  const prev = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RetrievalBench) : undefined;
  const merged = SPECS.map((s) => results.find((r) => r.name === s.name) ?? prev?.catalogues.find((r) => r.name === s.name)).filter((r): r is CatalogueResult => r !== undefined);
  const doc: RetrievalBench = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    workers,
    node: process.version,
    backend,
    loadAvg: [load0, loadavg()[0]],
    command: 'node dist/bench/retrieval.js' + (process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''),
    catalogues: merged,
    memory: memory ?? prev?.memory,
  };
  mkdirSync(join(values.out!, 'bench'), { recursive: true });
  writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  writeFileSync(join(values.out!, 'retrieval.svg'), renderRetrievalSvg(doc));
  log.info(`wrote ${join(values.out!, 'bench', 'retrieval.json')} and ${join(values.out!, 'retrieval.svg')}`);
}

await main();
