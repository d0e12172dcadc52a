/**
 * Metrics beyond recall, per cut-off k: nDCG, hit rate, catalogue coverage,
 * novelty, intra-list category diversity and new-category recall.
 *
 * Definitions (every list is a method's ranked list for one test user, cut
 * at k; a list shorter than k is taken as it is):
 * - **ndcg**: binary relevance; DCG = Σ 1/log2(r + 1) over the ranks r
 *   (1-based) of the list's truth items (a repeated item counts once), over
 *   the ideal DCG, Σ 1/log2(r + 1) for r = 1 … min(k, |truth|). Averaged
 *   over users.
 * - **hitRate**: the share of users with at least one truth item in the list.
 * - **coverage**: the share of the catalogue that appears in at least one
 *   user's list.
 * - **novelty**: the mean self-information of the listed items, in bits:
 *   −log2 p(i), with p(i) = (c(i) + 1) / (C + n) where c(i) is the item's
 *   number of events among the training users' events, C all those events
 *   and n the catalogue size (add-one smoothing, so an item never seen in
 *   training has a finite value); averaged over the list, then over users
 *   with a non-empty list. Higher means less popular items.
 * - **diversity**: over the pairs of listed items that both have a
 *   category, the share whose categories differ (1 − Σc nc(nc − 1) /
 *   (m(m − 1)) for m such items, nc of category c); averaged over users
 *   whose list has at least two such items. 0: one category; 1: no two
 *   items share one.
 * - **newCategoryRecall**: recall on the truth items whose category is
 *   absent from the user's history (truth items without a category, or
 *   unknown to the catalogue, are left out); averaged over the users who
 *   have at least one such item (`newCategoryUsers`).
 */
import { validateKs, hitsAt } from './metrics.js';
import { UsageError } from '../core/errors.js';

/** What the catalogue-level metrics need to know about the items. */
export interface CatalogueFacts {
  /** Catalogue size: item indices are 0 … numItems − 1. */
  numItems: number;
  /** Category index per item (−1: none); without it, diversity and new-category recall are not computed. */
  itemCategory?: Int32Array;
  /** Events per item among the training users' events; without it, novelty is not computed. */
  trainCounts?: ArrayLike<number>;
}

/** Metrics beyond recall at one cut-off, averaged over users (see the module notes for definitions). */
export interface BeyondAtK {
  ndcg: number;
  hitRate: number;
  /** Share of the catalogue in any list (with catalogue facts). */
  coverage?: number;
  /** Mean self-information of listed items in bits, from training events (with training counts). */
  novelty?: number;
  /** Intra-list category diversity (with categories and at least one list of two categorised items). */
  diversity?: number;
  /** Recall on truth items of categories new to the user (with categories and at least one such user). */
  newCategoryRecall?: number;
  /** Users with at least one truth item of a category new to them (with categories). */
  newCategoryUsers?: number;
}

/**
 * nDCG at each k of `ks` with binary relevance (see the module notes): a
 * repeated item counts once; 0 when the truth is empty.
 */
export function ndcgAt(ranked: Int32Array, truth: ReadonlySet<number>, ks: readonly number[]): number[] {
  validateKs(ks);
  const depth = Math.min(Math.max(...ks), ranked.length);
  const dcg = new Float64Array(depth + 1);
  const found = new Set<number>();
  for (let d = 0; d < depth; d++) {
    const item = ranked[d];
    const hit = truth.has(item) && !found.has(item);
    if (hit) found.add(item);
    dcg[d + 1] = dcg[d] + (hit ? 1 / Math.log2(d + 2) : 0);
  }
  return ks.map((k) => {
    let ideal = 0;
    for (let r = 0; r < Math.min(k, truth.size); r++) ideal += 1 / Math.log2(r + 2);
    return ideal === 0 ? 0 : dcg[Math.min(k, depth)] / ideal;
  });
}

/**
 * Self-information −log2 p(i) of every item, in bits, with p(i) = (c(i) + 1)
 * / (C + n): add-one smoothed shares of the event counts `counts` (one per
 * item, n = counts.length). Throws a UsageError for a negative or
 * non-integer count.
 */
export function selfInformation(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) {
    const c = counts[i];
    if (!Number.isInteger(c) || c < 0) throw new UsageError(`event count of item ${i} must be a non-negative integer, got ${c}`);
    total += c;
  }
  const denominator = total + counts.length;
  return Float64Array.from({ length: counts.length }, (_, i) => -Math.log2((counts[i] + 1) / denominator));
}

/**
 * Intra-list category diversity of the first k items of `ranked` for each k
 * of `ks`: the share of pairs of categorised items whose categories differ;
 * undefined where fewer than two listed items have a category.
 */
export function categoryDiversity(ranked: Int32Array, itemCategory: Int32Array, ks: readonly number[]): (number | undefined)[] {
  validateKs(ks);
  return ks.map((k) => {
    const perCategory = new Map<number, number>();
    let m = 0;
    for (let d = 0; d < Math.min(k, ranked.length); d++) {
      const c = itemCategory[ranked[d]];
      if (c === undefined || c < 0) continue;
      perCategory.set(c, (perCategory.get(c) ?? 0) + 1);
      m++;
    }
    if (m < 2) return undefined;
    let same = 0;
    for (const n of perCategory.values()) same += n * (n - 1);
    return 1 - same / (m * (m - 1));
  });
}

/**
 * The truth items whose category is absent from the history's categories
 * (items without a category, and negative placeholders for items the
 * catalogue lacks, are left out).
 */
export function newCategoryTruth(history: Int32Array, truth: Iterable<number>, itemCategory: Int32Array): Set<number> {
  const seen = new Set<number>();
  for (const h of history) {
    const c = h >= 0 ? itemCategory[h] : -1;
    if (c !== undefined && c >= 0) seen.add(c);
  }
  const out = new Set<number>();
  for (const t of truth) {
    const c = t >= 0 ? itemCategory[t] : -1;
    if (c !== undefined && c >= 0 && !seen.has(c)) out.add(t);
  }
  return out;
}

/** Accumulates {@link BeyondAtK} over users, one at a time. */
export class BeyondAccumulator {
  /** The cut-offs, in the order given. */
  readonly ks: readonly number[];
  private readonly facts?: CatalogueFacts;
  private readonly info?: Float64Array;
  private readonly hasCategories: boolean;
  /** Smallest 0-based rank at which each item appeared in any list (numItems + max k: never). */
  private readonly bestRank?: Int32Array;
  private readonly maxK: number;
  private users = 0;
  private readonly ndcg: Float64Array;
  private readonly hits: Float64Array;
  private readonly novelty: Float64Array;
  private noveltyUsers = 0;
  private readonly diversity: Float64Array;
  private readonly diversityUsers: Float64Array;
  private readonly newRecall: Float64Array;
  private newUsers = 0;

  /**
   * Throws a UsageError unless `ks` is a non-empty list of positive
   * integers, or when the facts' arrays do not match the catalogue size.
   */
  constructor(ks: readonly number[], facts?: CatalogueFacts) {
    validateKs(ks);
    this.ks = [...ks];
    this.maxK = Math.max(...ks);
    const n = ks.length;
    this.ndcg = new Float64Array(n);
    this.hits = new Float64Array(n);
    this.novelty = new Float64Array(n);
    this.diversity = new Float64Array(n);
    this.diversityUsers = new Float64Array(n);
    this.newRecall = new Float64Array(n);
    this.facts = facts;
    if (facts) {
      const { numItems, itemCategory, trainCounts } = facts;
      if (itemCategory && itemCategory.length !== numItems) throw new UsageError(`itemCategory has ${itemCategory.length} entries for ${numItems} items`);
      if (trainCounts && trainCounts.length !== numItems) throw new UsageError(`trainCounts has ${trainCounts.length} entries for ${numItems} items`);
      this.bestRank = new Int32Array(numItems).fill(this.maxK);
      if (trainCounts) this.info = selfInformation(trainCounts);
    }
    this.hasCategories = Boolean(facts?.itemCategory && facts.itemCategory.some((c) => c >= 0));
  }

  /** Adds one user: the ranked list (best first), the history the query read, and the distinct truth items. */
  add(ranked: Int32Array, history: Int32Array, truth: ReadonlySet<number>): void {
    const { ks } = this;
    this.users++;
    ndcgAt(ranked, truth, ks).forEach((x, i) => (this.ndcg[i] += x));
    hitsAt(ranked, truth, ks).forEach((h, i) => (this.hits[i] += h > 0 ? 1 : 0));
    const depth = Math.min(this.maxK, ranked.length);
    if (this.bestRank) {
      for (let d = 0; d < depth; d++) if (d < this.bestRank[ranked[d]]) this.bestRank[ranked[d]] = d;
    }
    if (this.info && depth > 0) {
      this.noveltyUsers++;
      const sums = new Float64Array(depth + 1);
      for (let d = 0; d < depth; d++) sums[d + 1] = sums[d] + this.info[ranked[d]];
      ks.forEach((k, i) => {
        const n = Math.min(k, depth);
        this.novelty[i] += sums[n] / n;
      });
    }
    if (this.hasCategories) {
      const cats = this.facts!.itemCategory!;
      categoryDiversity(ranked, cats, ks).forEach((x, i) => {
        if (x === undefined) return;
        this.diversity[i] += x;
        this.diversityUsers[i]++;
      });
      const fresh = newCategoryTruth(history, truth, cats);
      if (fresh.size > 0) {
        this.newUsers++;
        hitsAt(ranked, fresh, ks).forEach((h, i) => (this.newRecall[i] += h / fresh.size));
      }
    }
  }

  /** The averages over the users added so far, one entry per k (zeros before the first user). */
  result(): BeyondAtK[] {
    const n = Math.max(this.users, 1);
    return this.ks.map((k, i) => {
      const out: BeyondAtK = { ndcg: this.ndcg[i] / n, hitRate: this.hits[i] / n };
      if (this.bestRank) {
        let covered = 0;
        for (const r of this.bestRank) if (r < k) covered++;
        out.coverage = covered / this.bestRank.length;
      }
      if (this.info && this.noveltyUsers > 0) out.novelty = this.novelty[i] / this.noveltyUsers;
      if (this.hasCategories) {
        if (this.diversityUsers[i] > 0) out.diversity = this.diversity[i] / this.diversityUsers[i];
        if (this.newUsers > 0) out.newCategoryRecall = this.newRecall[i] / this.newUsers;
        out.newCategoryUsers = this.newUsers;
      }
      return out;
    });
  }
}
