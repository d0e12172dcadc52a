/**
 * The one interface every retrieval method implements: tree beam search, the
 * brute-force oracle, and the classic baselines (popularity, item-CF).
 */

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
