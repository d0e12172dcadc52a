/**
 * Lazy Adam for embedding tables: only rows a batch touched are updated
 * (their moments too), with the global step for bias correction, as in
 * TensorFlow's LazyAdam. Gradients are accumulated per row first, so a row
 * used several times in a batch gets one summed update.
 */

/** First and second moments and the gradient being accumulated, each as long as the table. */
export interface SparseAdamState {
  m: Float32Array;
  v: Float32Array;
  grad: Float32Array;
}

/** Sparse Adam state for one [rows, dim] table. */
export class SparseAdam {
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly grad: Float32Array;
  private readonly touched: Uint8Array;
  private touchedRows: number[] = [];
  private step = 0;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;

  /**
   * `state` supplies the moment and gradient arrays (each as long as the
   * table), e.g. in shared memory so that worker threads updating disjoint
   * rows share one optimiser state; by default they are allocated here.
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
    if (st && (st.m.length !== table.length || st.v.length !== table.length || st.grad.length !== table.length)) {
      throw new Error(`sparse Adam state must match the table's ${table.length} values`);
    }
    this.m = st?.m ?? new Float32Array(table.length);
    this.v = st?.v ?? new Float32Array(table.length);
    this.grad = st?.grad ?? new Float32Array(table.length);
    this.touched = new Uint8Array(table.length / dim);
  }

  /** Adds `scale · g[gOffset .. gOffset+dim)` to the gradient of `row`. */
  accumulate(row: number, g: Float32Array, gOffset: number, scale: number): void {
    if (!this.touched[row]) {
      this.touched[row] = 1;
      this.touchedRows.push(row);
    }
    const o = row * this.dim;
    for (let t = 0; t < this.dim; t++) this.grad[o + t] += scale * g[gOffset + t];
  }

  /** Applies one Adam step to every touched row and clears the gradients. */
  apply(): void {
    this.step++;
    const { m, v, grad, table, dim, beta1, beta2, eps } = this;
    const c1 = 1 - Math.pow(beta1, this.step);
    const c2 = 1 - Math.pow(beta2, this.step);
    const lrT = (this.lr * Math.sqrt(c2)) / c1;
    for (const row of this.touchedRows) {
      const o = row * dim;
      for (let t = o; t < o + dim; t++) {
        const g = grad[t];
        m[t] = beta1 * m[t] + (1 - beta1) * g;
        v[t] = beta2 * v[t] + (1 - beta2) * g * g;
        table[t] -= (lrT * m[t]) / (Math.sqrt(v[t]) + eps);
        grad[t] = 0;
      }
      this.touched[row] = 0;
    }
    this.touchedRows = [];
  }
}
