/** The popularity baseline: the same most-interacted items for everyone. */
import { assertPositiveInteger } from '../core/errors.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from '../beam/retriever.js';
import type { UserSequence } from '../data/types.js';
import { ItemMarks, assertItemIndices } from './marks.js';

/** Every item ranked by popularity, and the counts behind the ranking. */
export interface PopularityRanking {
  /** All item indices, most events first, ties by lower index. */
  order: Int32Array;
  /** Number of events of each item. */
  counts: Int32Array;
}

/** Ranks the `numItems` catalogue items by their number of events in `sequences`. */
export function popularityRanking(sequences: readonly UserSequence[], numItems: number): PopularityRanking {
  assertPositiveInteger('numItems', numItems);
  const counts = new Int32Array(numItems);
  for (const seq of sequences) {
    assertItemIndices(seq.items, numItems, `user ${seq.user}`);
    for (const item of seq.items) counts[item]++;
  }
  const order = new Int32Array(numItems);
  for (let i = 0; i < numItems; i++) order[i] = i;
  order.sort((a, b) => counts[b] - counts[a] || a - b);
  return { order, counts };
}

/** Options of {@link PopularityRetriever}. */
export interface PopularityOptions {
  /** Skip items already in the user's history (default false). */
  excludeHistory?: boolean;
}

/**
 * Returns the k items with the most training events (ties by lower item
 * index), scored by their event counts. Exact, and scores no model pairs.
 */
export class PopularityRetriever implements Retriever {
  readonly name = 'popularity';
  readonly exact = true;
  private readonly ranking: PopularityRanking;
  private readonly excludeHistory: boolean;
  private readonly marks: ItemMarks;

  /** Counts the events of each of the `numItems` items in the training `sequences`. */
  constructor(sequences: readonly UserSequence[], numItems: number, opts: PopularityOptions = {}) {
    this.ranking = popularityRanking(sequences, numItems);
    this.excludeHistory = opts.excludeHistory ?? false;
    this.marks = new ItemMarks(numItems);
  }

  /** The k most popular items (not in `history` when excludeHistory is set); `beam` is ignored. */
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    assertPositiveInteger('k', opts.k);
    const { order, counts } = this.ranking;
    this.marks.clear();
    if (this.excludeHistory) {
      assertItemIndices(history, order.length, 'history');
      for (const item of history) this.marks.add(item);
    }
    const picked: number[] = [];
    for (let r = 0; r < order.length && picked.length < opts.k; r++) {
      if (!this.marks.has(order[r])) picked.push(order[r]);
    }
    const items = Int32Array.from(picked);
    return { items, scores: Float32Array.from(items, (item) => counts[item]), pairsScored: 0 };
  }
}
