/**
 * `openModel`: a trained model folder as a library object that speaks
 * external ids. Queries are resolved by the model's QueryResolver (the one
 * the HTTP service uses) and answered by the service openModelService opens.
 */
import type { RetrievalResult } from '../beam/index.js';
import { UsageError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { Store } from '../data/store.js';
import { QueryResolver, TreeDataset, modelSummary, readModel, type ModelSummary, type ResolvedQuery } from '../model/index.js';
import { openModelService, type RetrievalService } from '../runtime/index.js';
import { initBackend, type BackendChoice } from '../scorer/backend.js';

/** Options of openModel. */
export interface OpenModelOptions {
  /** Worker threads answering queries, each with its own copy of the model (default 0: the calling thread). */
  workers?: number;
  /** tfjs backend (default: ARBOR_BACKEND, else auto: the first of node-gpu, node, wasm, cpu that loads). */
  backend?: BackendChoice;
  /** SQLite store (made by ingest) whose users `retrieve({ user })` looks up; without it, queries give a history. */
  db?: string;
  /** Where progress and notes go (default: nowhere). */
  logger?: Logger;
}

/** One query in external ids. */
export interface RetrieveRequest {
  /** Item ids the user interacted with, oldest first; ids the model does not know are skipped and counted. */
  history?: string[];
  /** A user of the store given as `db` (instead of `history`). */
  user?: string;
  /** How many items to return. */
  k: number;
  /** Nodes kept per tree level (default 2 × k; at least k). */
  beam?: number;
  /**
   * Leave the items of the query's history out of the answer (default true:
   * a user is not re-shown what they already interacted with; false lets
   * history items come back, e.g. for repeat purchases).
   */
  excludeHistory?: boolean;
  /** Only return items of these category ids. */
  categories?: string[];
}

/** The answer to one query. */
export interface RetrieveResponse {
  /** Best first; at most k. Scores are the model's (higher is better). */
  items: { item: string; score: number }[];
  /** (user, tree node) pairs the scorer evaluated: the query's cost. */
  pairsScored: number;
  /** History ids the model does not know, left out of the query. */
  skippedHistory: number;
}

/** A trained model, open for queries. */
export interface OpenedModel {
  /** Answers one query. Throws UsageError for a bad field (named in the message), NotFoundError for an unknown user. */
  retrieve(request: RetrieveRequest): Promise<RetrieveResponse>;
  /** Answers several queries at once (the tree levels are searched in lockstep); results in order. */
  retrieveBatch(requests: RetrieveRequest[]): Promise<RetrieveResponse[]>;
  /** The model's manifest in brief: tree shape, scorer config, training outcome, file checksums. */
  info(): ModelSummary;
  /** Waits for queries in flight, then frees the workers, the weights and the store. */
  close(): Promise<void>;
}

/** Checks the shape of a request (the HTTP service checks it with its schema); the resolver checks the values. */
function checkRequest(r: RetrieveRequest, at: string): void {
  if (r === null || typeof r !== 'object') throw new UsageError(`${at || 'request'}: expected an object like { history: ["item", ...], k: 10 }`);
  for (const [name, v] of [['history', r.history], ['categories', r.categories]] as const) {
    if (v !== undefined && (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))) throw new UsageError(`${at}${name}: expected an array of id strings, got ${JSON.stringify(v)}`);
  }
  if (r.user !== undefined && typeof r.user !== 'string') throw new UsageError(`${at}user: expected a string, got ${JSON.stringify(r.user)}`);
}

/**
 * Opens the trained model in `dir` (made by buildTree and train, or the
 * CLI): loads and verifies it, starts the tfjs backend and, with
 * `workers`, the worker threads. Call `close()` when done.
 */
export async function openModel(dir: string, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const workers = options.workers ?? 0;
  await initBackend(options.backend);
  const model = readModel(dir, { requireScorer: true });
  const { tree } = model;
  const store = options.db === undefined ? undefined : Store.open(options.db, { mustExist: true });
  let service: RetrievalService;
  try {
    service = await openModelService(dir, model, { workers, backend: options.backend, logger: options.logger });
  } catch (e) {
    store?.close();
    model.network!.dispose();
    throw e;
  }
  // the workers hold their own copies
  if (workers > 0) model.network!.dispose();
  const resolver = new QueryResolver(tree, {}, store && TreeDataset.of(store, tree).users());
  const resolve = (r: RetrieveRequest, at: string): ResolvedQuery => {
    checkRequest(r, at);
    return resolver.resolve(r, at);
  };
  const answer = (r: RetrievalResult, skippedHistory: number): RetrieveResponse => ({
    items: Array.from(r.items, (it, i) => ({ item: resolver.catalogue.itemId(it), score: r.scores[i] })),
    pairsScored: r.pairsScored,
    skippedHistory,
  });
  let closed = false;
  const open = () => {
    if (closed) throw new UsageError(`the model ${dir} is closed`);
  };
  return {
    async retrieve(request) {
      open();
      const q = resolve(request, '');
      return answer(await service.retrieve(q.query), q.skippedHistory);
    },
    async retrieveBatch(requests) {
      open();
      if (!Array.isArray(requests)) throw new UsageError('retrieveBatch: expected an array of requests');
      const qs = requests.map((r, i) => resolve(r, `[${i}].`));
      const rs = await service.retrieveBatch(qs.map((q) => q.query));
      return rs.map((r, i) => answer(r, qs[i].skippedHistory));
    },
    info: () => modelSummary(model),
    async close() {
      if (closed) return;
      closed = true;
      try {
        await service.close();
      } finally {
        if (workers === 0) model.network!.dispose();
        store?.close();
      }
    },
  };
}
