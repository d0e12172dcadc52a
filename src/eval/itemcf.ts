/**
 * Classic item-based collaborative filtering:
 *   sim(a, b) = co(a, b) / sqrt(n_a · n_b),
 * co(a, b) = users who interacted with both items, n_a = users of item a.
 * A query scores item j as Σ_h sim(h, j) over the user's recent distinct
 * history items h, each using only its top neighbours.
 *
 * Built for large catalogues: user→items and item→users are CSR arrays, and
 * an item's neighbour list is computed on first use (co-counts accumulated
 * into a reusable sparse scratch) and kept in a bounded LRU cache.
 */
import { assertPositiveInteger } from '../core/errors.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from '../beam/retriever.js';
import type { UserSequence } from '../data/types.js';
import { ItemMarks, assertItemIndices, recentDistinct } from './marks.js';
import { popularityRanking } from './popularity.js';
import { ScoreScratch } from './scratch.js';

/** Options of {@link ItemCFRetriever}. */
export interface ItemCFOptions {
  /** Distinct items kept per training user, most recent first (default 200). */
  maxUserItems?: number;
  /** Distinct history items used per query, most recent first (default 69). */
  maxHistory?: number;
  /** Most similar items kept per history item (default 200). */
  neighbours?: number;
  /** Skip items already in the user's history (default false). */
  excludeHistory?: boolean;
  /** Neighbour lists kept in memory, least recently used dropped first (default 20000). */
  cacheSize?: number;
}

/** One item's most similar items, best first. */
interface Neighbours {
  items: Int32Array;
  sims: Float32Array;
}

/** Compressed rows: row r holds values[offsets[r] .. offsets[r + 1]). */
interface Csr {
  offsets: Int32Array;
  values: Int32Array;
}

/** User→items rows from each user's recent distinct items. */
function userItemRows(lists: readonly Int32Array[]): Csr {
  const offsets = new Int32Array(lists.length + 1);
  lists.forEach((list, u) => (offsets[u + 1] = offsets[u] + list.length));
  const values = new Int32Array(offsets[lists.length]);
  lists.forEach((list, u) => values.set(list, offsets[u]));
  return { offsets, values };
}

/** The transpose of user→items rows: item→users rows over `numItems` items. */
function itemUserRows(users: Csr, numItems: number): Csr {
  const offsets = new Int32Array(numItems + 1);
  for (const item of users.values) offsets[item + 1]++;
  for (let i = 0; i < numItems; i++) offsets[i + 1] += offsets[i];
  const cursor = offsets.slice(0, numItems);
  const values = new Int32Array(users.values.length);
  for (let u = 0; u + 1 < users.offsets.length; u++) {
    for (let p = users.offsets[u]; p < users.offsets[u + 1]; p++) values[cursor[users.values[p]]++] = u;
  }
  return { offsets, values };
}

/**
 * Item-based CF retriever. Returns min(k, numItems) items (fewer only when
 * excludeHistory leaves fewer): positively scored items first, then the most
 * popular remaining items with score 0. `pairsScored` counts the candidate
 * items that received a score.
 */
export class ItemCFRetriever implements Retriever {
  readonly name = 'itemcf';
  readonly exact = true;
  private readonly numItems: number;
  private readonly maxHistory: number;
  private readonly neighbourCount: number;
  private readonly excludeHistory: boolean;
  private readonly cacheSize: number;
  private readonly userItems: Csr;
  private readonly itemUsers: Csr;
  private readonly popularOrder: Int32Array;
  private readonly cache = new Map<number, Neighbours>();
  private readonly coCounts: ScoreScratch;
  private readonly scores: ScoreScratch;
  private readonly marks: ItemMarks;

  /** Indexes the training `sequences` over a catalogue of `numItems` items. */
  constructor(sequences: readonly UserSequence[], numItems: number, opts: ItemCFOptions = {}) {
    const maxUserItems = opts.maxUserItems ?? 200;
    this.maxHistory = opts.maxHistory ?? 69;
    this.neighbourCount = opts.neighbours ?? 200;
    this.cacheSize = opts.cacheSize ?? 20000;
    assertPositiveInteger('maxUserItems', maxUserItems);
    assertPositiveInteger('maxHistory', this.maxHistory);
    assertPositiveInteger('neighbours', this.neighbourCount);
    assertPositiveInteger('cacheSize', this.cacheSize);
    this.excludeHistory = opts.excludeHistory ?? false;
    this.numItems = numItems;
    this.popularOrder = popularityRanking(sequences, numItems).order;
    this.marks = new ItemMarks(numItems);
    this.userItems = userItemRows(sequences.map((s) => recentDistinct(s.items, maxUserItems, this.marks)));
    this.itemUsers = itemUserRows(this.userItems, numItems);
    this.coCounts = new ScoreScratch(numItems);
    this.scores = new ScoreScratch(numItems);
  }

  /** Number of training users who interacted with the item. */
  private userCount(item: number): number {
    return this.itemUsers.offsets[item + 1] - this.itemUsers.offsets[item];
  }

  /** The item's top neighbours by similarity (itself excluded), from the cache or computed now. */
  private neighboursOf(h: number): Neighbours {
    const cached = this.cache.get(h);
    if (cached) {
      this.cache.delete(h);
      this.cache.set(h, cached);
      return cached;
    }
    const { itemUsers, userItems, coCounts } = this;
    for (let p = itemUsers.offsets[h]; p < itemUsers.offsets[h + 1]; p++) {
      const u = itemUsers.values[p];
      for (let q = userItems.offsets[u]; q < userItems.offsets[u + 1]; q++) {
        const j = userItems.values[q];
        if (j !== h) coCounts.add(j, 1);
      }
    }
    const nh = this.userCount(h);
    for (let t = 0; t < coCounts.count; t++) {
      const j = coCounts.itemAt(t);
      coCounts.values[j] /= Math.sqrt(nh * this.userCount(j));
    }
    const items = coCounts.top(this.neighbourCount);
    const neighbours = { items, sims: Float32Array.from(items, (j) => coCounts.values[j]) };
    coCounts.reset();
    this.cache.set(h, neighbours);
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value as number);
    return neighbours;
  }

  /** Top k items for a history (item indices, oldest first); `beam` is ignored. */
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    const { k } = opts;
    assertPositiveInteger('k', k);
    assertItemIndices(history, this.numItems, 'history');
    const { scores, marks } = this;
    const recent = recentDistinct(history, this.maxHistory, marks);
    if (this.excludeHistory) for (const item of history) marks.add(item);
    for (const h of recent) {
      const { items, sims } = this.neighboursOf(h);
      for (let i = 0; i < items.length; i++) {
        if (!(this.excludeHistory && marks.has(items[i]))) scores.add(items[i], sims[i]);
      }
    }
    const pairsScored = scores.count;
    const picked = Array.from(scores.top(k));
    const pickedScores = picked.map((j) => scores.values[j]);
    // When fewer than k items scored, all of them were picked (values > 0): fill from popularity.
    for (let r = 0; r < this.popularOrder.length && picked.length < k; r++) {
      const j = this.popularOrder[r];
      if (scores.values[j] > 0 || (this.excludeHistory && marks.has(j))) continue;
      picked.push(j);
      pickedScores.push(0);
    }
    scores.reset();
    return { items: Int32Array.from(picked), scores: Float32Array.from(pickedScores), pairsScored };
  }
}
