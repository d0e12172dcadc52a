/**
 * The query layer: turns a query in external ids (items, categories, a
 * user) into one in catalogue indices, with the k and beam defaults applied
 * and every knob checked, naming the field of anything it rejects. The CLI,
 * the HTTP service and the library's openModel all resolve queries here;
 * each front end checks only the shape of its input (argv specs, the JSON
 * schema, the API's argument types).
 */
import { defaultBeam } from '../beam/retriever.js';
import { NotFoundError, UsageError } from '../core/errors.js';
import type { Tree } from '../tree/tree.js';

/** A rejected field: a UsageError whose message starts with the field's path. */
function badField(field: string, what: string): UsageError {
  return new UsageError(`${field}: ${what}`);
}

/** A query in catalogue indices, as a retrieval service takes it. */
export interface IndexQuery {
  /** Item indices, oldest first. */
  history: Int32Array;
  opts: { k: number; beam: number; excludeHistory?: boolean; categories?: Int32Array };
}

/** A query in external ids (for the HTTP service, a request body already checked against its schema). */
export interface QueryBody {
  history?: (string | number)[];
  user?: string | number;
  k?: number;
  beam?: number;
  excludeHistory?: boolean;
  categories?: (string | number)[];
}

/** Looks a user's behaviour history up: tree item indices (oldest first) and how many of the user's items the tree does not know; undefined when the user is unknown. */
export interface UserSource {
  history(user: string): { items: Int32Array; skipped: number } | undefined;
}

/**
 * Whether a query that does not say leaves its own history out of the
 * answer. A recommender is expected not to re-show what the user already
 * interacted with, so the catalogue layer excludes history by default; a
 * query (or a server, or `arbor retrieve --include-history`) opts out where
 * repeat interactions are wanted.
 */
export const EXCLUDE_HISTORY_DEFAULT = true;

/** Defaults for the knobs a query leaves out. */
export interface QueryDefaults {
  /** k when a query gives none; undefined: every query must give k. */
  k?: number;
  /** Beam when a query gives none; undefined means `defaultBeam(k)` (2 × k). Never below the query's k. */
  beam?: number;
  /** Whether a query that gives no `excludeHistory` excludes its history (default {@link EXCLUDE_HISTORY_DEFAULT}). */
  excludeHistory?: boolean;
}

/** A resolved query and how many history ids the model did not know (skipped, as `arbor retrieve` does). */
export interface ResolvedQuery {
  query: IndexQuery;
  skippedHistory: number;
}

/** A model's catalogue: external item and category ids ↔ the tree's indices. */
export class ModelCatalogue {
  private readonly itemIndex = new Map<string, number>();
  private readonly categoryIndex = new Map<string, number>();

  constructor(readonly tree: Tree) {
    tree.items.itemIds.forEach((id, i) => this.itemIndex.set(id, i));
    tree.items.categoryIds.forEach((id, i) => this.categoryIndex.set(id, i));
  }

  /** The item index of an external id, undefined when the model does not know it. */
  item(id: string): number | undefined {
    return this.itemIndex.get(id);
  }

  /** The external id of an item index. */
  itemId(index: number): string {
    return this.tree.items.itemIds[index];
  }

  /** The external id of a category index. */
  categoryId(index: number): string {
    return this.tree.items.categoryIds[index];
  }

  /** Item indices of the ids the model knows (in order) and how many it skipped. */
  history(ids: readonly (string | number)[]): { items: Int32Array; skipped: number } {
    const got: number[] = [];
    for (const id of ids) {
      const i = this.itemIndex.get(String(id));
      if (i !== undefined) got.push(i);
    }
    return { items: Int32Array.from(got), skipped: ids.length - got.length };
  }

  /**
   * Category indices of external ids, each once, in index order; an unknown
   * id or an empty list is a UsageError naming `field`.
   */
  categories(ids: readonly (string | number)[], field: string): Int32Array {
    const wanted = ids.map(String).filter((c) => c !== '');
    if (wanted.length === 0) throw badField(field, 'give at least one category id');
    const out = new Set<number>();
    for (const id of wanted) {
      const c = this.categoryIndex.get(id);
      if (c === undefined) {
        const known = this.tree.items.categoryIds;
        const sample = known.slice(0, 5).map((x) => JSON.stringify(x)).join(', ');
        throw badField(field, `unknown category ${JSON.stringify(id)} (the model has ${known.length} categories${known.length ? `, e.g. ${sample}` : ''})`);
      }
      out.add(c);
    }
    return Int32Array.from([...out].sort((a, b) => a - b));
  }
}

/** A positive integer, or a UsageError naming the field. */
function positiveInteger(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw badField(field, `must be a positive integer, got ${JSON.stringify(v)}`);
  return v;
}

/** Resolves queries against one model's catalogue. */
export class QueryResolver {
  readonly catalogue: ModelCatalogue;

  constructor(
    tree: Tree,
    private readonly defaults: QueryDefaults = {},
    private readonly users?: UserSource,
  ) {
    this.catalogue = new ModelCatalogue(tree);
  }

  /**
   * Resolves one query; `at` prefixes field names (e.g. "queries[3]." or
   * "--"). Throws UsageError for a bad field, NotFoundError for an unknown
   * user.
   */
  resolve(body: QueryBody, at = ''): ResolvedQuery {
    const opts = this.options(body, at);
    const history = this.history(body, at);
    return { query: { history: history.items, opts }, skippedHistory: history.skipped };
  }

  /**
   * The knobs of a query: k (capped at the catalogue size), the beam
   * (default `defaultBeam(k)`, never below k), the history filter and the
   * category indices.
   */
  options(body: Omit<QueryBody, 'history' | 'user'>, at = ''): IndexQuery['opts'] {
    const k = positiveInteger(`${at}k`, body.k ?? this.defaults.k);
    const beam = body.beam === undefined ? Math.max(this.defaults.beam ?? defaultBeam(k), k) : positiveInteger(`${at}beam`, body.beam);
    if (beam < k) throw badField(`${at}beam`, `must be >= k (beam ${beam}, k ${k})`);
    const opts: IndexQuery['opts'] = { k: Math.min(k, this.catalogue.tree.numItems), beam };
    if (body.excludeHistory ?? this.defaults.excludeHistory ?? EXCLUDE_HISTORY_DEFAULT) opts.excludeHistory = true;
    if (body.categories !== undefined) opts.categories = this.catalogue.categories(body.categories, `${at}categories`);
    return opts;
  }

  /** The history of a query (given, or the user's from the store) in item indices, and how many ids were skipped. */
  history(body: Pick<QueryBody, 'history' | 'user'>, at = ''): { items: Int32Array; skipped: number } {
    if (body.history !== undefined && body.user !== undefined) throw badField(`${at}user`, 'give either "history" or "user", not both');
    if (body.user !== undefined) return this.userHistory(String(body.user), at);
    if (body.history !== undefined) return this.catalogue.history(body.history);
    throw badField(`${at}history`, this.users ? 'required (or give "user")' : 'required');
  }

  private userHistory(user: string, at: string): { items: Int32Array; skipped: number } {
    if (!this.users) throw badField(`${at}user`, 'this server has no store to look users up (start it with --db)');
    const h = this.users.history(user);
    if (!h) throw new NotFoundError(`${at}user: ${JSON.stringify(user)} is not in the store`);
    return h;
  }
}
