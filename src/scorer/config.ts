/**
 * The TDM node scorer's shape. Defaults follow the TDM paper: 24-d
 * embeddings, 69 behaviours in 10 time windows, MLP 128-64-24 with PReLU.
 */
import { UsageError } from '../core/errors.js';

/** The scorer kinds' names (each kind's strategy is in src/scorer/kinds.ts). */
export const SCORER_KIND_NAMES = ['pooling', 'attention'] as const;

/** The name of a scorer kind. */
export type ScorerKindName = (typeof SCORER_KIND_NAMES)[number];

/** Scorer hyper-parameters (stored in the model folder). */
export interface ScorerConfig {
  /**
   * Network variant: `pooling` (TDM: each time window is the mean of its
   * behaviours) or `attention` (DIN-style: each window is the mean of its
   * behaviours weighted by an attention unit that sees the scored node).
   */
  kind: ScorerKindName;
  /** Hidden units of the attention unit (attention scorer only; default 36). */
  attentionUnits?: number;
  /**
   * Side features that were added into the item rows at training time
   * (recorded for reference: the saved embedding table already holds the
   * materialised item rows, so inference needs neither the categories nor
   * the vectors file).
   */
  itemFeatures?: { category: boolean; vectorDim: number; vectorFile?: string; itemsWithVector?: number };
  /** Embedding size of items and nodes. */
  embDim: number;
  /** Hidden layer widths of the MLP. */
  hidden: number[];
  /** Time windows over the history, most recent first (their sum is the history length used). */
  windows: number[];
  /**
   * JTM's hierarchical user preference: when scoring a node on level j, each
   * history item is represented by its ancestor on level j (its own
   * embedding on the leaf level), so the user side speaks the node's level.
   */
  hierarchical?: boolean;
  /**
   * The path weight this scorer's scores are ranked with (see
   * RetrieveOptions.pathWeight in src/beam/retriever.ts): chosen on
   * validation users when the scorer was trained; absent: 1, the path rule.
   */
  pathWeight?: number;
}

/** The paper's defaults. Windows grow with age: the latest behaviours get windows of their own. */
export const DEFAULT_SCORER_CONFIG: ScorerConfig = {
  kind: 'pooling',
  embDim: 24,
  hidden: [128, 64, 24],
  windows: [1, 1, 2, 2, 4, 4, 8, 8, 16, 23],
};

/** Hidden units of the attention unit when the config does not say. */
export const DEFAULT_ATTENTION_UNITS = 36;

/** Longest history the scorer reads. */
export function maxHistory(cfg: ScorerConfig): number {
  return cfg.windows.reduce((a, b) => a + b, 0);
}

/** Validates a scorer config, naming the bad field. */
export function validateScorerConfig(cfg: ScorerConfig): void {
  if (!(SCORER_KIND_NAMES as readonly string[]).includes(cfg.kind)) throw new UsageError(`scorer kind must be one of ${SCORER_KIND_NAMES.join(', ')}, got ${JSON.stringify(cfg.kind)}`);
  if (cfg.attentionUnits !== undefined && (!Number.isInteger(cfg.attentionUnits) || cfg.attentionUnits <= 0)) {
    throw new UsageError(`attentionUnits must be a positive integer, got ${JSON.stringify(cfg.attentionUnits)}`);
  }
  if (!Number.isInteger(cfg.embDim) || cfg.embDim <= 0) throw new UsageError(`embDim must be a positive integer, got ${cfg.embDim}`);
  if (!Array.isArray(cfg.hidden) || cfg.hidden.length === 0 || cfg.hidden.some((h) => !Number.isInteger(h) || h <= 0)) {
    throw new UsageError(`hidden must be a non-empty list of positive integers, got ${JSON.stringify(cfg.hidden)}`);
  }
  if (cfg.hierarchical !== undefined && typeof cfg.hierarchical !== 'boolean') {
    throw new UsageError(`hierarchical must be true or false, got ${JSON.stringify(cfg.hierarchical)}`);
  }
  if (cfg.pathWeight !== undefined && !(typeof cfg.pathWeight === 'number' && cfg.pathWeight >= 0 && cfg.pathWeight <= 1)) {
    throw new UsageError(`pathWeight must be a number in [0, 1], got ${JSON.stringify(cfg.pathWeight)}`);
  }
  if (!Array.isArray(cfg.windows) || cfg.windows.length === 0 || cfg.windows.some((w) => !Number.isInteger(w) || w <= 0)) {
    throw new UsageError(`windows must be a non-empty list of positive integers, got ${JSON.stringify(cfg.windows)}`);
  }
}
