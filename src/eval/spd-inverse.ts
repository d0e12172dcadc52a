/**
 * In-place inverse of a dense symmetric positive definite matrix, for the
 * EASE baseline's closed form: the blocked sweep operator (Gauss-Jordan
 * elimination on symmetric matrices, Goodnight 1979). Sweeping every pivot
 * block K turns A into −A⁻¹:
 *
 *   S = A_KK⁻¹;  A_RR ← A_RR − A_RK·S·A_KR;  A_RK ← A_RK·S;  A_KR ← S·A_KR;  A_KK ← −S
 *
 * (R: every index outside K). Only the upper triangle is kept up to date,
 * so each block's update is a symmetric rank-`block` product over half the
 * matrix: n³ multiply-adds in all. The products run as tfjs matMuls on the
 * active backend in row tiles, so the matrix itself stays in one JS
 * Float32Array (n² · 4 bytes) and the backend only ever holds a tile; the
 * small pivot blocks are inverted in float64.
 */
import * as tf from '@tensorflow/tfjs';
import { ArborError, assertPositiveInteger } from '../core/errors.js';

/** Options of {@link invertSpd}. */
export interface SpdInverseOptions {
  /** Pivot block size (default 256). */
  block?: number;
  /** Rows per tile of the block update (default: about 4M matrix entries a tile). */
  tileRows?: number;
  /** Called after each pivot block with the fraction done. */
  onProgress?: (done: number) => void;
}

/**
 * Inverts the symmetric positive definite n × n matrix `a` (row-major; both
 * triangles given) in place: afterwards `a` holds A⁻¹, both triangles.
 * Throws an ArborError when a pivot is not positive (the matrix is not
 * positive definite to float32 precision).
 */
export function invertSpd(a: Float32Array, n: number, opts: SpdInverseOptions = {}): void {
  assertPositiveInteger('n', n);
  if (a.length !== n * n) throw new ArborError(`invertSpd: expected ${n * n} values for a ${n} × ${n} matrix, got ${a.length}`);
  const nb = Math.min(opts.block ?? 256, n);
  assertPositiveInteger('block', nb);
  const tileRows = opts.tileRows ?? Math.max(16, Math.min(2048, Math.floor((4 << 20) / n)));
  const c = new Float32Array(n * nb);
  const ct = new Float32Array(nb * n);
  const u = new Float32Array(n * nb);
  for (let k0 = 0; k0 < n; k0 += nb) {
    const k1 = Math.min(n, k0 + nb);
    const m = k1 - k0;
    const s = invertSmallSpd(pivotBlock(a, n, k0, k1), m, k0);
    // Cᵀ = A_{K,:} from the upper triangle (columns inside K left zero), and C = A_{:,K}
    const ctm = ct.subarray(0, m * n);
    for (let t = 0; t < m; t++) {
      const o = t * n;
      for (let i = 0; i < k0; i++) ctm[o + i] = a[i * n + k0 + t];
      ctm.fill(0, o + k0, o + k1);
      ctm.set(a.subarray((k0 + t) * n + k1, (k0 + t + 1) * n), o + k1);
    }
    const cm = c.subarray(0, n * m);
    for (let i = 0; i < n; i++) for (let t = 0; t < m; t++) cm[i * m + t] = ctm[t * n + i];
    const um = u.subarray(0, n * m);
    tf.tidy(() => {
      um.set(tf.matMul(tf.tensor2d(cm, [n, m]), tf.tensor2d(Float32Array.from(s), [m, m])).dataSync() as Float32Array);
      const ctT = tf.tensor2d(ctm, [m, n]);
      // A_RR ← A_RR − U_R · C_Rᵀ over the upper triangle, one row tile at a time
      // (plain products: a transposed operand is several times slower on wasm)
      const update = (i0: number, i1: number) => {
        const delta = tf.tidy(() => tf.matMul(tf.tensor2d(um.subarray(i0 * m, i1 * m), [i1 - i0, m]), i0 === 0 ? ctT : tf.slice(ctT, [0, i0], [m, n - i0])));
        const d = delta.dataSync() as Float32Array;
        delta.dispose();
        const w = n - i0;
        for (let i = i0; i < i1; i++) {
          const row = i * n;
          const drow = (i - i0) * w - i0;
          for (let j = i; j < k0; j++) a[row + j] -= d[drow + j];
          for (let j = Math.max(i, k1); j < n; j++) a[row + j] -= d[drow + j];
        }
      };
      for (const [r0, r1] of [[0, k0], [k1, n]]) {
        for (let i0 = r0; i0 < r1; i0 += tileRows) update(i0, Math.min(r1, i0 + tileRows));
      }
    });
    // A_RK ← U_R (upper triangle: rows above K hold it in K's columns, rows below in K's rows)
    for (let i = 0; i < k0; i++) a.set(um.subarray(i * m, (i + 1) * m), i * n + k0);
    for (let t = 0; t < m; t++) {
      const row = (k0 + t) * n;
      for (let i = k1; i < n; i++) a[row + i] = um[i * m + t];
    }
    // A_KK ← −S
    for (let p = 0; p < m; p++) for (let q = p; q < m; q++) a[(k0 + p) * n + k0 + q] = -s[p * m + q];
    opts.onProgress?.(k1 / n);
  }
  // a = −A⁻¹ on the upper triangle: negate, and mirror into the lower one
  for (let i = 0; i < n; i++) {
    const row = i * n;
    for (let j = i; j < n; j++) {
      const v = -a[row + j];
      a[row + j] = v;
      a[j * n + i] = v;
    }
  }
}

/** The pivot block A_KK (from the upper triangle) in float64. */
function pivotBlock(a: Float32Array, n: number, k0: number, k1: number): Float64Array {
  const m = k1 - k0;
  const b = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) {
      const v = a[(k0 + p) * n + k0 + q];
      b[p * m + q] = v;
      b[q * m + p] = v;
    }
  }
  return b;
}

/**
 * Inverse of a small symmetric positive definite matrix in float64, by
 * Cholesky (A = L·Lᵀ, then A⁻¹ = L⁻ᵀ·L⁻¹). `offset` names the block's first
 * row in errors.
 */
export function invertSmallSpd(b: Float64Array, m: number, offset = 0): Float64Array {
  const l = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    let d = b[j * m + j];
    for (let t = 0; t < j; t++) d -= l[j * m + t] * l[j * m + t];
    if (!(d > 0)) {
      throw new ArborError(`the matrix is not positive definite (pivot ${offset + j} is ${d.toPrecision(3)} after elimination): increase the regularisation`);
    }
    const ljj = Math.sqrt(d);
    l[j * m + j] = ljj;
    for (let i = j + 1; i < m; i++) {
      let v = b[i * m + j];
      for (let t = 0; t < j; t++) v -= l[i * m + t] * l[j * m + t];
      l[i * m + j] = v / ljj;
    }
  }
  // L⁻¹, lower triangular
  const li = new Float64Array(m * m);
  for (let j = 0; j < m; j++) {
    li[j * m + j] = 1 / l[j * m + j];
    for (let i = j + 1; i < m; i++) {
      let v = 0;
      for (let t = j; t < i; t++) v -= l[i * m + t] * li[t * m + j];
      li[i * m + j] = v / l[i * m + i];
    }
  }
  // A⁻¹ = L⁻ᵀ L⁻¹: entry (p, q) = Σ_{t ≥ max(p, q)} li[t][p] · li[t][q]
  const out = new Float64Array(m * m);
  for (let p = 0; p < m; p++) {
    for (let q = p; q < m; q++) {
      let v = 0;
      for (let t = q; t < m; t++) v += li[t * m + p] * li[t * m + q];
      out[p * m + q] = v;
      out[q * m + p] = v;
    }
  }
  return out;
}
