/** Planted Gaussian blobs for tests of tree builders and tree quality figures. */
import { Rng } from '../../src/core/rng.js';

/**
 * `blobs` well-separated Gaussian blobs of `size` points in `dim` dimensions,
 * items shuffled; returns the embeddings and each item's blob.
 */
export function plantedBlobs(blobs: number, size: number, dim: number, seed: number): { emb: Float32Array; groupOf: Int32Array } {
  const rng = new Rng(seed);
  const n = blobs * size;
  const centers = Array.from({ length: blobs }, () => Float64Array.from({ length: dim }, () => rng.normal() * 10));
  const perm = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
  const emb = new Float32Array(n * dim);
  const groupOf = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const item = perm[p];
    const b = Math.floor(p / size);
    groupOf[item] = b;
    for (let d = 0; d < dim; d++) emb[item * dim + d] = centers[b][d] + 0.3 * rng.normal();
  }
  return { emb, groupOf };
}
