/**
 * What a scorer kind is: one strategy object per kind (pooling, attention)
 * says how it opens scoring sessions, what it can explain and which parts
 * of arbor it cannot take part in. Code outside a kind's own files asks
 * these questions and never branches on the kind's name.
 */
import type { Tree } from '../tree/tree.js';
import type { ScorerNetwork } from './network.js';
import type { BatchScoringSession } from './types.js';

/** One behaviour's share of the attention on the path to an item. */
export interface AttendedBehaviour {
  /** Index into the query's history (oldest first). */
  historyIndex: number;
  /** The behaviour's item index. */
  item: number;
  /** Mean attention weight over the path's nodes. */
  weight: number;
}

/** Opens batch sessions for one network and tree (may keep scratch buffers between queries). */
export interface SessionOpener {
  /** A session for several users (histories already checked against the catalogue). */
  openBatch(histories: Int32Array[]): BatchScoringSession;
}

/** A scorer kind's strategy. */
export interface ScorerKind {
  /** The kind's name, as in ScorerConfig.kind and `--scorer`. */
  readonly name: string;
  /** One line for help texts. */
  readonly summary: string;
  /** Whether `--category-emb auto` adds the category embedding for this kind. */
  readonly categoryEmbByDefault: boolean;
  /** Why JTM tree learning cannot use this kind; undefined: it can. */
  readonly treeLearningUnsupported?: string;
  /** Why the data-parallel worker threads cannot train this kind; undefined: they can. */
  readonly workersUnsupported?: string;
  /** Why `explain` is not available; undefined: it is. */
  readonly explainUnsupported?: string;
  /** The session opener over `network` and `tree`. */
  sessions(network: ScorerNetwork, tree: Tree): SessionOpener;
  /**
   * For each of `items`, the `top` behaviours of `history` that mattered
   * most on the path to the item, best first (kinds with per-item attention).
   */
  explain?(network: ScorerNetwork, tree: Tree, history: Int32Array, items: Int32Array, top: number): AttendedBehaviour[][];
}
