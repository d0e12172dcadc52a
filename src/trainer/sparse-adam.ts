/**
 * Lazy Adam for embedding tables: only rows a batch touched are updated
 * (their moments too), with the global step for bias correction, as in
 * TensorFlow's LazyAdam. Gradients are accumulated per row first, so a row
 * used several times in a batch gets one summed update.
 *
 * The step's gradient is kept compact (the touched rows in first-touch
 * order, each with its summed gradient), not in a table-sized array: on a
 * large catalogue a step touches a small, scattered part of the table, and
 * a table-sized gradient would cost two more cache misses per touched row
 * (and the memory of another table).
 */
import { ownsRow, type RowShare, type UpdaterState } from './updater.js';
import type { RowGradients } from './row-gradients.js';

/** First and second moments, each as long as the table. */
export interface SparseAdamState {
  m: Float32Array;
  v: Float32Array;
}

export type { UpdaterState } from './updater.js';

/**
 * `a`, every memory page of it written once. A large fresh array is mapped
 * lazily by the operating system: without this, the first step to reach each
 * page of the moments would pay a page fault, which on a catalogue of a
 * million items makes the first epoch's steps slower than the later ones.
 * Zeros are written, so the values do not change.
 */
export function touched<T extends Float32Array>(a: T): T {
  return a.fill(0) as T;
}

/** Sparse Adam state for one [rows, dim] table. */
export class SparseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  /** Slot of each row in this step's gradient, −1 when untouched. */
  private readonly slotOf: Int32Array;
  /** Row of each slot, in first-touch order. */
  private rows = new Int32Array(64);
  /** Summed gradient of each slot, [slots, dim]. */
  private grad: Float32Array;
  private count = 0;
  private step = 0;
  /** applyShards: each row's place in the touched list below, −1 when untouched. */
  private readonly seen: Int32Array;
  /** applyShards: the rows of this step in first-touch order, with the shard and slot of their first touch (shard −1: summed in the accumulator). */
  private touchedRow = new Int32Array(64);
  private touchedShard = new Int32Array(64);
  private touchedSlot = new Int32Array(64);
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  /**
   * `state` supplies the moment arrays (each as long as the table), e.g. in
   * shared memory so that worker threads updating disjoint rows share one
   * optimiser state; by default they are allocated here.
   */
  constructor(
    readonly table: Float32Array,
    readonly dim: number,
    public lr: number,
    opts: { beta1?: number; beta2?: number; eps?: number; state?: SparseAdamState } = {},
  ) {
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    const st = opts.state;
    if (st && (st.m.length !== table.length || st.v.length !== table.length)) {
      throw new Error(`sparse Adam state must match the table's ${table.length} values`);
    }
    this.m = st?.m ?? touched(new Float32Array(table.length));
    this.v = st?.v ?? touched(new Float32Array(table.length));
    this.slotOf = new Int32Array(table.length / dim).fill(-1);
    this.seen = new Int32Array(table.length / dim).fill(-1);
    this.grad = new Float32Array(64 * dim);
  }

  /** Adds `scale · g[gOffset .. gOffset+dim)` to the gradient of `row`. */
  accumulate(row: number, g: Float32Array, gOffset: number, scale: number): void {
    const dim = this.dim;
    let k = this.slotOf[row];
    if (k < 0) {
      k = this.count++;
      if (k >= this.rows.length) this.grow();
      this.slotOf[row] = k;
      this.rows[k] = row;
      this.grad.fill(0, k * dim, (k + 1) * dim);
    }
    const o = k * dim;
    const grad = this.grad;
    for (let t = 0; t < dim; t++) grad[o + t] += scale * g[gOffset + t];
  }

  private grow(): void {
    const rows = new Int32Array(this.rows.length * 2);
    rows.set(this.rows);
    this.rows = rows;
    const grad = new Float32Array(rows.length * this.dim);
    grad.set(this.grad);
    this.grad = grad;
  }

  /**
   * One Adam step from the shards' gradients of a step, the rows in
   * `share`: exactly what `accumulate` of every such row of every shard (in
   * shard order, each times `scale`) and then `apply()` give, bit for bit.
   * A row that only one shard touched (with one shard, every row) is read
   * in place rather than copied into the accumulator; only rows that
   * several shards touched are summed there, in shard order.
   */
  applyShards(shards: readonly RowGradients[], scale: number, share: RowShare): void {
    if (this.count > 0) throw new Error('sparse Adam: applyShards with gradients already accumulated');
    this.step++;
    const { dim, seen } = this;
    // pass 1: each owned row once, in first-touch order; a second touch moves it to the accumulator
    let n = 0;
    for (let j = 0; j < shards.length; j++) {
      const g = shards[j];
      const rows = g.rows;
      for (let k = 0, count = g.count; k < count; k++) {
        const row = rows[k];
        if (!ownsRow(share, row)) continue;
        const i = seen[row];
        if (i < 0) {
          if (n >= this.touchedRow.length) this.growTouched();
          seen[row] = n;
          this.touchedRow[n] = row;
          this.touchedShard[n] = j;
          this.touchedSlot[n] = k;
          n++;
        } else {
          const first = this.touchedShard[i];
          if (first >= 0) {
            this.accumulate(row, shards[first].values, this.touchedSlot[i] * dim, scale);
            this.touchedShard[i] = -1;
          }
          this.accumulate(row, g.values, k * dim, scale);
        }
      }
    }
    // pass 2: rows of one shard, straight from its gradient
    const lrT = this.stepRate();
    const { touchedRow, touchedShard, touchedSlot } = this;
    for (let i = 0; i < n; i++) {
      const row = touchedRow[i];
      seen[row] = -1;
      const j = touchedShard[i];
      if (j >= 0) this.updateRow(row, shards[j].values, touchedSlot[i] * dim, scale, lrT);
    }
    // pass 3: rows several shards touched, from the accumulator
    this.applyAccumulated(lrT);
  }

  private growTouched(): void {
    const grow = (a: Int32Array) => {
      const b = new Int32Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.touchedRow = grow(this.touchedRow);
    this.touchedShard = grow(this.touchedShard);
    this.touchedSlot = grow(this.touchedSlot);
  }

  /** Applies one Adam step to every touched row (in first-touch order; each row's update is independent of the others') and clears the gradients. */
  apply(): void {
    this.step++;
    this.applyAccumulated(this.stepRate());
  }

  /** The current step's rate lr · √(1 − β2^t) / (1 − β1^t). */
  private stepRate(): number {
    const c1 = 1 - Math.pow(this.beta1, this.step);
    const c2 = 1 - Math.pow(this.beta2, this.step);
    return (this.lr * Math.sqrt(c2)) / c1;
  }

  /** Adam on `row` with the gradient `scale · src[offset .. offset+dim)` rounded to float32 (as the accumulator stores it). */
  private updateRow(row: number, src: Float32Array, offset: number, scale: number, lrT: number): void {
    const { m, v, table, dim, beta1, beta2, eps } = this;
    const o = row * dim;
    const go = offset - o;
    for (let t = o; t < o + dim; t++) {
      const g = Math.fround(scale * src[go + t]);
      m[t] = beta1 * m[t] + (1 - beta1) * g;
      v[t] = beta2 * v[t] + (1 - beta2) * g * g;
      table[t] -= (lrT * m[t]) / (Math.sqrt(v[t]) + eps);
    }
  }

  /** The update of the accumulated rows (their sums are float32 already, so scale 1 leaves them as they are); clears them. */
  private applyAccumulated(lrT: number): void {
    const { grad, dim, rows, slotOf } = this;
    for (let k = 0; k < this.count; k++) {
      const row = rows[k];
      this.updateRow(row, grad, k * dim, 1, lrT);
      slotOf[row] = -1;
    }
    this.count = 0;
  }

  /** The moments (live views, valid until the next step) and the step count, between steps. */
  saveState(): UpdaterState {
    return { arrays: { m: this.m, v: this.v }, counts: { step: this.step } };
  }

  /** Puts back a state from saveState (the moments are copied unless they are these very arrays). */
  loadState(s: UpdaterState): void {
    const { m, v } = s.arrays;
    if (!m || !v || m.length !== this.m.length || v.length !== this.v.length || !Number.isInteger(s.counts.step)) {
      throw new Error(`sparse Adam state must hold moments of ${this.m.length} values and a step count`);
    }
    if (m !== this.m) this.m.set(m);
    if (v !== this.v) this.v.set(v);
    this.step = s.counts.step;
  }
}
