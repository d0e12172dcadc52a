/**
 * One shard's gradient for the embedding table of one step, kept compact:
 * the distinct rows it touched, in first-touch order, each with its summed
 * gradient. It lives in one buffer (a SharedArrayBuffer on the data-parallel
 * trainer, so the other workers read it after the step's barrier): an int32
 * count, then `capacity` row numbers, then `capacity × dim` float32 values.
 * Only the writing thread adds rows; it keeps a private row → slot index.
 */
import { ArborError } from '../core/errors.js';
import type { BatchCapacity } from './batch-types.js';

/** Rows a shard's RowGradients needs: at most one per user-map entry and pair, and no more than the table has. */
export function rowCapacity(cap: BatchCapacity, numRows: number): number {
  return Math.min(numRows, cap.entries + cap.pairs);
}

/** A compact per-row gradient over a table of `dim`-wide rows. */
export class RowGradients {
  /** Row of each slot. */
  readonly rows: Int32Array;
  /** Summed gradient of each slot, [capacity, dim]. */
  readonly values: Float32Array;
  private readonly header: Int32Array;
  private slotOf: Int32Array | undefined;

  /** Bytes a buffer for `capacity` rows of width `dim` needs. */
  static bytes(capacity: number, dim: number): number {
    return 4 * (2 + capacity + capacity * dim);
  }

  /** A view on `buffer` (made for `capacity` rows of `dim`); `numRows` (the table's rows) only for the thread that writes. */
  constructor(
    readonly buffer: ArrayBufferLike,
    readonly capacity: number,
    readonly dim: number,
    numRows = 0,
  ) {
    if (buffer.byteLength < RowGradients.bytes(capacity, dim)) throw new ArborError(`row gradient buffer of ${buffer.byteLength} bytes is too small for ${capacity} rows of ${dim}`);
    this.header = new Int32Array(buffer, 0, 2);
    this.rows = new Int32Array(buffer, 8, capacity);
    this.values = new Float32Array(buffer, 8 + 4 * capacity, capacity * dim);
    if (numRows > 0) this.slotOf = new Int32Array(numRows).fill(-1);
  }

  /** A writer over a fresh (non-shared) buffer. */
  static local(capacity: number, dim: number, numRows: number): RowGradients {
    return new RowGradients(new ArrayBuffer(RowGradients.bytes(capacity, dim)), capacity, dim, numRows);
  }

  /** Rows held (slots 0..count-1). */
  get count(): number {
    return this.header[0];
  }

  /** Adds `scale · g[offset .. offset+dim)` to the gradient of `row`. */
  add(row: number, g: Float32Array, offset: number, scale: number): void {
    const slotOf = this.slotOf!;
    const dim = this.dim;
    let k = slotOf[row];
    if (k < 0) {
      k = this.header[0];
      if (k >= this.capacity) throw new ArborError(`a training step touched more than ${this.capacity} embedding rows (the batch producer's capacity is wrong)`);
      this.header[0] = k + 1;
      slotOf[row] = k;
      this.rows[k] = row;
      this.values.fill(0, k * dim, (k + 1) * dim);
    }
    const o = k * dim;
    const v = this.values;
    for (let t = 0; t < dim; t++) v[o + t] += scale * g[offset + t];
  }

  /** Empties the gradient (the writer calls this before each step). */
  clear(): void {
    const n = this.header[0];
    for (let k = 0; k < n; k++) this.slotOf![this.rows[k]] = -1;
    this.header[0] = 0;
  }
}
