/**
 * The pipeline stages as library calls (the CLI, the demo and the benchmark
 * all go through these): build a tree from a store, train a model folder's
 * scorer, evaluate a model against brute force and baselines.
 */
import { ArborError, CheckpointError, UsageError, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { Rng } from '../core/rng.js';
import { PATH_RULE } from '../beam/retriever.js';
import type { Store } from '../data/store.js';
import { evaluate, methodKs, type EvalMethod, type EvalReport } from '../eval/evaluate.js';
import { validateKs } from '../eval/metrics.js';
import { popularityRanking } from '../eval/popularity.js';
import { assertBaselineName, baselineUnavailable, buildBaseline, checkBaselines } from '../eval/baselines.js';
import { holdsTrainedScorer, readModel, writeModel, type Manifest, type Model } from '../model/folder.js';
import { TreeDataset } from '../model/dataset.js';
import { DEFAULT_SCORER_CONFIG, type ScorerConfig } from '../scorer/config.js';
import { ScorerNetwork } from '../scorer/network.js';
import type { TrainOptions, TrainSummary } from '../trainer/train.js';
import { defaultTrainWorkers, trainParallel } from '../runtime/train-pool.js';
import { activeBackend } from '../scorer/backend.js';
import type { Checkpoints, TrainState } from '../trainer/train-state.js';
import { checkIdentity, checkpointFolder, hasCheckpoint, readCheckpoint, writeCheckpoint, type RunIdentity } from './checkpoint.js';
import type { EvalCase } from '../data/types.js';
import { createHash } from 'node:crypto';
import { buildCategoryTree, buildRandomTree } from '../tree/build.js';
import { buildKMeansTree } from '../tree/kmeans.js';
import { learnTree } from '../tree/learn.js';
import { groupCohesion, purityByLevel } from '../eval/tree-quality.js';
import { jointTrain, type JointOptions } from '../trainer/joint.js';
import { ItemFeatures } from '../trainer/item-features.js';
import { readItemVectors, type ItemVectors } from '../data/item-vectors.js';
import { objectiveChange, pairScoring, type ObjectiveChange } from '../trainer/pair-scorer.js';
import { caseSamples, slidingWindowSamples } from '../trainer/samples.js';
import type { Tree } from '../tree/tree.js';
import { resolve } from 'node:path';
import { CHECKPOINT_EVERY, TRAIN_DEFAULTS } from '../trainer/defaults.js';
import { checkBehaviorTypes, checkBehaviorWeights, type BehaviorWeights } from '../data/behavior-weights.js';
import { networkSearch } from '../beam/network-search.js';
import { scorerKind, type ScorerKindName } from '../scorer/kinds.js';

/** Options of `build-tree`. */
export interface BuildOptions {
  init: 'category' | 'random' | 'kmeans';
  branching: number;
  seed: number;
  /** With init kmeans: the trained model folder whose item embeddings are clustered. */
  from?: string;
}

/** Builds the initial tree over a store's whole catalogue. */
export function buildTreeFromStore(store: Store, o: BuildOptions, logger: Logger = silentLogger): Tree {
  const cat = store.catalogue();
  if (cat.itemIds.length < 2) throw new ArborError(`the store ${store.path} holds ${cat.itemIds.length} items: ingest data first`);
  if (o.init === 'category' && cat.categoryIds.length === 0) {
    logger.warn('the store has no item categories: the category tree degenerates to a random order');
  }
  const items = { itemIds: cat.itemIds, itemCategory: cat.itemCategory, categoryIds: cat.categoryIds };
  if (o.init === 'kmeans') return kmeansTreeFrom(o, logger);
  const build = o.init === 'random' ? buildRandomTree : o.init === 'category' ? buildCategoryTree : undefined;
  if (!build) throw new UsageError(`init must be category, random or kmeans, got ${JSON.stringify(o.init)}`);
  return build(items, { branching: o.branching, seed: o.seed });
}

/** The TDM rebuild: recursive balanced k-means on a trained model's item embeddings (over that model's catalogue). */
function kmeansTreeFrom(o: BuildOptions, logger: Logger): Tree {
  if (!o.from) throw new UsageError('--init kmeans needs --from DIR: a trained model whose item embeddings to cluster');
  const source = readModel(o.from, { requireScorer: true });
  const net = source.network!;
  const d = net.config.embDim;
  const emb = net.emb.subarray(net.numInternal * d, (net.numInternal + net.numItems) * d);
  const started = Date.now();
  const tree = buildKMeansTree(source.tree.items, emb, d, { branching: o.branching, seed: o.seed });
  net.dispose();
  logger.info(`k-means tree over ${tree.numItems} item embeddings from ${o.from} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return tree;
}

/** How createModelFolder treats an existing folder. */
export interface CreateFolderOptions {
  /** Replace a folder that holds a trained scorer (default false: that is a UsageError, so a trained model is never lost by mistake). */
  force?: boolean;
}

/**
 * Creates (or replaces) a model folder holding a new tree and no scorer yet.
 * A folder that already holds a trained scorer is replaced only with
 * `force`; otherwise the call throws a UsageError naming the folder before
 * any work is done.
 */
export async function createModelFolder(store: Store, dir: string, o: BuildOptions, logger: Logger = silentLogger, c: CreateFolderOptions = {}): Promise<Manifest> {
  if (!c.force && holdsTrainedScorer(dir)) {
    throw new UsageError(`${dir} holds a trained model: building a new tree there would delete its trained scorer; give --force to replace it, or choose another --out folder`);
  }
  const tree = buildTreeFromStore(store, o, logger);
  logger.info(`tree: ${tree.numItems} items, branching ${tree.layout.branching}, depth ${tree.layout.depth}, init ${o.init}`);
  return writeModel(dir, { tree, seed: o.seed, config: { build: { ...o, store: resolve(store.path) } } });
}

/** Options of `train`. */
export interface TrainModelOptions {
  train: Partial<TrainOptions>;
  embDim: number;
  seed: number;
  /** JTM's hierarchical user preference (see ScorerConfig.hierarchical). */
  hierarchical?: boolean;
  /** JTM joint training (tree learning rounds); absent for plain TDM training. */
  joint?: JointOptions;
  /** Scorer variant (default pooling). */
  scorer?: ScorerKindName;
  /**
   * Category embedding in the item rows: auto = on for the attention scorer
   * when the tree has categories. Not for pooling: it lifts pooling's beam
   * recall, but brute force's more (the demo generator at 30k items, an earlier run: beam 44.3 → 47.0 %, brute force
   * 20.3 → 55.4 %), so beam search falls below 0.9 × brute force.
   */
  categoryEmb?: 'auto' | 'on' | 'off';
  /** JSON-lines file of dense item vectors (see src/data/item-vectors.ts). */
  itemVectors?: string;
  /** Steps between training checkpoints in MODEL/checkpoint (0: at epoch ends only; default 1000). Not with `joint`. */
  checkpointEvery?: number;
  /** Continue the interrupted run whose checkpoint is in MODEL/checkpoint (same store data, options, seed and workers). */
  resume?: boolean;
  /**
   * Start from the folder's trained scorer (its shape, embeddings and MLP;
   * `embDim`, `scorer` and `hierarchical` are then taken from the folder)
   * instead of fresh weights. The saved rows already hold any side
   * features, so item features are not added again (`categoryEmb` on and
   * `itemVectors` are usage errors). The optimiser's moments start afresh.
   */
  warmStart?: boolean;
}

/**
 * The item side features a training run uses (undefined: plain item
 * embeddings), and what the model config records about them.
 */
export function itemFeaturesFor(
  tree: Tree,
  network: ScorerNetwork,
  o: Pick<TrainModelOptions, 'scorer' | 'categoryEmb' | 'itemVectors' | 'seed'>,
  logger: Logger = silentLogger,
): { features?: ItemFeatures; record?: NonNullable<ScorerConfig['itemFeatures']> } {
  const hasCats = tree.items.categoryIds.length > 0;
  const mode = o.categoryEmb ?? 'auto';
  if (mode === 'on' && !hasCats) throw new UsageError('--category-emb on: the model\'s items have no categories');
  const category = mode === 'on' || (mode === 'auto' && scorerKind(o.scorer ?? DEFAULT_SCORER_CONFIG.kind).categoryEmbByDefault && hasCats);
  let vectors: ItemVectors | undefined;
  if (o.itemVectors) {
    vectors = readItemVectors(o.itemVectors, tree.items.itemIds);
    if (vectors.matched === 0) {
      throw new ArborError(`item vectors ${o.itemVectors}: none of its ${vectors.unknownIds} item ids is in the model's catalogue (e.g. ${JSON.stringify(vectors.unknownExamples[0])})`);
    }
    if (vectors.unknownIds > 0) logger.warn(`item vectors ${o.itemVectors}: skipped ${vectors.unknownIds} line(s) whose item id is not in the catalogue (e.g. ${vectors.unknownExamples.map((x) => JSON.stringify(x)).join(', ')})`);
    const missing = tree.numItems - vectors.matched;
    if (missing > 0) logger.warn(`item vectors ${o.itemVectors}: ${missing} of ${tree.numItems} catalogue items have no vector and get the learned default`);
    logger.info(`item vectors: ${vectors.matched} items, ${vectors.dim} values each`);
  }
  if (!category && !vectors) return {};
  const features = new ItemFeatures(tree.layout.numInternal, tree.numItems, network.config.embDim, network.emb, {
    ...(category ? { category: { itemCategory: tree.items.itemCategory, numCategories: tree.items.categoryIds.length } } : {}),
    ...(vectors ? { vectors } : {}),
  }, new Rng(o.seed ^ 0xfea7));
  return {
    features,
    record: { category, vectorDim: vectors?.dim ?? 0, ...(vectors ? { vectorFile: o.itemVectors, itemsWithVector: vectors.matched } : {}) },
  };
}

/**
 * Trains a fresh scorer for the model folder's tree on the store's training
 * users (validation users, if any, drive early stopping) and rewrites the
 * folder atomically. Test users are never read.
 */
export async function trainModelFolder(store: Store, dir: string, o: TrainModelOptions, logger: Logger = silentLogger): Promise<{ summary: TrainSummary; manifest: Manifest }> {
  if (o.warmStart) checkWarmStart(o);
  const model = readModel(dir, { requireScorer: Boolean(o.warmStart) });
  const { tree } = model;
  const data = TreeDataset.forModel(store, model, dir, logger);
  if (o.warmStart) warnItemsMissing(data.map, dir, logger);
  const behaviorWeights = trainBehaviorWeights(store, o.train.behaviorWeights, logger);
  const train = data.sequences(['train'], behaviorWeights ? { behaviorWeights: new Map(Object.entries(behaviorWeights)) } : {});
  const sequences = train.map((s) => s.items);
  const targetWeights = behaviorWeights ? train.map((s) => s.weights!) : undefined;
  const valid = data.cases('valid').cases;
  if (o.joint && o.resume) throw new UsageError('--resume continues plain training; --joint (tree learning rounds) writes no checkpoints');
  const start = o.warmStart ? model.network! : undefined;
  if (!start) model.network?.dispose();
  const config: ScorerConfig = start
    ? { ...structuredClone(start.config) }
    : { ...DEFAULT_SCORER_CONFIG, embDim: o.embDim, hierarchical: Boolean(o.hierarchical) };
  if (start) {
    delete config.itemFeatures;
    o = { ...o, embDim: config.embDim, hierarchical: Boolean(config.hierarchical), scorer: config.kind, categoryEmb: 'off' };
    logger.info(`warm start from ${dir}: ${config.kind} scorer, ${config.embDim}-d embeddings, ${tree.numItems} items`);
  }
  if (!start && o.scorer !== undefined) config.kind = o.scorer;
  const noTreeLearning = scorerKind(config.kind).treeLearningUnsupported;
  if (o.joint && noTreeLearning) throw new UsageError(`--joint (tree learning) cannot train the ${config.kind} scorer: ${noTreeLearning}`);
  const workers = o.train.workers ?? defaultTrainWorkers();
  const identity = runIdentity(store, model, sequences, valid, { ...o, train: { ...o.train, workers } });
  if (start) identity.options.warmStartFrom = model.manifest.files['scorer/weights.bin'] ?? '';
  let resume: TrainState | undefined;
  if (o.resume) {
    const saved = readCheckpoint(dir);
    checkIdentity(dir, saved.identity, identity);
    resume = saved.state;
    logger.info(
      saved.state.finished
        ? `resuming from ${checkpointFolder(dir)}: training had ended (epoch ${saved.state.loop.epochs.length}); keeping its best epoch`
        : `resuming from ${checkpointFolder(dir)}: epoch ${saved.state.epoch}, step ${saved.state.step} (${saved.state.stepsDone} steps done)`,
    );
  } else if (!o.joint && hasCheckpoint(dir)) {
    const dirCk = checkpointFolder(dir);
    throw new CheckpointError(dirCk, 'exists', `an interrupted training run left a checkpoint in ${dirCk}: continue it with --resume (same options), or delete the folder to start over`);
  }
  logger.info(`training on ${sequences.length} users${valid.length ? `, validating on ${valid.length}` : ' (no validation users: fixed epochs)'}`);
  const network = start ?? ScorerNetwork.init(config, tree.layout.numInternal, tree.numItems, new Rng(o.seed ^ 0x51ed));
  if (start) network.config.itemFeatures = undefined;
  try {
    const { features, record } = itemFeaturesFor(tree, network, o, logger);
    if (record) {
      config.itemFeatures = record;
      logger.info(`item rows: embedding${record.category ? ' + category embedding' : ''}${record.vectorDim ? ` + projected ${record.vectorDim}-d item vectors` : ''}`);
    }
    let summary: TrainSummary;
    let finalTree = tree;
    let training: unknown;
    if (o.joint) {
      const result = await jointTrain(tree, network, { sequences, valid, features, ...(targetWeights ? { targetWeights } : {}) }, { ...o.train, seed: o.seed }, { ...o.joint, trainer: trainParallel }, logger);
      finalTree = result.tree;
      summary = result.rounds[result.bestRound].training!;
      training = { ...summary, joint: { ...o.joint, bestRound: result.bestRound, rounds: result.rounds.map(({ training: t, ...r }) => ({ ...r, epochs: t?.epochs })) } };
    } else {
      const checkpoints = checkpointSink(dir, identity, o.checkpointEvery ?? CHECKPOINT_EVERY, resume, logger);
      summary = await trainParallel(tree, network, { sequences, valid, features, ...(targetWeights ? { targetWeights } : {}) }, { ...o.train, workers, seed: o.seed }, logger, checkpoints);
      training = summary;
    }
    const manifest = await writeModel(dir, {
      tree: finalTree,
      network,
      seed: o.seed,
      config: { ...model.manifest.config, scorer: config, train: summary.options, ...(o.joint ? { joint: o.joint } : {}) },
      training,
    });
    return { summary, manifest };
  } finally {
    network.dispose();
  }
}

/** Options that contradict --warm-start: a UsageError naming them. */
function checkWarmStart(o: TrainModelOptions): void {
  if (o.joint) throw new UsageError('--warm-start continues plain training; --joint (tree learning rounds) starts from fresh weights');
  if (o.itemVectors) throw new UsageError('--warm-start: the folder\'s item rows already hold their side vectors; train without --item-vectors (or from scratch to learn them again)');
  if (o.categoryEmb === 'on') throw new UsageError('--warm-start: the folder\'s item rows already hold any category embedding; train without --category-emb on');
}

/** Warns when the store holds items the model lacks: their events are not trained on until add-items adds them. */
function warnItemsMissing(map: Int32Array, dir: string, logger: Logger): void {
  let missing = 0;
  for (const t of map) if (t < 0) missing++;
  if (missing > 0) logger.warn(`${missing} item(s) of the store are not in the model ${dir}: their events are left out; add them first with arbor add-items`);
}

/**
 * The behaviour-type weights of a training run, checked against the store's
 * training events (UsageError for an unknown type, a negative weight, or
 * weights that leave no target); undefined when none are given.
 */
function trainBehaviorWeights(store: Store, weights: BehaviorWeights | undefined, logger: Logger): BehaviorWeights | undefined {
  if (!weights || Object.keys(weights).length === 0) return undefined;
  checkBehaviorWeights(weights);
  const counts = store.behaviorCounts(['train']);
  checkBehaviorTypes(weights, counts);
  logger.info(`behaviour weights: ${[...counts].map(([t, n]) => `${t} ${weights[t] ?? 1} (${n} events)`).join(', ')}`);
  return weights;
}

/** What makes a training run of model folder `model` on these users the same run (see RunIdentity). */
function runIdentity(store: Store, model: Model, sequences: Int32Array[], valid: EvalCase[], o: TrainModelOptions): RunIdentity {
  const h = createHash('sha256');
  const add = (a: Int32Array) => {
    h.update(Int32Array.of(a.length));
    h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  };
  add(Int32Array.of(sequences.length));
  for (const s of sequences) add(s);
  add(Int32Array.of(valid.length));
  for (const c of valid) {
    h.update(c.user + '\n');
    add(c.history);
    add(c.truth);
  }
  const { workers, seed: _seed, ...train } = o.train;
  return {
    data: h.digest('hex'),
    store: resolve(store.path),
    tree: model.manifest.files['tree.msgpack'] ?? '',
    seed: o.seed,
    workers: workers ?? 0,
    backend: activeBackend() ?? 'none',
    options: {
      ...DEFAULT_TRAIN_OPTIONS_FOR_IDENTITY,
      ...train,
      embDim: o.embDim,
      hierarchical: Boolean(o.hierarchical),
      scorer: o.scorer ?? DEFAULT_SCORER_CONFIG.kind,
      categoryEmb: o.categoryEmb ?? 'auto',
      itemVectors: o.itemVectors ?? null,
    },
  };
}

/** Training options left out are at their defaults: compare them as such. */
const DEFAULT_TRAIN_OPTIONS_FOR_IDENTITY: Record<string, unknown> = (({ seed: _seed, ...rest }) => ({ ...rest, pathWeight: null }))(TRAIN_DEFAULTS);

/**
 * Checkpoints of a training run into MODEL/checkpoint. A checkpoint that
 * cannot be written (disk full, read-only) is a warning: training goes on
 * and the previous checkpoint stays.
 */
function checkpointSink(dir: string, identity: RunIdentity, every: number, resume: TrainState | undefined, logger: Logger): Checkpoints {
  let warned = '';
  return {
    every,
    ...(resume ? { resume } : {}),
    save(state) {
      try {
        writeCheckpoint(dir, identity, state);
      } catch (e) {
        if (!(e instanceof ArborError)) throw e;
        if (e.message !== warned) logger.warn(`${e.message}; training goes on`);
        warned = e.message;
      }
    },
  };
}

/** Options of `learn-tree`. */
export interface LearnTreeOptions {
  gap: number;
  maxPairsPerItem: number;
  seed: number;
  /** Learn only the first `steps` steps (0 or absent: all). */
  steps?: number;
}

/**
 * One JTM tree-learning step on a trained model folder: re-assigns items to
 * leaves with the folder's scorer over the store's training pairs, and
 * rewrites the folder (same scorer weights; retrain to adapt them).
 */
export async function learnTreeInFolder(
  store: Store,
  dir: string,
  o: LearnTreeOptions,
  logger: Logger = silentLogger,
): Promise<{ moved: number; seconds: number; scoredNodes: number; objective: ObjectiveChange; manifest: Manifest }> {
  const model = readModel(dir, { requireScorer: true });
  const network = model.network!;
  try {
    const data = TreeDataset.forModel(store, model, dir, logger);
    const sequences = data.trainSequences();
    const samples = slidingWindowSamples(sequences);
    const scoring = pairScoring(network, model.tree, samples);
    if (scoring.data.numPairs === 0) throw new ArborError(`no training pairs in ${store.path}: tree learning needs training users with two or more behaviours`);
    const learned = learnTree(model.tree, scoring.data, scoring.score, {
      gap: o.gap,
      maxPairsPerItem: o.maxPairsPerItem,
      seed: o.seed,
      ...(o.steps ? { steps: o.steps } : {}),
      logger,
    });
    const valid = data.cases('valid').cases;
    const objective = objectiveChange(network, model.tree, learned.tree, o.gap, { samples, scoring }, valid.length > 0 ? caseSamples(valid) : undefined);
    const history = Array.isArray(model.manifest.config.treeLearning) ? (model.manifest.config.treeLearning as unknown[]) : [];
    const manifest = await writeModel(dir, {
      tree: learned.tree,
      network,
      seed: model.manifest.seed,
      config: { ...model.manifest.config, treeLearning: [...history, { ...o, moved: learned.moved, seconds: learned.seconds, scoredNodes: learned.scoredNodes, objective }] },
      training: model.manifest.training,
    });
    return { moved: learned.moved, seconds: learned.seconds, scoredNodes: learned.scoredNodes, objective, manifest };
  } finally {
    network.dispose();
  }
}

/** Options of `eval`. */
export interface EvalOptions {
  ks: number[];
  /**
   * Beam width, or several: one beam-search row per width, in the order
   * given (repeats dropped); each row is evaluated at the ks <= its width.
   */
  beam: number | readonly number[];
  /** Path weight of beam search and brute force (default: the model's own, chosen on validation users; see RetrieveOptions.pathWeight). */
  pathWeight?: number;
  oracle: boolean;
  baselines: string[];
  maxUsers: number;
  seed: number;
  /** Also report every test user's recall per method (see EvaluateOptions.perUser). */
  perUser?: boolean;
  /** Leave out (with a warning) the baselines that cannot serve this data instead of failing (default false). */
  skipUnavailableBaselines?: boolean;
}

/** Tree quality figures reported by `eval`. */
export interface TreeQuality {
  init: string;
  depth: number;
  /** Purity of item categories under the nodes of each level 1..depth-1 (NaN without categories). */
  categoryPurityByLevel: number[];
  /** Category cohesion (see groupCohesion); NaN without categories. */
  categoryCohesion: number;
  /** Joint training rounds recorded in the manifest. */
  rounds?: RecordedRound[];
}

/** What `eval` shows of a joint round recorded in the manifest. */
export interface RecordedRound {
  round: number;
  /** Fraction of items whose leaf changed. */
  moved: number;
  validRecall?: number;
  /** The tree-learning objective before and after (rounds ≥ 1). */
  objective?: ObjectiveChange;
  /** True when the learned tree was refused (its validation objective fell) and the rounds ended. */
  rejected?: boolean;
}

/** An evaluation report plus what the caller should know about the data. */
export interface ModelEvalReport extends EvalReport {
  /** Truth items of test users that the model's catalogue lacks (kept, unreachable). */
  unknownTruthItems: number;
  /** Path weight beam search and brute force ranked with (the model's own unless EvalOptions.pathWeight overrides it). */
  pathWeight: number;
  tree: TreeQuality;
}

/** Category purity and cohesion of a model's tree, plus its recorded rounds. */
export function treeQuality(model: Model): TreeQuality {
  const { tree } = model;
  const hasCats = tree.items.categoryIds.length > 0;
  const joint = (model.manifest.training as { joint?: { rounds?: RecordedRound[] } } | undefined)?.joint;
  return {
    init: tree.meta.init,
    depth: tree.layout.depth,
    categoryPurityByLevel: hasCats ? purityByLevel(tree, tree.items.itemCategory) : [],
    categoryCohesion: hasCats ? groupCohesion(tree, tree.items.itemCategory) : NaN,
    ...(joint?.rounds ? { rounds: joint.rounds.map((r) => ({ round: r.round, moved: r.moved, validRecall: r.validRecall, ...(r.objective ? { objective: r.objective } : {}), ...(r.rejected ? { rejected: true } : {}) })) } : {}),
  };
}

/** The distinct beam widths of `EvalOptions.beam`, in the order given; throws a UsageError for none or a bad one. */
export function beamWidths(beam: number | readonly number[]): number[] {
  const list = typeof beam === 'number' ? [beam] : [...beam];
  if (list.length === 0) throw new UsageError('give at least one beam width');
  for (const b of list) assertPositiveInteger('beam', b);
  return [...new Set(list)];
}

/**
 * Evaluates a trained model on the store's test users: beam search at each
 * width of `o.beam`, side by side with brute force and baselines. Novelty's
 * item popularity comes from the training users' events; diversity and
 * new-category recall from the tree's item categories (when it has any).
 */
export function evaluateModel(store: Store, model: Model, o: EvalOptions, logger: Logger = silentLogger): ModelEvalReport {
  const { tree, network } = model;
  if (!network) throw new ArborError('the model has no trained scorer: run `arbor train` first');
  // options first: a bad k or beam must not wait for a baseline's build
  validateKs(o.ks);
  for (const b of beamWidths(o.beam)) methodKs(o.ks, b);
  const dataset = TreeDataset.forModel(store, model, undefined, logger);
  let { cases, unknownTruth } = dataset.cases('test');
  cases = cases.filter((c) => c.truth.length > 0);
  if (cases.length === 0) throw new ArborError(`no test users in ${store.path}: run \`arbor split --test-users N\` first`);
  if (o.maxUsers > 0 && cases.length > o.maxUsers) cases = new Rng(o.seed).shuffle(cases.slice()).slice(0, o.maxUsers);
  const pathWeight = o.pathWeight ?? network.config.pathWeight ?? PATH_RULE;
  // rows are labelled with w only when the caller overrides the model's own weight
  const rank = o.pathWeight === undefined ? {} : { pathWeight: o.pathWeight };
  const search = networkSearch(tree, network);
  const methods: EvalMethod[] = beamWidths(o.beam).map((beam) => ({ retriever: search, beam, ...rank }));
  if (o.oracle) methods.push({ retriever: networkSearch(tree, network, 'brute-force'), ...rank });
  for (const b of o.baselines) assertBaselineName(b);
  // the training users' events: novelty's popularity shares and the baselines' training data
  const train = dataset.sequences(['train']);
  const catalogue = {
    numItems: tree.numItems,
    trainCounts: popularityRanking(train, tree.numItems).counts,
    ...(tree.items.categoryIds.length > 0 ? { itemCategory: tree.items.itemCategory } : {}),
  };
  if (o.baselines.length > 0) {
    const valid = dataset.cases('valid').cases.filter((c) => c.truth.length > 0);
    const data = { train, valid, numItems: tree.numItems, itemCategory: tree.items.itemCategory, seed: o.seed, logger };
    let names = o.baselines;
    if (o.skipUnavailableBaselines) {
      names = names.filter((b) => {
        const why = baselineUnavailable(b, data);
        if (why) logger.warn(`baseline ${b} left out: ${why}`);
        return !why;
      });
    }
    checkBaselines(names, data);
    for (const b of names) methods.push(buildBaseline(b, data));
  }
  const report = evaluate(methods, cases, o.ks, { logger, perUser: o.perUser, catalogue });
  return { ...report, pathWeight, unknownTruthItems: unknownTruth, tree: treeQuality(model) };
}
