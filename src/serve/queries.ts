/**
 * Turns a request's query (external item, category and user ids) into a
 * service Query (catalogue indices), naming the field of anything it rejects.
 */
import type { Query } from '../beam/service.js';
import type { Tree } from '../tree/tree.js';
import { HttpError, badRequest } from './http-error.js';

/** A query as it arrives in a request body (already checked against querySchema). */
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

/** Server-wide defaults for knobs a request leaves out. */
export interface QueryDefaults {
  /** k when a request gives none. */
  k: number;
  /** Beam when a request gives none; undefined means 2 × k. Never below the query's k. */
  beam?: number;
}

/** A resolved query and how many history ids the model did not know (skipped, as `arbor retrieve` does). */
export interface ResolvedQuery {
  query: Query;
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

  /** Resolves one query; `at` prefixes field names (e.g. "queries[3]."). Throws HttpError. */
  resolve(body: QueryBody, at = ''): ResolvedQuery {
    const k = body.k ?? this.defaults.k;
    const beam = body.beam ?? Math.max(this.defaults.beam ?? 2 * k, k);
    if (beam < k) throw badRequest(`${at}beam`, `must be >= k (beam ${beam}, k ${k})`);
    let history: Int32Array;
    let skippedHistory = 0;
    if (body.history !== undefined && body.user !== undefined) {
      throw badRequest(`${at}user`, 'give either "history" or "user", not both');
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
      throw badRequest(`${at}history`, this.users ? 'required (or give "user")' : 'required');
    }
    const query: Query = { history, opts: { k: Math.min(k, this.tree.numItems), beam } };
    if (body.excludeHistory) query.opts.excludeHistory = true;
    if (body.categories !== undefined) query.opts.categories = this.categories(body.categories, at);
    return { query, skippedHistory };
  }

  private userHistory(user: string, at: string): Int32Array {
    if (!this.users) throw badRequest(`${at}user`, 'this server has no store to look users up (start it with --db)');
    const h = this.users.history(user);
    if (!h) throw new HttpError(404, `${at}user: ${JSON.stringify(user)} is not in the store`);
    return h;
  }

  private categories(ids: (string | number)[], at: string): Int32Array {
    const out = new Set<number>();
    for (const id of ids) {
      const c = this.categoryIndex.get(String(id));
      if (c === undefined) throw badRequest(`${at}categories`, `unknown category ${JSON.stringify(String(id))}`);
      out.add(c);
    }
    return Int32Array.from([...out].sort((a, b) => a - b));
  }
}
