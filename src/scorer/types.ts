/**
 * The narrow interface between search and model: "score these nodes for this
 * user". Beam search, brute force and tree learning see only this, so any
 * faster backend (or a hand-made scorer in tests) can stand in.
 */

/** Scores nodes for one user. */
export interface ScoringSession {
  /**
   * Scores of the given node codes, all on tree level `level` (higher is
   * better; the tfjs scorer returns logits). The returned array is owned by
   * the caller.
   */
  score(nodes: Int32Array, level: number): Float32Array;
  /** Releases per-query state. */
  close(): void;
}

/** Something that can score tree nodes for users. */
export interface NodeScorer {
  /** The path weight its scores are meant to be ranked with (see RetrieveOptions.pathWeight); absent: 1. */
  readonly pathWeight?: number;
  /** Opens a session for a user given their history (item indices, oldest first). */
  open(history: Int32Array): ScoringSession;
}

/** Scores nodes for several users at once (batched queries, levels in lockstep). */
export interface BatchScoringSession {
  /**
   * Scores of row i = (user `users[i]`, node `nodes[i]`), all nodes on tree
   * level `level`; users index the histories given to `openBatch`. The
   * returned array is owned by the caller.
   */
  score(users: Int32Array, nodes: Int32Array, level: number): Float32Array;
  /** Releases per-batch state. */
  close(): void;
}

/** A NodeScorer that can also score many users' nodes in one call. */
export interface BatchNodeScorer extends NodeScorer {
  /** Opens a session for several users (histories: item indices, oldest first). */
  openBatch(histories: Int32Array[]): BatchScoringSession;
}
