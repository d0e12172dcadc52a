/**
 * The one interface every retrieval method implements: tree beam search, the
 * brute-force oracle, and the classic baselines (popularity, item-CF).
 */

/**
 * How beam search and brute force rank the nodes of a tree level:
 * - `path` (default): the sum of log σ(score) over the node and its
 *   ancestors, a log-probability of the whole path. Nodes in different
 *   subtrees are compared on the same footing, so a wider beam can only come
 *   closer to the exhaustive ranking, and brute force (every leaf's path) is
 *   the ceiling of the search.
 * - `node`: the node's own score only, as in the TDM paper. Kept for
 *   comparison; deep levels are then compared by scores trained on few
 *   samples each, and a wider beam can lose relevant items.
 */
export type RankRule = 'path' | 'node';

/** The rank rule used when none is given. */
export const DEFAULT_RANK: RankRule = 'path';

/** The rank rules, for option choices and messages. */
export const RANK_RULES: readonly RankRule[] = ['path', 'node'];

/** True for a known rank rule. */
export function isRankRule(x: unknown): x is RankRule {
  return x === 'path' || x === 'node';
}

/** Per-call knobs. Build-time parameters live in the model, not here. */
export interface RetrieveOptions {
  /** How many items to return. */
  k: number;
  /** Nodes kept per tree level (beam search only; must be >= k). */
  beam?: number;
  /** Never return an item that is in the query's history (applied inside the search, not by over-fetching). */
  excludeHistory?: boolean;
  /** Only return items of these category indices (tree.items.categoryIds order); undefined = no filter. */
  categories?: Int32Array;
  /** How beam search and brute force rank nodes (default `path`; other methods ignore it). */
  rank?: RankRule;
}

/** The answer to one query, best first. */
export interface RetrievalResult {
  /** Item indices (catalogue order), best first; at most k. */
  items: Int32Array;
  /** Score of each returned item (higher is better; methods differ in scale). */
  scores: Float32Array;
  /** (user, node) pairs the model scored for this query (0 for non-model baselines). */
  pairsScored: number;
}

/** A retrieval method. */
export interface Retriever {
  /** Short name used in tables and JSON ("beam", "brute-force", "popularity", "itemcf"). */
  readonly name: string;
  /** True when the method returns exactly the top k of its own scoring function. */
  readonly exact: boolean;
  /** Items for a user whose behaviour history (item indices, oldest first) is given. */
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult;
  /** Several queries at once (results in query order, each as `retrieve` would give); optional. */
  retrieveBatch?(queries: { history: Int32Array; opts: RetrieveOptions }[]): RetrievalResult[];
}
