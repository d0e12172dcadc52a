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
 */
import { UsageError } from '../core/errors.js';

/** Where a new item's first embedding came from. */
export type EmbedSource = 'events' | 'vectors' | 'category' | 'mean';

/** Sources in the order `auto` tries them (chosen by measurement: docs/LIVING-CATALOGUES.md). */
export const AUTO_ORDER: readonly EmbedSource[] = ['events', 'vectors', 'category'];

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
        const near = nearestByCosine(x.vectors, m, VECTOR_NEIGHBOURS);
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

/** The `k` old items whose vectors are nearest to new item m's by cosine (ties: lower index). */
function nearestByCosine(v: SideVectors, m: number, k: number): number[] {
  const { dim } = v;
  const q = v.new.subarray(m * dim, (m + 1) * dim);
  let qn = 0;
  for (let j = 0; j < dim; j++) qn += q[j] * q[j];
  qn = Math.sqrt(qn) || 1;
  const best: { i: number; s: number }[] = [];
  const numOld = v.oldHas.length;
  for (let i = 0; i < numOld; i++) {
    if (!v.oldHas[i]) continue;
    let dot = 0;
    let n = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      dot += q[j] * v.old[o + j];
      n += v.old[o + j] * v.old[o + j];
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
