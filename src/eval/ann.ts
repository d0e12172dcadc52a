/**
 * Maximum inner product search over a fixed set of item vectors, for the
 * two-tower baseline: an HNSW graph from hnswlib-node (an optional
 * dependency with a native addon built from source at install) when it
 * loads, else an exact scan. The exact scan is also the yardstick the HNSW
 * results are measured against.
 */
import { createRequire } from 'node:module';
import { UsageError, assertPositiveInteger } from '../core/errors.js';
import { topK } from '../beam/topk.js';

/** A top-k inner-product index over vectors 0..n-1. */
export interface InnerProductIndex {
  /** "hnsw" or "exact". */
  readonly kind: 'hnsw' | 'exact';
  /** Build parameters (HNSW: M, efConstruction, seed). */
  readonly params: Record<string, number>;
  /** The (at most) k vectors with the largest inner product with `query`, best first, and those products. */
  search(query: Float32Array, k: number): { ids: Int32Array; scores: Float32Array };
}

/** Exact scan: every vector's inner product, then the top k (ties by lower id). */
export class ExactInnerProduct implements InnerProductIndex {
  readonly kind = 'exact';
  readonly params = {};
  private readonly scores: Float32Array;

  /** `vectors` holds n rows of `dim` values, row-major. */
  constructor(
    private readonly vectors: Float32Array,
    private readonly dim: number,
  ) {
    assertPositiveInteger('dim', dim);
    this.scores = new Float32Array(vectors.length / dim);
  }

  search(query: Float32Array, k: number): { ids: Int32Array; scores: Float32Array } {
    const { vectors, dim, scores } = this;
    for (let i = 0, o = 0; i < scores.length; i++, o += dim) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += vectors[o + t] * query[t];
      scores[i] = s;
    }
    const ids = topK(scores, k);
    return { ids, scores: Float32Array.from(ids, (i) => scores[i]) };
  }
}

/** The part of hnswlib-node's API arbor uses. */
interface HnswLib {
  HierarchicalNSW: new (space: 'ip', dim: number) => {
    initIndex(maxElements: number, m?: number, efConstruction?: number, randomSeed?: number): void;
    addPoint(point: number[], label: number): void;
    setEf(ef: number): void;
    searchKnn(query: number[], k: number): { distances: number[]; neighbors: number[] };
  };
}

let lib: HnswLib | null | undefined;

/** hnswlib-node when its addon loads, else null (cached). */
export function loadHnswlib(): HnswLib | null {
  if (lib === undefined) {
    try {
      lib = createRequire(import.meta.url)('hnswlib-node') as HnswLib;
    } catch {
      lib = null;
    }
  }
  return lib;
}

/** HNSW build and search parameters. */
export interface HnswOptions {
  /** Graph degree (default 16). */
  m?: number;
  /** Candidate list while building (default 200). */
  efConstruction?: number;
  /** Candidate list while searching, raised to k when smaller (default 2 · k, at least 256). */
  efSearch?: number;
  /** Seed of the level assignment (the build is single-threaded, so the graph is reproducible). */
  seed: number;
}

/** HNSW over inner products (hnswlib's "ip" space: distance = 1 − product). */
export class HnswInnerProduct implements InnerProductIndex {
  readonly kind = 'hnsw';
  readonly params: Record<string, number>;
  private readonly index: InstanceType<HnswLib['HierarchicalNSW']>;
  private readonly size: number;
  private ef = -1;

  /** Builds the graph over n rows of `dim` values, inserted in id order. Throws a UsageError when hnswlib-node is not installed. */
  constructor(
    vectors: Float32Array,
    private readonly dim: number,
    private readonly opts: HnswOptions,
  ) {
    const h = loadHnswlib();
    if (!h) throw new UsageError('hnswlib-node is not installed (an optional dependency): `npm install hnswlib-node`, or use the exact index');
    assertPositiveInteger('dim', dim);
    const n = vectors.length / dim;
    this.size = n;
    const m = opts.m ?? 16;
    const efConstruction = opts.efConstruction ?? 200;
    this.params = { m, efConstruction, seed: opts.seed };
    this.index = new h.HierarchicalNSW('ip', dim);
    this.index.initIndex(Math.max(1, n), m, efConstruction, opts.seed);
    for (let i = 0; i < n; i++) this.index.addPoint(Array.from(vectors.subarray(i * dim, (i + 1) * dim)), i);
  }

  search(query: Float32Array, k: number): { ids: Int32Array; scores: Float32Array } {
    k = Math.min(k, this.size);
    if (k === 0) return { ids: new Int32Array(0), scores: new Float32Array(0) };
    const ef = Math.max(k, this.opts.efSearch ?? Math.max(256, 2 * k));
    if (ef !== this.ef) {
      this.index.setEf(ef);
      this.ef = ef;
    }
    const r = this.index.searchKnn(Array.from(query), k);
    // hnswlib returns nearest first; ties in distance keep its order
    return { ids: Int32Array.from(r.neighbors), scores: Float32Array.from(r.distances, (d) => 1 - d) };
  }
}

/** An HNSW index when hnswlib-node loads (and `exact` is not asked for), else the exact scan. */
export function innerProductIndex(vectors: Float32Array, dim: number, opts: HnswOptions & { exact?: boolean }): InnerProductIndex {
  return !opts.exact && loadHnswlib() ? new HnswInnerProduct(vectors, dim, opts) : new ExactInnerProduct(vectors, dim);
}
