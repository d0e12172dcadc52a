/**
 * First embeddings of items that join a trained model without retraining
 * (`arbor add-items`). Each new item's leaf row is made from the trained
 * rows of old items, from the first source in `order` that has evidence
 * for it:
 *
 *  - `events`: the weighted mean of the rows of the old items that sit
 *    within CO_WINDOW positions of it in training users' sequences (the
 *    scorer reads a history as window means of these same rows);
 *  - `vectors`: the mean of the rows of the VECTOR_NEIGHBOURS old items
 *    whose side vectors are nearest by cosine;
 *  - `category`: the mean of the rows of the old items of its category;
 *  - `mean`: the mean of all old item rows (no evidence at all).
 *
 * Which of `vectors` and `category` `auto` tries first is measured on the
 * model itself ({@link checkSources}): each source rebuilds the trained
 * rows of a sample of old items from the other old items, and the one
 * whose rebuilt rows are closer to the trained ones goes first. On
 * synthetic data either can be much the better one, depending on how
 * faithful the labels and the vectors are (docs/LIVING-CATALOGUES.md).
 */
import { UsageError } from '../core/errors.js';

/** Where a new item's first embedding came from. */
export type EmbedSource = 'events' | 'vectors' | 'category' | 'mean';

/**
 * Sources in the order `auto` tries them when {@link checkSources} has no
 * old item to compare vectors and category on; otherwise events, then the
 * better of the two by that check (docs/LIVING-CATALOGUES.md).
 */
export const AUTO_ORDER: readonly EmbedSource[] = ['events', 'vectors', 'category'];

/** Old items (at most) on which {@link checkSources} compares vectors and category. */
export const SOURCE_CHECK_ITEMS = 300;

/** How well `vectors` and `category` rebuild the trained rows of the model's own items. */
export interface SourceCheck {
  /** Old items compared: each has a side vector and shares its category with another old item. */
  items: number;
  /** Mean cosine between an item's trained row and its row rebuilt from its vector neighbours (itself left out). */
  vectors: number;
  /** The same for the mean row of the other old items of its category. */
  category: number;
  /** The source `auto` tries first after events (vectors on a tie). */
  first: 'vectors' | 'category';
}

/**
 * Rebuilds the trained rows of up to `maxItems` old items (evenly spaced
 * over those with a side vector and a category shared with another old
 * item) from each side source, leaving the item itself out, and compares
 * them with the trained rows by cosine. Undefined when there are no
 * vectors or no such item. Deterministic (no random draws).
 */
export function checkSources(x: InitInputs, maxItems = SOURCE_CHECK_ITEMS): SourceCheck | undefined {
  const v = x.vectors;
  if (!v) return undefined;
  const { dim, oldRows, oldCategory } = x;
  const members = membersByCategory(oldCategory);
  const eligible: number[] = [];
  for (let i = 0; i < oldCategory.length; i++) if (v.oldHas[i] && oldCategory[i] >= 0 && members.get(oldCategory[i])!.length > 1) eligible.push(i);
  if (eligible.length === 0) return undefined;
  const sums = new Map<number, Float64Array>();
  for (const [c, list] of members) {
    const sum = new Float64Array(dim);
    for (const o of list) for (let j = 0; j < dim; j++) sum[j] += oldRows[o * dim + j];
    sums.set(c, sum);
  }
  const items = Math.min(maxItems, eligible.length);
  const rebuilt = new Float64Array(dim);
  let vectors = 0;
  let category = 0;
  for (let t = 0; t < items; t++) {
    const i = eligible[Math.floor((t * eligible.length) / items)];
    const row = oldRows.subarray(i * dim, (i + 1) * dim);
    const c = oldCategory[i];
    const n = members.get(c)!.length;
    const sum = sums.get(c)!;
    for (let j = 0; j < dim; j++) rebuilt[j] = (sum[j] - row[j]) / (n - 1);
    category += cosine(rebuilt, row);
    rebuilt.fill(0);
    const near = nearestByCosine(v.old, v.oldHas, v.dim, v.old.subarray(i * v.dim, (i + 1) * v.dim), VECTOR_NEIGHBOURS, i);
    for (const o of near) for (let j = 0; j < dim; j++) rebuilt[j] += oldRows[o * dim + j];
    vectors += near.length > 0 ? cosine(rebuilt, row) : 0;
  }
  vectors /= items;
  category /= items;
  return { items, vectors, category, first: category > vectors ? 'category' : 'vectors' };
}

/** The order `auto` tries the sources in, given the model's {@link checkSources} (AUTO_ORDER without one). */
export function autoOrder(check: SourceCheck | undefined): EmbedSource[] {
  if (!check) return [...AUTO_ORDER];
  return check.first === 'category' ? ['events', 'category', 'vectors'] : ['events', 'vectors', 'category'];
}

/** Positions on either side of a new item whose old items count as co-occurring. */
export const CO_WINDOW = 5;

/** Whether a co-occurrence counts 1 / distance (true) or 1. */
export const CO_DECAY = false;

/** Old items averaged for the `vectors` source. */
export const VECTOR_NEIGHBOURS = 10;

/** Weighted old items per new item (co-occurrence counts, or a source's anchors): CSR over new items. */
export interface CoOccurrence {
  /** start[m] … start[m+1] index the entries of new item m. */
  start: Int32Array;
  /** Old item index of each entry. */
  item: Int32Array;
  /** Weight of each entry (number of co-occurrences). */
  weight: Float32Array;
}

/**
 * Counts, in `sequences` (indices in the extended catalogue, old items
 * below `numOld`), the old items within `window` positions of every new
 * item occurrence.
 */
export function coOccurrence(sequences: readonly Int32Array[], numOld: number, numNew: number, window = CO_WINDOW, decay = CO_DECAY): CoOccurrence {
  const maps: Map<number, number>[] = Array.from({ length: numNew }, () => new Map());
  for (const s of sequences) {
    for (let p = 0; p < s.length; p++) {
      const it = s[p];
      if (it < numOld) continue;
      const m = maps[it - numOld];
      for (let q = Math.max(0, p - window); q <= Math.min(s.length - 1, p + window); q++) {
        const o = s[q];
        if (q !== p && o < numOld) m.set(o, (m.get(o) ?? 0) + (decay ? 1 / Math.abs(q - p) : 1));
      }
    }
  }
  const start = new Int32Array(numNew + 1);
  for (let m = 0; m < numNew; m++) start[m + 1] = start[m] + maps[m].size;
  const item = new Int32Array(start[numNew]);
  const weight = new Float32Array(start[numNew]);
  maps.forEach((map, m) => {
    let p = start[m];
    for (const [o, w] of [...map].sort((a, b) => a[0] - b[0])) {
      item[p] = o;
      weight[p++] = w;
    }
  });
  return { start, item, weight };
}

/** Side vectors for old and new items (rows of `dim`; `has` 1 where an item has one). */
export interface SideVectors {
  dim: number;
  old: Float32Array;
  oldHas: Uint8Array;
  new: Float32Array;
  newHas: Uint8Array;
}

/** Everything the sources draw on. */
export interface InitInputs {
  /** Trained rows of the old items, [numOld, dim]. */
  oldRows: Float32Array;
  dim: number;
  /** Category index of every old item (-1: none). */
  oldCategory: Int32Array;
  /** Category index of every new item, in the same category numbering (-1: none). */
  newCategory: Int32Array;
  cooc?: CoOccurrence;
  vectors?: SideVectors;
}

/**
 * First rows of the new items, the source each came from, and its anchors:
 * the old items (with weights) its row was averaged over (none for
 * `mean`), which the `neighbours` placement follows.
 */
export interface InitResult {
  rows: Float32Array;
  source: EmbedSource[];
  anchors: CoOccurrence;
}

/**
 * Makes the first row of every new item from the first source of `order`
 * with evidence for it, else the mean of all old rows.
 */
export function initialRows(x: InitInputs, order: readonly EmbedSource[]): InitResult {
  const { dim, oldRows } = x;
  const numOld = oldRows.length / dim;
  const numNew = x.newCategory.length;
  if (numOld < 1) throw new UsageError('new items need at least one trained item to start from');
  const rows = new Float32Array(numNew * dim);
  const source: EmbedSource[] = new Array(numNew);
  const mean = new Float64Array(dim);
  for (let i = 0; i < numOld; i++) for (let j = 0; j < dim; j++) mean[j] += oldRows[i * dim + j] / numOld;
  const categoryMeans = categoryRowMeans(x);
  const acc = new Float64Array(dim);
  const anchorItems: number[] = [];
  const anchorWeights: number[] = [];
  const anchorStart = new Int32Array(numNew + 1);
  const categoryMembers = membersByCategory(x.oldCategory);
  const anchor = (o: number, w: number): void => {
    anchorItems.push(o);
    anchorWeights.push(w);
  };
  const put = (m: number, total: number): void => {
    for (let j = 0; j < dim; j++) rows[m * dim + j] = acc[j] / total;
  };
  for (let m = 0; m < numNew; m++) {
    let done = false;
    for (const s of order) {
      acc.fill(0);
      if (s === 'events' && x.cooc) {
        const { start, item, weight } = x.cooc;
        let total = 0;
        for (let p = start[m]; p < start[m + 1]; p++) {
          total += weight[p];
          anchor(item[p], weight[p]);
          for (let j = 0; j < dim; j++) acc[j] += weight[p] * oldRows[item[p] * dim + j];
        }
        if (total > 0) {
          put(m, total);
          done = true;
        }
      } else if (s === 'vectors' && x.vectors && x.vectors.newHas[m]) {
        const { dim: vd } = x.vectors;
        const near = nearestByCosine(x.vectors.old, x.vectors.oldHas, vd, x.vectors.new.subarray(m * vd, (m + 1) * vd), VECTOR_NEIGHBOURS);
        for (const o of near) {
          anchor(o, 1);
          for (let j = 0; j < dim; j++) acc[j] += oldRows[o * dim + j];
        }
        if (near.length > 0) {
          put(m, near.length);
          done = true;
        }
      } else if (s === 'category') {
        const c = x.newCategory[m];
        const cm = c >= 0 ? categoryMeans.get(c) : undefined;
        if (cm) {
          for (const o of categoryMembers.get(c)!) anchor(o, 1);
          rows.set(cm, m * dim);
          done = true;
        }
      } else if (s === 'mean') {
        done = true;
      }
      if (done) {
        source[m] = s;
        break;
      }
    }
    anchorStart[m + 1] = anchorItems.length;
    if (!done) {
      source[m] = 'mean';
      for (let j = 0; j < dim; j++) rows[m * dim + j] = mean[j];
    } else if (source[m] === 'mean') {
      for (let j = 0; j < dim; j++) rows[m * dim + j] = mean[j];
    }
  }
  return { rows, source, anchors: { start: anchorStart, item: Int32Array.from(anchorItems), weight: Float32Array.from(anchorWeights) } };
}

/** Old items of every category. */
function membersByCategory(category: Int32Array): Map<number, number[]> {
  const out = new Map<number, number[]>();
  category.forEach((c, i) => {
    if (c < 0) return;
    const list = out.get(c);
    if (list) list.push(i);
    else out.set(c, [i]);
  });
  return out;
}

/** Mean old row of every category that has old items. */
function categoryRowMeans(x: InitInputs): Map<number, Float32Array> {
  const { dim, oldRows, oldCategory } = x;
  const sums = new Map<number, { sum: Float64Array; n: number }>();
  for (let i = 0; i < oldCategory.length; i++) {
    const c = oldCategory[i];
    if (c < 0) continue;
    let e = sums.get(c);
    if (!e) sums.set(c, (e = { sum: new Float64Array(dim), n: 0 }));
    e.n++;
    for (let j = 0; j < dim; j++) e.sum[j] += oldRows[i * dim + j];
  }
  const out = new Map<number, Float32Array>();
  for (const [c, { sum, n }] of sums) out.set(c, Float32Array.from(sum, (v) => v / n));
  return out;
}

/** Cosine of two rows (0 when either is zero). */
function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let j = 0; j < a.length; j++) {
    dot += a[j] * b[j];
    na += a[j] * a[j];
    nb += b[j] * b[j];
  }
  return na > 0 && nb > 0 ? dot / Math.sqrt(na * nb) : 0;
}

/** The `k` old items (rows of `old` where `has` is 1, other than `skip`) whose vectors are nearest to `q` by cosine (ties: lower index). */
function nearestByCosine(old: Float32Array, has: Uint8Array, dim: number, q: Float32Array, k: number, skip = -1): number[] {
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += q[j] * q[j];
  qn = Math.sqrt(qn) || 1;
  const best: { i: number; s: number }[] = [];
  const numOld = has.length;
  for (let i = 0; i < numOld; i++) {
    if (!has[i] || i === skip) continue;
    let dot = 0;
    let n = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      dot += q[j] * old[o + j];
      n += old[o + j] * old[o + j];
    }
    const s = dot / (qn * (Math.sqrt(n) || 1));
    if (best.length < k || s > best[best.length - 1].s) {
      best.push({ i, s });
      best.sort((a, b) => b.s - a.s || a.i - b.i);
      if (best.length > k) best.pop();
    }
  }
  return best.map((b) => b.i);
}
