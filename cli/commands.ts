/**
 * The arbor commands that load the scorer, the beam search or the service
 * (the data commands are in data-commands.ts, so they start without
 * loading tfjs). Library calls do the work; this file reads options,
 * prints results (data on stdout, logs on stderr) and nothing else.
 */
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ArborError, InputError, UsageError } from '../src/core/errors.js';
import { fileError } from '../src/core/fs-errors.js';
import { decodeUtf8 } from '../src/data/files.js';
import { Store, generateSynthetic } from '../src/data/index.js';
import { formatBeyondTable, formatEvalTable } from '../src/eval/table.js';
import { methodKs } from '../src/eval/evaluate.js';
import { versusAll } from '../src/eval/versus.js';
import { formatDemoSummary } from './demo-summary.js';
import { parseBehaviorWeights } from '../src/data/behavior-weights.js';
import { validateKs } from '../src/eval/metrics.js';
import { QueryResolver, TreeDataset, readModel, type QueryBody } from '../src/model/index.js';
import { beamWidths, createModelFolder, evaluateModel, learnTreeInFolder, trainModelFolder, type ModelEvalReport } from '../src/pipeline/ops.js';
import { addItemsToFolder } from '../src/pipeline/add-items.js';
import { describeBackend, initBackend, type BackendChoice } from '../src/scorer/backend.js';
import { describeObjectiveChange } from '../src/trainer/pair-scorer.js';
import { defaultWorkers, openModelService, openRetrievalService, type RetrievalService } from '../src/runtime/index.js';
import { asArborLogger, buildApp, serveLogger } from '../src/serve/index.js';
import type { AddressInfo } from 'node:net';
import { defaultBeam, describePathWeight, type RetrievalResult } from '../src/beam/retriever.js';
import { explainItems, explainUnsupported } from '../src/scorer/explain.js';
import { SCORER_KIND_NAMES } from '../src/scorer/config.js';
import { BACKEND_CHOICES } from '../src/scorer/backend-choice.js';
import { OBJECTIVES } from '../src/trainer/defaults.js';
import type { Options } from './program.js';
import { logger, out, withStore } from './common.js';
import { networkSearch } from '../src/beam/network-search.js';


/** Starts the tfjs backend and says which one runs (stderr). */
async function startBackend(o: Options): Promise<string> {
  // build-tree has no --backend: its k-means start takes ARBOR_BACKEND or auto
  const name = await initBackend(o.optChoice('backend', BACKEND_CHOICES));
  process.stderr.write(`arbor: ${describeBackend()}\n`);
  return name;
}

/**
 * The path weight `--rank` asks for: auto (or absent) gives none (the
 * model's own, or for training a choice on validation users), path 1, node
 * 0, else a number in [0, 1].
 */
function pathWeightOption(o: Options): { pathWeight?: number } {
  const v = o.optStr('rank');
  if (v === undefined || v === 'auto') return {};
  if (v === 'path') return { pathWeight: 1 };
  if (v === 'node') return { pathWeight: 0 };
  const w = Number(v);
  if (v.trim() === '' || !(w >= 0 && w <= 1)) throw new UsageError(`--rank must be auto, path, node or a number in [0, 1], got ${JSON.stringify(v)}`);
  return { pathWeight: w };
}

/** `--behavior-weights` parsed (UsageError naming the bad part); nothing when empty or not an option of the command. */
function behaviorWeightsOption(o: Options): { behaviorWeights?: Record<string, number> } {
  const spec = o.optStr('behaviorWeights');
  const weights = spec === undefined ? {} : parseBehaviorWeights(spec);
  return Object.keys(weights).length > 0 ? { behaviorWeights: weights } : {};
}

function trainOptions(o: Options) {
  return {
    train: {
      epochs: o.num('epochs'),
      batchSize: o.num('batchSize'),
      lr: o.num('lr'),
      negatives: o.str('negatives'),
      objective: o.choice('objective', OBJECTIVES),
      trainBeam: o.num('trainBeam'),
      ...pathWeightOption(o),
      patience: o.num('patience'),
      validK: o.num('validK'),
      maxSamplesPerEpoch: o.num('maxSamples'),
      ...behaviorWeightsOption(o),
      ...(o.has('workers') ? { workers: o.num('workers') } : {}),
    },
    embDim: o.num('embDim'),
    seed: o.num('seed'),
    hierarchical: o.bool('hierarchical'),
    scorer: o.choice('scorer', SCORER_KIND_NAMES),
    categoryEmb: o.choice('categoryEmb', ['auto', 'on', 'off'] as const),
    itemVectors: o.optStr('itemVectors'),
    ...(o.bool('joint') ? { joint: { rounds: o.num('rounds'), gap: o.num('gap'), maxPairsPerItem: o.num('maxPairsPerItem') } } : {}),
  };
}

/** `arbor build-tree --db FILE --out DIR [--init category|random] [--branching K]` */
export async function buildTreeCommand(o: Options): Promise<void> {
  const dir = o.str('out');
  await withStore(o, async (store) => {
    const init = o.choice('init', ['category', 'random', 'kmeans'] as const);
    if (init === 'kmeans') await startBackend(o);
    const m = await createModelFolder(store, dir, { init, branching: o.num('branching'), seed: o.num('seed'), from: o.optStr('from') }, logger(), { force: o.bool('force') });
    out(o.bool('json') ? JSON.stringify(m) : `wrote ${dir}: ${m.tree.numItems} items, branching ${m.tree.branching}, depth ${m.tree.depth}`);
  });
}

/** `arbor train --db FILE --model DIR [...]` */
export async function trainCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  const options = { ...trainOptions(o), checkpointEvery: o.num('checkpointEvery'), resume: o.bool('resume'), warmStart: o.bool('warmStart') };
  await startBackend(o);
  await withStore(o, async (store) => {
    const { summary } = await trainModelFolder(store, dir, options, logger());
    if (o.bool('json')) out(JSON.stringify(summary));
    else {
      const last = summary.epochs[summary.epochs.length - 1];
      out(
        `trained ${dir}: ${summary.epochs.length} epochs (kept epoch ${summary.bestEpoch}), final loss ${last.loss.toFixed(4)}, ` +
          `${Math.round(summary.samplesPerSecond)} samples/s (${Math.round(summary.pairsPerSecond)} pairs/s, ${summary.pairsPerSample} pairs a sample) on ${describeWorkers(summary.options.workers)}; ` +
          `retrieval ranks by ${describePathWeight(summary.pathWeight)}`,
      );
    }
  });
}

/** `arbor add-items --db FILE --model DIR [--item-vectors FILE] [--embed-from S] [--json]` */
export async function addItemsCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  await startBackend(o);
  await withStore(o, async (store) => {
    const r = await addItemsToFolder(
      store,
      dir,
      {
        itemVectors: o.optStr('itemVectors'),
        embedFrom: o.choice('embedFrom', ['auto', 'events', 'vectors', 'category'] as const),
        placement: o.choice('placement', ['neighbours', 'centroid', 'node', 'random'] as const),
        seed: o.num('seed'),
      },
      logger(),
    );
    if (o.bool('json')) return out(JSON.stringify(r));
    if (r.added === 0) return out(`${dir} already holds every item of ${o.str('db')}: nothing added`);
    const b = r.bySource;
    out(
      `added ${r.added} items to ${dir} (${r.numItems} in all; ${r.withoutEvents} without training events): first embeddings from events ${b.events}, vectors ${b.vectors}, category ${b.category}, mean ${b.mean}; ` +
        `tree depth ${r.depthAfter}${r.levelsGrown ? ` (grew ${r.levelsGrown} level${r.levelsGrown === 1 ? '' : 's'})` : ''}; ${r.seconds.toFixed(1)} s`,
    );
  });
}

/** "2 worker threads" or "the main thread". */
function describeWorkers(workers: number | undefined): string {
  return workers ? `${workers} worker thread${workers === 1 ? '' : 's'}` : 'the main thread';
}

/** `arbor learn-tree --model DIR --db FILE [--gap D]`: one JTM tree-learning step. */
export async function learnTreeCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  await startBackend(o);
  await withStore(o, async (store) => {
    const r = await learnTreeInFolder(store, dir, { gap: o.num('gap'), maxPairsPerItem: o.num('maxPairsPerItem'), seed: o.num('seed'), steps: o.num('steps') }, logger());
    const res = { moved: r.moved, seconds: r.seconds, scoredNodes: r.scoredNodes, objective: r.objective };
    if (o.bool('json')) {
      out(JSON.stringify(res));
      return;
    }
    out(`learned the tree of ${dir}: ${(r.moved * 100).toFixed(1)}% of items moved, ${r.scoredNodes} (pair, node) scorings, ${r.seconds.toFixed(1)} s; retrain the scorer (arbor train) to adapt it`);
    out(describeObjectiveChange(r.objective));
    const h = r.objective.heldOut;
    if (h && h.topAfter < h.topBefore) {
      out(`note: on levels 1-${r.objective.topLevels} the learned tree fits the validation pairs worse than the old one (the gain on the training pairs does not carry over); judge it after retraining (arbor train --joint keeps the better round)`);
    }
  });
}

interface Query {
  user: string | null;
  history: string[];
}

function readQueries(file: string): Query[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e);
  }
  const text = decodeUtf8(file, bytes);
  const queries: Query[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      throw new InputError(file, i + 1, 'not valid JSON', line);
    }
    const q = doc as { user?: unknown; history?: unknown };
    if (!q || typeof q !== 'object' || !Array.isArray(q.history) || q.history.some((h) => typeof h !== 'string' && typeof h !== 'number')) {
      throw new InputError(file, i + 1, 'expected {"user": "...", "history": ["item", ...]}', line);
    }
    queries.push({ user: q.user === undefined ? null : String(q.user), history: q.history.map(String) });
  });
  return queries;
}

/** `arbor retrieve --model DIR (--user ID --db FILE | --history I1,I2 | --input FILE) -k K --beam B` */
export async function retrieveCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  const sources = ['user', 'history', 'input'].filter((s) => o.has(s));
  if (sources.length !== 1) throw new UsageError('give exactly one of --user (with --db), --history or --input');
  // a bad --input file fails before the model is loaded
  const input = !o.has('input') ? undefined : readQueries(o.str('input'));
  const backendName = await startBackend(o);
  const model = readModel(dir, { requireScorer: true });
  const { tree } = model;
  const noExplain = o.bool('explain') ? explainUnsupported(model.network!) : undefined;
  if (noExplain) throw new UsageError(`--explain needs a model trained with --scorer attention; ${dir}: ${noExplain}`);
  let queries: { user: string | null; items: Int32Array; skippedHistory: number }[];
  const store = !o.has('user') ? undefined : Store.open(o.str('db'), { mustExist: true });
  const resolver = new QueryResolver(tree, {}, store && TreeDataset.of(store, tree).users());
  try {
    const bodies: { user: string | null; body: QueryBody }[] =
      o.has('user')
        ? [{ user: o.str('user'), body: { user: o.str('user') } }]
        : o.has('history')
          ? [{ user: null, body: { history: o.strs('history') } }]
          : input!.map((q) => ({ user: q.user, body: { history: q.history } }));
    queries = bodies.map(({ user, body }) => {
      const h = resolver.history(body, '--');
      return { user, items: h.items, skippedHistory: h.skipped };
    });
  } finally {
    store?.close();
  }
  const opts = { ...resolver.options({ k: o.num('k'), beam: o.optNum('beam'), excludeHistory: !o.bool('includeHistory'), categories: o.optStrs('categories') }, '--'), ...pathWeightOption(o) };
  const unknown = queries.reduce((n, q) => n + q.skippedHistory, 0);
  if (unknown > 0) process.stderr.write(`arbor: skipped ${unknown} history item(s) unknown to the model\n`);
  // --explain reads the attention weights on this thread
  const asked = o.optNum('workers') ?? defaultWorkers();
  const workers = o.bool('explain') ? 0 : Math.min(asked, queries.length > 1 ? queries.length : 0);
  // the resolved configuration, carried by every --json line
  const config = {
    model: dir,
    k: o.num('k'),
    beam: opts.beam,
    rank: o.str('rank') ?? 'auto',
    excludeHistory: Boolean(opts.excludeHistory),
    categories: opts.categories ? Array.from(opts.categories, (c) => resolver.catalogue.categoryId(c)) : null,
    explain: o.bool('explain'),
    workers,
    backend: backendName,
  };
  const print = (q: { user: string | null; items: Int32Array; skippedHistory: number }, r: RetrievalResult) => {
    const why = o.bool('explain') ? explainItems(model.network!, tree, q.items, r.items) : undefined;
    const items = Array.from(r.items, (it, i) => ({
      item: resolver.catalogue.itemId(it),
      score: Number(r.scores[i].toFixed(6)),
      ...(why ? { attention: why[i].map((b) => ({ item: resolver.catalogue.itemId(b.item), historyIndex: b.historyIndex, weight: Number(b.weight.toFixed(4)) })) } : {}),
    }));
    if (o.bool('json')) out(JSON.stringify({ user: q.user, items, pairsScored: r.pairsScored, skippedHistory: q.skippedHistory, config }));
    else {
      out(`# ${q.user ?? 'query'}: ${items.length} items, ${r.pairsScored} pairs scored${why ? '; after each item: the history behaviours with the most attention (item@position weight)' : ''}`);
      items.forEach((it, i) => out(`${i + 1}\t${it.item}\t${it.score}${it.attention ? '\t' + it.attention.map((b) => `${b.item}@${b.historyIndex} ${b.weight}`).join(', ') : ''}`));
    }
  };
  if (workers === 0) {
    const search = networkSearch(tree, model.network!);
    for (let s = 0; s < queries.length; s += RETRIEVE_CHUNK) {
      const chunk = queries.slice(s, s + RETRIEVE_CHUNK);
      search.retrieveBatch(chunk.map((q) => ({ history: q.items, opts }))).forEach((r, i) => print(chunk[i], r));
    }
    return;
  }
  model.network!.dispose();
  const pool = await openRetrievalService(dir, { workers, backend: o.choice('backend', BACKEND_CHOICES), logger: logger(), maxPending: 4 * RETRIEVE_CHUNK });
  try {
    // keep a few chunks in flight so both workers stay busy, print in input order
    const inFlight: Promise<RetrievalResult[]>[] = [];
    let next = 0;
    for (let s = 0; s < queries.length || inFlight.length > 0; ) {
      while (inFlight.length < 3 && s < queries.length) {
        const p = pool.retrieveBatch(queries.slice(s, s + RETRIEVE_CHUNK).map((q) => ({ history: q.items, opts })));
        p.catch(() => {}); // awaited below in order; this only keeps a later chunk's failure from going unhandled
        inFlight.push(p);
        s += RETRIEVE_CHUNK;
      }
      const res = await inFlight.shift()!;
      res.forEach((r) => print(queries[next++], r));
    }
  } finally {
    await pool.close();
  }
}

/** Queries sent to the search (or the pool) at a time by `retrieve --input`. */
const RETRIEVE_CHUNK = 256;

/** One line under the beyond-recall table: where its figures come from (the definitions are in `arbor eval --help`). */
const BEYOND_NOTE = "novelty: from the training users' events; definitions: arbor eval --help; —: not computed (the model has no categories)";

/** The behaviour weights a model was trained with, from eval's config (the model's manifest config, or the demo's training options). */
function behaviorWeightsOf(config: Record<string, unknown>): Record<string, number> | undefined {
  const fromModel = (config.modelConfig as { train?: { behaviorWeights?: Record<string, number> } } | undefined)?.train?.behaviorWeights;
  const fromDemo = (config.train as { behaviorWeights?: Record<string, number> } | undefined)?.behaviorWeights;
  const bw = fromModel ?? fromDemo;
  return bw && Object.keys(bw).length > 0 ? bw : undefined;
}

function printEval(report: ModelEvalReport, config: Record<string, unknown>, json: boolean): void {
  if (json) out(JSON.stringify({ config, ...report }));
  else {
    out(`${report.users} test users; beam search and brute force rank by ${describePathWeight(report.pathWeight)}`);
    const bw = behaviorWeightsOf(config);
    if (bw) out(`model trained with behaviour weights ${Object.entries(bw).map(([t, w]) => `${t}=${w}`).join(',')} (types not listed: 1)`);
    out(formatEvalTable(report));
    const short = report.methods.filter((m) => m.beam !== undefined && m.metrics.length < report.ks.length);
    if (short.length > 0) {
      out(`–: not evaluated (beam search returns at most beam items): ${short.map((m) => `beam ${m.beam} at k ${report.ks.filter((k) => k > m.beam!).join(', ')}`).join('; ')}`);
    }
    out('');
    out(formatBeyondTable(report));
    out(BEYOND_NOTE);
    const t = report.tree;
    const pur = t.categoryPurityByLevel;
    if (pur.length > 0) {
      const show = pur.map((p, i) => `L${i + 1} ${(p * 100).toFixed(0)}%`).filter((_, i) => i >= pur.length - 8);
      out(`tree (${t.init}, depth ${t.depth}): category purity by level ${show.join(', ')}; category cohesion ${t.categoryCohesion.toFixed(3)}`);
    }
    if (t.rounds) {
      out(
        `joint rounds: ${t.rounds
          .map((r) => {
            const h = r.objective?.heldOut;
            const obj = h ? ` validation objective (levels 1-${r.objective!.topLevels}) ${h.topBefore.toFixed(2)} → ${h.topAfter.toFixed(2)}` : '';
            const refused = r.rejected ? ' not kept (its validation objective fell)' : '';
            return `#${r.round} moved ${(r.moved * 100).toFixed(1)}%${obj}${refused}${r.validRecall !== undefined ? ` valid recall ${(r.validRecall * 100).toFixed(2)}%` : ''}`;
          })
          .join('; ')}`,
      );
    }
  }
}

/**
 * Options of `eval` and `demo`. --beam is a list of widths (default: 2 × the
 * largest k); a width below some k is evaluated only at the ks it reaches,
 * and one below every k is a usage error.
 */
function evalOptions(o: Options) {
  const ks = o.nums('k');
  validateKs(ks);
  const given = o.optNums('beam');
  const beam = beamWidths(given === undefined || given.length === 0 ? [defaultBeam(Math.max(...ks))] : given);
  for (const b of beam) methodKs(ks, b);
  const baselines = (o.strs('baselines')).filter((b) => b !== '');
  return { ks, beam, ...pathWeightOption(o), oracle: o.bool('oracle'), baselines, maxUsers: (o.optNum('maxUsers')) ?? 0, seed: o.num('seed') };
}

/** `arbor eval --db FILE --model DIR -k 10,50,200 --beam B [--no-oracle] [--baselines ...] [--json]` */
export async function evalCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  const eo = evalOptions(o);
  await startBackend(o);
  const model = readModel(dir, { requireScorer: true });
  await withStore(o, async (store) => {
    const report = evaluateModel(store, model, eo, logger());
    printEval(report, { ...eo, db: o.str('db'), model: dir, modelConfig: model.manifest.config }, o.bool('json'));
  });
}

/**
 * `arbor demo`: synthetic data → split → build-tree → train → eval, then a
 * report a newcomer can read (cli/demo-summary.ts): what each row is, arbor's
 * beam search against every other row, what to try next. With --json, the
 * evaluation as one JSON document and nothing else on stdout.
 */
export async function demoCommand(o: Options): Promise<void> {
  const eo = { ...evalOptions(o), maxUsers: 0, perUser: true };
  const log = logger();
  await startBackend(o);
  const keep = o.optStr('keep');
  const dir = keep ? resolve(keep) : mkdtempSync(join(tmpdir(), 'arbor-demo-'));
  if (keep) mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const store = Store.open(join(dir, 'demo.db'));
  try {
    const ds = generateSynthetic({ items: o.num('items'), users: o.num('users'), seed: o.num('seed') });
    const ins = store.insertDataset(ds, 'synthetic');
    log.info(`demo: ${ins.itemsInserted} items, ${ins.usersInserted} users, ${ins.eventsInserted} events (synthetic, seed ${o.num('seed')}) in ${dir}`);
    const split = store.split({ testUsers: o.num('testUsers'), validUsers: o.num('validUsers'), seed: o.num('seed') });
    log.info(`demo: split ${split.trainUsers} train / ${split.validUsers} validation / ${split.testUsers} test users`);
    const modelDir = join(dir, 'model');
    await createModelFolder(store, modelDir, { init: 'category', branching: 2, seed: o.num('seed') }, log, { force: true }); // the demo's own folder
    const { summary } = await trainModelFolder(store, modelDir, trainOptions(o), log);
    const model = readModel(modelDir, { requireScorer: true });
    const report = evaluateModel(store, model, eo, log);
    const { perUser: _perUser, ...shown } = eo;
    const config = { demo: { items: o.num('items'), users: o.num('users'), testUsers: o.num('testUsers'), validUsers: o.num('validUsers') }, ...shown, train: summary.options };
    // arbor's row: the widest beam (the one that reaches every k), compared at the largest k
    const beam = report.methods.filter((m) => m.name === 'beam').reduce((a, b) => (b.beam! > a.beam! ? b : a));
    const kk = beam.metrics[beam.metrics.length - 1].k;
    const vs = versusAll(report, beam, kk, o.num('seed'));
    if (o.bool('json')) {
      const methods = report.methods.map(({ userRecall: _u, ...m }) => m);
      out(JSON.stringify({ config, training: summary, ...report, methods, comparison: { method: 'beam', beam: beam.beam, k: kk, versus: vs } }));
      return;
    }
    const facts = {
      items: model.tree.numItems,
      users: ins.usersInserted,
      events: ins.eventsInserted,
      trainUsers: split.trainUsers,
      validUsers: split.validUsers,
      testUsers: split.testUsers,
      seed: o.num('seed'),
      epochs: summary.epochs.length,
      trainSeconds: summary.seconds,
    };
    out(formatDemoSummary(report, beam, vs, kk, facts));
    out('');
    out(`demo finished in ${((Date.now() - started) / 1000).toFixed(0)} s${keep ? `; store and model kept in ${dir}` : ''}`);
  } finally {
    store.close();
    if (!keep) rmSync(dir, { recursive: true, force: true });
  }
}

/** Queries in one batch request when --max-batch is not given (or --max-pending, when smaller). */
const DEFAULT_MAX_BATCH = 256;

/**
 * `arbor serve --model DIR --port P [--db FILE]`: the HTTP JSON service.
 * Prints one JSON line `{"url", "port"}` on stdout once listening; logs are
 * JSON lines on stderr. SIGTERM or SIGINT stops accepting connections, lets
 * in-flight requests finish, and exits 0.
 */
export async function serveCommand(o: Options): Promise<void> {
  const dir = o.str('model');
  // every range is checked with the option table (cli/options.ts)
  const port = o.num('port');
  const workers = o.optNum('workers') ?? defaultWorkers();
  const k = o.num('k');
  const beam = o.optNum('beam');
  const bodyLimit = o.num('bodyLimit');
  const maxPending = o.num('maxPending');
  const maxBatch = o.optNum('maxBatch') ?? Math.min(DEFAULT_MAX_BATCH, maxPending);
  const maxBatchBeam = o.num('maxBatchBeam');
  const log = serveLogger(o.str('logLevel'));
  const backend = await initBackend(o.choice('backend', BACKEND_CHOICES));
  log.info({ backend }, describeBackend());
  const model = readModel(dir, { requireScorer: true });
  const store = !o.has('db') ? undefined : Store.open(o.str('db'), { mustExist: true });
  let service: RetrievalService | undefined;
  try {
    // the pool holds at most what the server admits: maxPending before a request, plus one batch
    service = await openModelService(dir, model, { workers, maxPending: maxPending + maxBatch, backend: o.choice('backend', BACKEND_CHOICES), logger: asArborLogger(log) });
    const app = buildApp({
      service,
      model,
      users: store && TreeDataset.of(store, model.tree).users(),
      defaults: { k, beam, excludeHistory: !o.bool('includeHistory') },
      bodyLimit,
      maxPending,
      maxBatch,
      maxBatchBeam,
      logger: log,
    });
    try {
      await app.listen({ port, host: o.str('host') });
    } catch (e) {
      throw new ArborError(`cannot listen on ${o.str('host')}:${port}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    const bound = (app.server.address() as AddressInfo).port;
    const host = o.str('host').includes(':') ? `[${o.str('host')}]` : o.str('host');
    out(JSON.stringify({ url: `http://${host}:${bound}`, port: bound, model: dir, items: model.tree.numItems }));
    log.info({ port: bound, model: dir, items: model.tree.numItems, user: Boolean(store) }, 'serving');
    const signal = await new Promise<string>((resolveSignal) => {
      process.once('SIGTERM', () => resolveSignal('SIGTERM'));
      process.once('SIGINT', () => resolveSignal('SIGINT'));
    });
    log.info({ signal }, 'draining: no new connections, finishing requests in flight');
    await app.close();
  } finally {
    await service?.close();
    store?.close();
  }
  log.info('stopped');
}
