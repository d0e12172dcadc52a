/** The embedding optimiser's interface: per-row gradient accumulation, one step, its saved state, and which rows a thread owns. */
import type { RowGradients } from './row-gradients.js';

/** Which rows a thread updates: those in its blocks (see ownsRow). */
export interface RowShare {
  index: number;
  count: number;
}

/** Rows go to threads in blocks of 2^ROW_BLOCK_SHIFT = 16 consecutive rows. */
export const ROW_BLOCK_SHIFT = 4;

/**
 * Whether `share` updates `row`: block ⌊row / 16⌋ mod count = index. Sixteen
 * rows of any width are a multiple of 64 bytes, so two threads never write
 * the same cache line of the table or of its moments (with row mod count,
 * neighbouring rows of different threads shared lines, and every write
 * pulled the line away from the other core).
 */
export function ownsRow(share: RowShare, row: number): boolean {
  return share.count === 1 || (row >>> ROW_BLOCK_SHIFT) % share.count === share.index;
}

/** An embedding optimiser's state between steps: named arrays and counters (see EmbeddingUpdater.saveState). */
export interface UpdaterState {
  arrays: Record<string, Float32Array>;
  counts: Record<string, number>;
}

/** What an embedding update needs: per-row gradient accumulation, then one step; its state can be saved between steps (training checkpoints). */
export interface EmbeddingUpdater {
  accumulate(row: number, g: Float32Array, gOffset: number, scale: number): void;
  apply(): void;
  /**
   * Optional shortcut: the step that `accumulate` of every row of every
   * shard in `share` (in shard order, times `scale`) and then `apply()`
   * would make, with the same result, without copying the gradients of rows
   * that only one shard touched.
   */
  applyShards?(shards: readonly RowGradients[], scale: number, share: RowShare): void;
  /** Everything the updater carries from step to step (arrays may be live views: write them out before the next step). */
  saveState(): UpdaterState;
  /** Puts back what saveState gave. */
  loadState(s: UpdaterState): void;
}
