/**
 * The pipeline stages as functions over paths, as the CLI runs them: each
 * opens the store it names, runs the stage (src/pipeline, src/data) and
 * closes it again. Defaults are the CLI's.
 */
import { DEFAULT_SEED } from '../core/rng.js';
import type { Logger } from '../core/log.js';
import { Store, type SplitOptions } from '../data/store.js';
import type { IngestOptions } from '../data/ingest.js';
import type { IngestReport, InputFormat, SplitReport } from '../data/types.js';
import { readModel, type Manifest } from '../model/index.js';
import { createModelFolder, evaluateModel, trainModelFolder, type BuildOptions, type EvalOptions, type ModelEvalReport, type TrainModelOptions } from '../pipeline/ops.js';
import { initBackend, type BackendChoice } from '../scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../scorer/config.js';
import type { TrainSummary } from '../trainer/train.js';
import { addItemsToFolder, type AddItemsOptions, type AddItemsSummary } from '../pipeline/add-items.js';
import { parseItemsFile } from '../data/items-file.js';
import type { ItemsInsertReport } from '../data/store.js';
import { readFileSync } from 'node:fs';
import { fileError } from '../core/fs-errors.js';
import { defaultBeam } from '../beam/retriever.js';

/** Runs `fn` on the store at `db` (which must exist unless `create`), closing it afterwards. */
async function withStore<T>(db: string, create: boolean, fn: (store: Store) => Promise<T> | T): Promise<T> {
  const store = Store.open(db, { mustExist: !create });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** Options of ingest. */
export interface IngestStageOptions extends IngestOptions {
  /** The store to create or add to. */
  db: string;
  format: InputFormat;
}

/** Reads a data file into the store at `o.db` (created when absent); the same content again changes nothing. */
export async function ingest(file: string, o: IngestStageOptions): Promise<IngestReport> {
  const { db, format, ...rest } = o;
  return withStore(db, true, (store) => store.ingest(file, format, rest));
}

/** Options of split. */
export interface SplitStageOptions extends Partial<SplitOptions> {
  db: string;
}

/** Holds out test and validation users in the store at `o.db` (default none; seed DEFAULT_SEED). */
export async function split(o: SplitStageOptions): Promise<SplitReport> {
  const { db, testUsers = 0, validUsers = 0, seed = DEFAULT_SEED, ...rest } = o;
  return withStore(db, false, (store) => store.split({ testUsers, validUsers, seed, ...rest }));
}

/** Options of buildTree. */
export interface BuildTreeStageOptions extends Partial<BuildOptions> {
  db: string;
  /** The model folder to create. */
  out: string;
  /** Replace a folder that holds a trained scorer (otherwise a UsageError). */
  force?: boolean;
  /** tfjs backend, for init kmeans (which reads a trained model). */
  backend?: BackendChoice;
  logger?: Logger;
}

/** Builds the initial tree over the store's catalogue into a new model folder (default: by category, branching 2). */
export async function buildTree(o: BuildTreeStageOptions): Promise<Manifest> {
  const { db, out, force, backend, logger, init = 'category', branching = 2, seed = DEFAULT_SEED, from } = o;
  if (init === 'kmeans') await initBackend(backend);
  return withStore(db, false, (store) => createModelFolder(store, out, { init, branching, seed, ...(from !== undefined ? { from } : {}) }, logger, { force }));
}

/** Options of train. */
export interface TrainStageOptions extends Partial<TrainModelOptions> {
  db: string;
  /** The model folder made by buildTree; the trained scorer is written into it. */
  model: string;
  backend?: BackendChoice;
  logger?: Logger;
}

/** Trains the scorer of the model folder `o.model` on the store's training users (CLI defaults for what is left out). */
export async function train(o: TrainStageOptions): Promise<TrainSummary> {
  const { db, model, backend, logger, train: t = {}, embDim = DEFAULT_SCORER_CONFIG.embDim, seed = DEFAULT_SEED, ...rest } = o;
  await initBackend(backend);
  return withStore(db, false, async (store) => (await trainModelFolder(store, model, { train: t, embDim, seed, ...rest }, logger)).summary);
}

/** Options of evaluate. */
export interface EvaluateStageOptions extends Partial<EvalOptions> {
  db: string;
  /** A trained model folder. */
  model: string;
  backend?: BackendChoice;
  logger?: Logger;
}

/**
 * Evaluates the model on the store's test users against brute force and
 * baselines (default: k 10, 50 and 200, beam 2 × the largest k, the oracle,
 * popularity and item-CF).
 */
export async function evaluate(o: EvaluateStageOptions): Promise<ModelEvalReport> {
  const { db, model, backend, logger, ks = [10, 50, 200], oracle = true, baselines = ['popularity', 'itemcf'], maxUsers = 0, seed = DEFAULT_SEED, ...rest } = o;
  const beam = rest.beam ?? defaultBeam(Math.max(...ks));
  await initBackend(backend);
  const m = readModel(model, { requireScorer: true });
  try {
    return await withStore(db, false, (store) => evaluateModel(store, m, { ...rest, ks, beam, oracle, baselines, maxUsers, seed }, logger));
  } finally {
    m.network!.dispose();
  }
}

/**
 * Adds the items of an items file (`ITEM` or `ITEM,CATEGORY` a line; see
 * src/data/items-file.ts) to the store at `o.db` (created when absent),
 * with or without events, in one transaction.
 */
export async function ingestItems(file: string, o: { db: string }): Promise<ItemsInsertReport> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e, 'cannot read items file');
  }
  const rows = parseItemsFile(file, bytes);
  return withStore(o.db, true, (store) => store.insertItems(rows, file));
}

/** Options of addItems. */
export interface AddItemsStageOptions extends AddItemsOptions {
  db: string;
  /** A trained model folder; rewritten atomically with the new items. */
  model: string;
  backend?: BackendChoice;
  logger?: Logger;
}

/** Adds the store's items that the trained model lacks to its tree and scorer, without retraining (see `arbor add-items`). */
export async function addItems(o: AddItemsStageOptions): Promise<AddItemsSummary> {
  const { db, model, backend, logger, ...rest } = o;
  await initBackend(backend);
  return withStore(db, false, (store) => addItemsToFolder(store, model, rest, logger));
}
