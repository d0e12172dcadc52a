/**
 * The one interface every retrieval method implements: tree beam search, the
 * brute-force oracle, and the classic baselines (popularity, item-CF).
 */

/**
 * How beam search and brute force rank the nodes of a tree level: by a key
 * that adds the node's own log σ(score) to `w` times its parent's key
 * (the root's key is 0), where w in [0, 1] is the path weight.
 *
 * - w = 1, the path rule: the key is the sum of log σ over the node and its
 *   ancestors, the log of the product of the per-level probabilities. A deep
 *   node's own score, trained on few samples, is weighed against the
 *   evidence of its well-trained ancestors, so nodes in different subtrees
 *   are compared on the same footing.
 * - w = 0, the node rule (TDM's): the node's own score alone. Right where
 *   every leaf is well trained, but on sparse catalogues deep levels are then
 *   compared by noisy scores and a wider beam loses relevant items.
 * - in between, ancestors count less the further up they are.
 *
 * Whatever w, brute force is the exact top k of the same key (with w > 0
 * every node of every level is scored), so a beam as wide as the catalogue
 * equals brute force. A trained scorer carries the w chosen for it on
 * validation users (NodeScorer.pathWeight); a query may override it.
 */
export const PATH_RULE = 1;
/** The path weight of TDM's node rule. */
export const NODE_RULE = 0;

/** Checks a path weight, naming the bad value. */
export function isPathWeight(w: unknown): w is number {
  return typeof w === 'number' && w >= 0 && w <= 1;
}

/** A path weight in words, for reports: "the path rule (w = 1)", "the node rule (w = 0)" or "path weight w = 0.5". */
export function describePathWeight(w: number): string {
  if (w === PATH_RULE) return `the path rule (w = ${w})`;
  if (w === NODE_RULE) return `the node rule (w = ${w})`;
  return `path weight w = ${w}`;
}

/**
 * The beam width a query gets when it gives none: 2 × k. The one default
 * of the library, the CLI, the HTTP service and the benchmarks.
 */
export function defaultBeam(k: number): number {
  return 2 * k;
}

/** Per-call knobs. Build-time parameters live in the model, not here. */
export interface RetrieveOptions {
  /** How many items to return. */
  k: number;
  /** Nodes kept per tree level (beam search only; must be >= k; default: `defaultBeam(k)`, 2 × k). */
  beam?: number;
  /** Never return an item that is in the query's history (applied inside the search, not by over-fetching). */
  excludeHistory?: boolean;
  /** Only return items of these category indices (tree.items.categoryIds order); undefined = no filter. */
  categories?: Int32Array;
  /**
   * Path weight of beam search and brute force (see PATH_RULE above; default:
   * the scorer's own, else 1); other methods ignore it.
   */
  pathWeight?: number;
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

/** One query: a behaviour history (item indices, oldest first) and its knobs. */
export interface Query {
  history: Int32Array;
  opts: RetrieveOptions;
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
  retrieveBatch?(queries: Query[]): RetrievalResult[];
}
