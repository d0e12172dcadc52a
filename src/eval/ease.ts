/**
 * EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW
 * 2019): a closed-form item-item model. With X the binary training user ×
 * item matrix and P = (XᵀX + λI)⁻¹,
 *
 *   B = I − P · diag(1 / diag(P))      (so B_jj = 0, B_hj = −P_hj / P_jj),
 *
 * and a user with history items H scores item j as Σ_{h ∈ H} B_hj.
 *
 * Two exact ways to get there, whichever needs the smaller dense matrix:
 *  - primal: invert the items × items matrix XᵀX + λI and keep B (items²
 *    float32 values);
 *  - dual (fewer training users than items): by Woodbury,
 *    P = (I − Q) / λ with Q = Xᵀ W X and W = (XXᵀ + λI)⁻¹ over users ×
 *    users, so B_hj = Q_hj / (1 − Q_jj) for h ≠ j. When the catalogue is
 *    within the limit too, B is materialised from Q (queries then cost what
 *    the primal's do); above it a query computes
 *    Σ_{h ∈ H} B_hj = (yᵀ W x_j − [j ∈ H] x_jᵀ W x_j) / (1 − x_jᵀ W x_j),
 *    with x_j item j's users and y = Σ_{h ∈ H} x_h: one row combination of
 *    W and one pass over the training interactions.
 * Either way the dense matrix must fit {@link EASE_MAX_DIM}: its inverse
 * costs dim³ multiply-adds (see spd-inverse.ts) and two dim² float32 buffers
 * (the best fit so far and the one being tried), plus two items² ones when a
 * dual fit is materialised.
 */
import { ArborError, UsageError, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from '../beam/retriever.js';
import { topK } from '../beam/topk.js';
import type { EvalCase } from '../data/types.js';
import { ItemMarks, assertItemIndices } from './marks.js';
import { MetricsAccumulator } from './metrics.js';
import { invertSpd } from './spd-inverse.js';

/**
 * The largest dense dimension (min of catalogue size and training users)
 * EASE accepts: 20,000 means two 1.6 GB float32 buffers and about 8·10¹²
 * multiply-adds a fit (913 s for one inverse on one core of the 2-core
 * machine the project is measured on, while other work ran: see docs/DESIGN.md, Baselines).
 */
export const EASE_MAX_DIM = 20_000;

/** λ values the validation search walks along (powers of 4). */
export const EASE_LAMBDA_LADDER = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536];

/**
 * Where the search starts, and λ without validation users: near the values
 * Steck reports (200-1000) and the ones chosen on MovieLens and Amazon
 * Beauty here (1024 on both).
 */
export const EASE_START_LAMBDA = 256;

/** Which dense matrix a fit inverts. */
export type EaseForm = 'primal' | 'dual';

/** The shape of an EASE problem: catalogue, training users with at least one item, and the form used. */
export interface EaseSize {
  items: number;
  users: number;
  form: EaseForm;
  /** Side of the dense matrix: items (primal) or users (dual). */
  dim: number;
}

/** Distinct items of each training user (sorted), users without items dropped. */
function distinctRows(sequences: readonly Int32Array[], numItems: number): Int32Array[] {
  const marks = new ItemMarks(numItems);
  const rows: Int32Array[] = [];
  sequences.forEach((s, u) => {
    assertItemIndices(s, numItems, `training user ${u}`);
    marks.clear();
    const out: number[] = [];
    for (const it of s) {
      if (!marks.has(it)) {
        marks.add(it);
        out.push(it);
      }
    }
    if (out.length > 0) rows.push(Int32Array.from(out).sort());
  });
  return rows;
}

/** The form and dense size an EASE fit on these sequences would use. */
export function easeSize(sequences: readonly Int32Array[], numItems: number): EaseSize {
  const users = sequences.filter((s) => s.length > 0).length;
  const form: EaseForm = users < numItems ? 'dual' : 'primal';
  return { items: numItems, users, form, dim: form === 'dual' ? users : numItems };
}

/**
 * Throws an ArborError, naming the catalogue size, the training users and
 * the limit, when EASE cannot serve this problem (dense side above `maxDim`).
 */
export function assertEaseFits(size: EaseSize, maxDim = EASE_MAX_DIM): void {
  if (size.dim > maxDim) {
    throw new ArborError(
      `EASE serves catalogues up to ${maxDim.toLocaleString('en-US')} items (or up to ${maxDim.toLocaleString('en-US')} training users, whichever is smaller): ` +
        `this one has ${size.items.toLocaleString('en-US')} items and ${size.users.toLocaleString('en-US')} training users, so its dense ${size.dim.toLocaleString('en-US')} × ${size.dim.toLocaleString('en-US')} inverse ` +
        `would need ${((2 * 4 * size.dim * size.dim) / 1e9).toFixed(1)} GB and about ${(size.dim ** 3 / 1e12).toFixed(0)}·10¹² multiply-adds a λ; drop ease from --baselines`,
    );
  }
}

/** Sparse columns: for each item, its users (indices into the rows), ascending. */
function itemUsers(rows: readonly Int32Array[], numItems: number): { offsets: Int32Array; users: Int32Array } {
  const offsets = new Int32Array(numItems + 1);
  for (const r of rows) for (const it of r) offsets[it + 1]++;
  for (let j = 0; j < numItems; j++) offsets[j + 1] += offsets[j];
  const users = new Int32Array(offsets[numItems]);
  const cursor = offsets.slice(0, numItems);
  rows.forEach((r, u) => {
    for (const it of r) users[cursor[it]++] = u;
  });
  return { offsets, users };
}

/** A fitted EASE model: scores every item for a history. */
interface EaseScorer {
  /** Scores of all items for the distinct history items `h` (marked in `inH`). */
  scores(h: Int32Array, inH: ItemMarks): Float32Array;
}

/** Primal: the B matrix itself, items × items. */
class PrimalScorer implements EaseScorer {
  private readonly out: Float32Array;
  constructor(
    private readonly b: Float32Array,
    private readonly n: number,
  ) {
    this.out = new Float32Array(n);
  }
  scores(h: Int32Array): Float32Array {
    const { b, n, out } = this;
    out.fill(0);
    for (const it of h) {
      const row = b.subarray(it * n, (it + 1) * n);
      for (let j = 0; j < n; j++) out[j] += row[j];
    }
    return out;
  }
}

/** Dual: W = (XXᵀ + λI)⁻¹ over users, the item → users columns, and d_j = x_jᵀ W x_j. */
class DualScorer implements EaseScorer {
  private readonly y: Float64Array;
  private readonly z: Float64Array;
  private readonly out: Float32Array;
  constructor(
    private readonly w: Float32Array,
    private readonly numUsers: number,
    private readonly cols: { offsets: Int32Array; users: Int32Array },
    private readonly d: Float64Array,
  ) {
    this.y = new Float64Array(numUsers);
    this.z = new Float64Array(numUsers);
    this.out = new Float32Array(d.length);
  }
  scores(h: Int32Array, inH: ItemMarks): Float32Array {
    const { w, numUsers: m, cols, d, y, z, out } = this;
    y.fill(0);
    z.fill(0);
    for (const it of h) for (let p = cols.offsets[it]; p < cols.offsets[it + 1]; p++) y[cols.users[p]]++;
    for (let u = 0; u < m; u++) {
      const yu = y[u];
      if (yu === 0) continue;
      const row = u * m;
      for (let v = 0; v < m; v++) z[v] += yu * w[row + v];
    }
    for (let j = 0; j < d.length; j++) {
      let s = 0;
      for (let p = cols.offsets[j]; p < cols.offsets[j + 1]; p++) s += z[cols.users[p]];
      if (inH.has(j)) s -= d[j];
      // 1 − d_j = λ·P_jj > 0 in exact arithmetic; guard float32 rounding for items nearly every user has
      out[j] = s / Math.max(1 - d[j], 1e-6);
    }
    return out;
  }
}

/** Options of {@link fitEase}. */
export interface EaseFitOptions {
  /** Dense side limit (default EASE_MAX_DIM). */
  maxDim?: number;
  /** Pivot block of the inverse (see SpdInverseOptions). */
  block?: number;
  /** A float32 buffer of at least dim² values to build the model in (reused across λ). */
  buffer?: Float32Array;
  /** Called with the fraction of the inverse done. */
  onProgress?: (done: number) => void;
}

/** An EASE fit: the scorer and what it cost. */
export interface EaseFit {
  size: EaseSize;
  lambda: number;
  seconds: number;
  /** The buffer holding the fit (hand it back as `buffer` to reuse it once the fit is dropped). */
  buffer: Float32Array;
  scorer: EaseScorer;
}

/** Training data prepared once for several fits. */
export interface EaseData {
  rows: Int32Array[];
  numItems: number;
  size: EaseSize;
  cols: { offsets: Int32Array; users: Int32Array };
}

/** Distinct rows, sizes and item columns of the training sequences. */
export function easeData(sequences: readonly Int32Array[], numItems: number): EaseData {
  assertPositiveInteger('numItems', numItems);
  const rows = distinctRows(sequences, numItems);
  const size = easeSize(rows, numItems);
  return { rows, numItems, size, cols: itemUsers(rows, numItems) };
}

/** Fits EASE with one λ (> 0). Throws an ArborError when the problem is above the size limit. */
export function fitEase(data: EaseData, lambda: number, opts: EaseFitOptions = {}): EaseFit {
  if (!(lambda > 0) || !Number.isFinite(lambda)) throw new UsageError(`EASE λ must be a positive number, got ${lambda}`);
  const { rows, numItems: n, size, cols } = data;
  assertEaseFits(size, opts.maxDim);
  const dim = size.dim;
  if (dim === 0) throw new ArborError('EASE: no training user has any item');
  const started = process.hrtime.bigint();
  const buffer = opts.buffer && opts.buffer.length >= dim * dim ? opts.buffer : new Float32Array(dim * dim);
  const a = buffer.subarray(0, dim * dim);
  a.fill(0);
  // the Gram matrix plus λI, upper triangle only (invertSpd reads no more)
  if (size.form === 'primal') {
    for (const r of rows) {
      for (let p = 0; p < r.length; p++) {
        const row = r[p] * dim;
        for (let q = p; q < r.length; q++) a[row + r[q]]++;
      }
    }
  } else {
    for (let j = 0; j < n; j++) {
      for (let p = cols.offsets[j]; p < cols.offsets[j + 1]; p++) {
        const row = cols.users[p] * dim;
        for (let q = p; q < cols.offsets[j + 1]; q++) a[row + cols.users[q]]++;
      }
    }
  }
  for (let i = 0; i < dim; i++) a[i * dim + i] += lambda;
  invertSpd(a, dim, { block: opts.block, onProgress: opts.onProgress });
  let scorer: EaseScorer;
  if (size.form === 'primal') {
    // B_hj = −P_hj / P_jj, zero diagonal
    const diag = new Float64Array(n);
    for (let j = 0; j < n; j++) diag[j] = a[j * n + j];
    for (let h = 0; h < n; h++) {
      const row = h * n;
      for (let j = 0; j < n; j++) a[row + j] = -a[row + j] / diag[j];
      a[row + h] = 0;
    }
    scorer = new PrimalScorer(a, n);
  } else if (n <= (opts.maxDim ?? EASE_MAX_DIM)) {
    scorer = new PrimalScorer(dualToB(a, dim, cols, n), n);
  } else {
    const d = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      let s = 0;
      const p0 = cols.offsets[j];
      const p1 = cols.offsets[j + 1];
      for (let p = p0; p < p1; p++) {
        const row = cols.users[p] * dim;
        for (let q = p0; q < p1; q++) s += a[row + cols.users[q]];
      }
      d[j] = s;
    }
    scorer = new DualScorer(a, dim, cols, d);
  }
  return { size, lambda, seconds: Number(process.hrtime.bigint() - started) / 1e9, buffer, scorer };
}

/**
 * B (items × items) from the dual's W (users × users): Q = Xᵀ W X one item
 * row at a time (r = Σ_{u ∈ users(h)} W_u, then Q_hj = Σ_{v ∈ users(j)} r_v),
 * B_hj = Q_hj / (1 − Q_jj), zero diagonal.
 */
function dualToB(w: Float32Array, m: number, cols: { offsets: Int32Array; users: Int32Array }, n: number): Float32Array {
  const q = new Float32Array(n * n);
  const r = new Float64Array(m);
  for (let h = 0; h < n; h++) {
    const p0 = cols.offsets[h];
    const p1 = cols.offsets[h + 1];
    if (p0 === p1) continue;
    r.fill(0);
    for (let p = p0; p < p1; p++) {
      const row = cols.users[p] * m;
      for (let v = 0; v < m; v++) r[v] += w[row + v];
    }
    const out = h * n;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = cols.offsets[j]; p < cols.offsets[j + 1]; p++) s += r[cols.users[p]];
      q[out + j] = s;
    }
  }
  const scale = new Float64Array(n);
  // 1 − Q_jj = λ·P_jj > 0 in exact arithmetic; guard float32 rounding for items nearly every user has
  for (let j = 0; j < n; j++) scale[j] = 1 / Math.max(1 - q[j * n + j], 1e-6);
  for (let h = 0; h < n; h++) {
    const out = h * n;
    for (let j = 0; j < n; j++) q[out + j] *= scale[j];
    q[out + h] = 0;
  }
  return q;
}

/** Options of {@link EaseRetriever}. */
export interface EaseRetrieverOptions {
  /** Skip items already in the user's history (default false). */
  excludeHistory?: boolean;
}

/**
 * EASE as a retriever: scores every item for the query's distinct history
 * items and returns the exact top k (ties by lower index). `pairsScored` is
 * the number of items scored.
 */
export class EaseRetriever implements Retriever {
  readonly name = 'ease';
  readonly exact = true;
  private readonly marks: ItemMarks;
  private readonly excludeHistory: boolean;

  constructor(
    readonly fit: EaseFit,
    private readonly numItems: number,
    opts: EaseRetrieverOptions = {},
  ) {
    this.marks = new ItemMarks(numItems);
    this.excludeHistory = opts.excludeHistory ?? false;
  }

  /** The scores of every item for a history (item indices, oldest first). */
  scores(history: Int32Array): Float32Array {
    assertItemIndices(history, this.numItems, 'history');
    this.marks.clear();
    const h: number[] = [];
    for (const it of history) {
      if (!this.marks.has(it)) {
        this.marks.add(it);
        h.push(it);
      }
    }
    return this.fit.scorer.scores(Int32Array.from(h), this.marks);
  }

  /** Top k items for a history; `beam` is ignored. */
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    assertPositiveInteger('k', opts.k);
    const s = this.scores(history);
    if (this.excludeHistory) for (const it of history) s[it] = -Infinity;
    const items = topK(s, opts.k);
    const picked = this.excludeHistory ? items.filter((it) => s[it] !== -Infinity) : items;
    return { items: picked, scores: Float32Array.from(picked, (it) => s[it]), pairsScored: this.numItems };
  }
}

/** One λ tried by {@link selectEase}. */
export interface EaseTrial {
  lambda: number;
  validRecall: number;
  seconds: number;
}

/** Options of {@link selectEase}. */
export interface EaseSelectOptions extends EaseFitOptions {
  /** Cut-off of the validation recall (default 50). */
  validK?: number;
  /** The ladder λ is chosen from (default EASE_LAMBDA_LADDER). */
  ladder?: readonly number[];
  /** Where the search starts (the nearest ladder value), and the λ used without validation users (default EASE_START_LAMBDA). */
  startLambda?: number;
  logger?: Logger;
}

/** What {@link selectEase} chose and why. */
export interface EaseSelection {
  retriever: EaseRetriever;
  lambda: number;
  /** Every λ tried with its validation recall (empty without validation users). */
  trials: EaseTrial[];
  validK: number;
  validUsers: number;
  seconds: number;
}

/** The ladder index whose value is nearest (geometrically) to `x`. */
function nearestRung(ladder: readonly number[], x: number): number {
  let best = 0;
  ladder.forEach((v, i) => {
    if (Math.abs(Math.log(v / x)) < Math.abs(Math.log(ladder[best] / x))) best = i;
  });
  return best;
}

/**
 * Fits EASE with λ chosen on validation users (never test users): starting
 * at the ladder value nearest `startLambda` (default EASE_START_LAMBDA), it
 * walks the ladder upwards while
 * validation recall@k rises, else downwards while it rises, and keeps the
 * best λ (a tie does not move). Without validation users it fits the
 * starting λ. Throws an ArborError above the size limit, before any fit.
 */
export function selectEase(sequences: readonly Int32Array[], numItems: number, valid: readonly EvalCase[], opts: EaseSelectOptions = {}): EaseSelection {
  const logger = opts.logger ?? silentLogger;
  const validK = opts.validK ?? 50;
  const ladder = opts.ladder ?? EASE_LAMBDA_LADDER;
  const started = process.hrtime.bigint();
  const data = easeData(sequences, numItems);
  assertEaseFits(data.size, opts.maxDim);
  const cases = valid.filter((c) => c.truth.length > 0);
  logger.info(`ease: ${data.size.form} form, ${data.size.dim} × ${data.size.dim} inverse (${numItems} items, ${data.size.users} training users)`);
  const fitAt = (lambda: number, buffer?: Float32Array) => {
    const fit = fitEase(data, lambda, { ...opts, buffer });
    return { fit, retriever: new EaseRetriever(fit, numItems) };
  };
  const done = (retriever: EaseRetriever, lambda: number, trials: EaseTrial[]): EaseSelection => ({
    retriever,
    lambda,
    trials,
    validK,
    validUsers: cases.length,
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
  });
  const start = opts.startLambda ?? EASE_START_LAMBDA;
  if (cases.length === 0) {
    logger.warn(`ease: no validation users, so λ is not searched: λ = ${start}`);
    return done(fitAt(start).retriever, start, []);
  }
  const recallOf = (r: EaseRetriever) => {
    const acc = new MetricsAccumulator([validK]);
    for (const c of cases) acc.add(r.retrieve(c.history, { k: validK }).items, new Set(c.truth));
    return acc.result()[0].recall;
  };
  const trials: EaseTrial[] = [];
  let spare: Float32Array | undefined;
  const tryRung = (i: number) => {
    const { fit, retriever } = fitAt(ladder[i], spare);
    const trial = { lambda: ladder[i], validRecall: recallOf(retriever), seconds: fit.seconds };
    trials.push(trial);
    logger.info(`ease: λ ${trial.lambda}: validation recall@${validK} ${(trial.validRecall * 100).toFixed(2)}% (fit ${fit.seconds.toFixed(1)} s)`);
    return { i, recall: trial.validRecall, retriever };
  };
  let best = tryRung(nearestRung(ladder, start));
  // the better direction first: try the larger λ, then (if it did not win) the smaller one
  for (const step of [1, -1]) {
    let moved = false;
    for (let i = best.i + step; i >= 0 && i < ladder.length; i += step) {
      const t = tryRung(i);
      if (!(t.recall > best.recall)) {
        spare = t.retriever.fit.buffer;
        break;
      }
      spare = best.retriever.fit.buffer;
      best = t;
      moved = true;
    }
    if (moved) break;
  }
  logger.info(`ease: chose λ ${ladder[best.i]} on ${cases.length} validation users`);
  return done(best.retriever, ladder[best.i], trials);
}
