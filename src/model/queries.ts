/**
 * Turns a query in external ids (items, categories, a user) into one in
 * catalogue indices, with k and beam defaults applied, naming the field of
 * anything it rejects. The HTTP service and the library's openModel both
 * resolve queries here.
 */
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

/** Looks a user's behaviour history up (tree item indices, oldest first); undefined when unknown. */
export interface UserSource {
  history(user: string): Int32Array | undefined;
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
  /** k when a query gives none. */
  k: number;
  /** Beam when a query gives none; undefined means 2 × k. Never below the query's k. */
  beam?: number;
  /** Whether a query that gives no `excludeHistory` excludes its history (default {@link EXCLUDE_HISTORY_DEFAULT}). */
  excludeHistory?: boolean;
}

/** A resolved query and how many history ids the model did not know (skipped, as `arbor retrieve` does). */
export interface ResolvedQuery {
  query: IndexQuery;
  skippedHistory: number;
}

/** Resolves request queries against one model's catalogue. */
export class QueryResolver {
  private readonly itemIndex = new Map<string, number>();
  private readonly categoryIndex = new Map<string, number>();

  constructor(
    private readonly tree: Tree,
    private readonly defaults: QueryDefaults,
    private readonly users?: UserSource,
  ) {
    tree.items.itemIds.forEach((id, i) => this.itemIndex.set(id, i));
    tree.items.categoryIds.forEach((id, i) => this.categoryIndex.set(id, i));
  }

  /**
   * Resolves one query; `at` prefixes field names (e.g. "queries[3].").
   * Throws UsageError for a bad field, NotFoundError for an unknown user.
   */
  resolve(body: QueryBody, at = ''): ResolvedQuery {
    const k = body.k ?? this.defaults.k;
    const beam = body.beam ?? Math.max(this.defaults.beam ?? 2 * k, k);
    if (beam < k) throw badField(`${at}beam`, `must be >= k (beam ${beam}, k ${k})`);
    let history: Int32Array;
    let skippedHistory = 0;
    if (body.history !== undefined && body.user !== undefined) {
      throw badField(`${at}user`, 'give either "history" or "user", not both');
    } else if (body.user !== undefined) {
      history = this.userHistory(String(body.user), at);
    } else if (body.history !== undefined) {
      const got: number[] = [];
      for (const id of body.history) {
        const i = this.itemIndex.get(String(id));
        if (i === undefined) skippedHistory++;
        else got.push(i);
      }
      history = Int32Array.from(got);
    } else {
      throw badField(`${at}history`, this.users ? 'required (or give "user")' : 'required');
    }
    const query: IndexQuery = { history, opts: { k: Math.min(k, this.tree.numItems), beam } };
    if (body.excludeHistory ?? this.defaults.excludeHistory ?? EXCLUDE_HISTORY_DEFAULT) query.opts.excludeHistory = true;
    if (body.categories !== undefined) query.opts.categories = this.categories(body.categories, at);
    return { query, skippedHistory };
  }

  private userHistory(user: string, at: string): Int32Array {
    if (!this.users) throw badField(`${at}user`, 'this server has no store to look users up (start it with --db)');
    const h = this.users.history(user);
    if (!h) throw new NotFoundError(`${at}user: ${JSON.stringify(user)} is not in the store`);
    return h;
  }

  private categories(ids: (string | number)[], at: string): Int32Array {
    const out = new Set<number>();
    for (const id of ids) {
      const c = this.categoryIndex.get(String(id));
      if (c === undefined) throw badField(`${at}categories`, `unknown category ${JSON.stringify(String(id))}`);
      out.add(c);
    }
    return Int32Array.from([...out].sort((a, b) => a - b));
  }
}
