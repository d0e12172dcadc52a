/**
 * Item side features in the item representation: an item's row in the
 * scorer's embedding table (used for its behaviours and for its leaf) is
 *
 *   emb[item] = base[item] + cat[category(item)] + (vector(item)·Proj  or  def)
 *
 * with a learned category table, a learned projection of the item's dense
 * side vector to the embedding size, and a learned default for items without
 * a vector. `materialise` writes these sums into the network's table, so all
 * inference code reads one table and does not care how it was made; the
 * trainer's gradient for an item row flows to each part (`updater`).
 */
import { Rng } from '../core/rng.js';
import { UsageError } from '../core/errors.js';
import type { ItemVectors } from '../data/item-vectors.js';
import { SparseAdam } from './sparse-adam.js';
import type { EmbeddingUpdater, UpdaterState } from './updater.js';

export type { EmbeddingUpdater } from './updater.js';

/** Category and vector inputs of the item representation. */
export interface ItemFeatureInputs {
  /** Category index of every item (-1: none) and the number of categories; omit for no category embedding. */
  category?: { itemCategory: Int32Array; numCategories: number };
  /** Dense side vectors in catalogue order; omit for none. */
  vectors?: ItemVectors;
}

/** The learned side-feature parameters and the base table they are added to. */
export class ItemFeatures {
  /** Base rows (internal nodes and items), what the sparse optimiser updates. */
  readonly base: Float32Array;
  /** [numCategories, d], or empty. */
  readonly catTable: Float32Array;
  /** [vectorDim, d], or empty. */
  readonly proj: Float32Array;
  /** [d]: the vector term of items without a vector. */
  readonly def: Float32Array;

  constructor(
    readonly numInternal: number,
    readonly numItems: number,
    readonly dim: number,
    emb: Float32Array,
    readonly inputs: ItemFeatureInputs,
    rng: Rng,
  ) {
    const d = dim;
    const cat = inputs.category;
    if (cat && cat.itemCategory.length !== numItems) throw new UsageError(`item categories cover ${cat.itemCategory.length} items, the scorer has ${numItems}`);
    const vec = inputs.vectors;
    if (vec && vec.has.length !== numItems) throw new UsageError(`item vectors cover ${vec.has.length} items, the scorer has ${numItems}`);
    this.base = new Float32Array(emb);
    this.catTable = new Float32Array(cat ? cat.numCategories * d : 0);
    for (let i = 0; i < this.catTable.length; i++) this.catTable[i] = rng.normal() * 0.05;
    const v = vec?.dim ?? 0;
    this.proj = new Float32Array(v * d);
    const lim = Math.sqrt(6 / (v + d));
    for (let i = 0; i < this.proj.length; i++) this.proj[i] = (rng.next() * 2 - 1) * lim * 0.1;
    this.def = new Float32Array(d);
    this.materialise(emb);
  }

  /** The extra term (category + vector part) of item `it`, added into `out` at `o` with sign `sign`. */
  private addExtra(it: number, out: Float32Array, o: number, sign: number): void {
    const d = this.dim;
    const cat = this.inputs.category;
    if (cat) {
      const c = cat.itemCategory[it];
      if (c >= 0) for (let t = 0; t < d; t++) out[o + t] += sign * this.catTable[c * d + t];
    }
    const vec = this.inputs.vectors;
    if (vec) {
      if (vec.has[it]) {
        const v = vec.dim;
        const x = vec.data;
        for (let s = 0; s < v; s++) {
          const xs = sign * x[it * v + s];
          if (xs === 0) continue;
          const p = s * d;
          for (let t = 0; t < d; t++) out[o + t] += xs * this.proj[p + t];
        }
      } else {
        for (let t = 0; t < d; t++) out[o + t] += sign * this.def[t];
      }
    }
  }

  /** Writes base + features into `emb` (every row). */
  materialise(emb: Float32Array): void {
    emb.set(this.base);
    const d = this.dim;
    for (let it = 0; it < this.numItems; it++) this.addExtra(it, emb, (this.numInternal + it) * d, 1);
  }

  /** Makes `base` consistent with a given materialised table (after restoring a snapshot). */
  rebase(emb: Float32Array): void {
    this.base.set(emb);
    const d = this.dim;
    for (let it = 0; it < this.numItems; it++) this.addExtra(it, this.base, (this.numInternal + it) * d, -1);
  }

  /**
   * An optimiser for the whole item representation: a gradient for row r of
   * the materialised table goes to base row r and, for item rows, to the
   * item's category row and to the projection (or the default vector);
   * `apply` steps every part (lazy Adam) and re-materialises `emb`.
   */
  updater(emb: Float32Array, lr: number): EmbeddingUpdater {
    const d = this.dim;
    const baseAdam = new SparseAdam(this.base, d, lr);
    const cat = this.inputs.category;
    const catAdam = cat && this.catTable.length > 0 ? new SparseAdam(this.catTable, d, lr) : undefined;
    const vec = this.inputs.vectors;
    const projAdam = vec ? new SparseAdam(this.proj, d, lr) : undefined;
    const defAdam = vec ? new SparseAdam(this.def, d, lr) : undefined;
    return {
      accumulate: (row, g, off, scale) => {
        baseAdam.accumulate(row, g, off, scale);
        const it = row - this.numInternal;
        if (it < 0) return;
        if (catAdam && cat!.itemCategory[it] >= 0) catAdam.accumulate(cat!.itemCategory[it], g, off, scale);
        if (vec) {
          if (vec.has[it]) {
            const v = vec.dim;
            for (let s = 0; s < v; s++) {
              const x = vec.data[it * v + s];
              if (x !== 0) projAdam!.accumulate(s, g, off, scale * x);
            }
          } else defAdam!.accumulate(0, g, off, scale);
        }
      },
      apply: () => {
        baseAdam.apply();
        catAdam?.apply();
        projAdam?.apply();
        defAdam?.apply();
        this.materialise(emb);
      },
      saveState: () => {
        const out: UpdaterState = { arrays: {}, counts: {} };
        const parts: [string, Float32Array, SparseAdam | undefined][] = [['base', this.base, baseAdam], ['category', this.catTable, catAdam], ['projection', this.proj, projAdam], ['default', this.def, defAdam]];
        for (const [name, values, adam] of parts) {
          if (!adam) continue;
          const s = adam.saveState();
          out.arrays[name] = values;
          for (const [k, a] of Object.entries(s.arrays)) out.arrays[`${name}.${k}`] = a;
          for (const [k, c] of Object.entries(s.counts)) out.counts[`${name}.${k}`] = c;
        }
        return out;
      },
      loadState: (s) => {
        const parts: [string, Float32Array, SparseAdam | undefined][] = [['base', this.base, baseAdam], ['category', this.catTable, catAdam], ['projection', this.proj, projAdam], ['default', this.def, defAdam]];
        for (const [name, values, adam] of parts) {
          if (!adam) continue;
          const v = s.arrays[name];
          if (!v || v.length !== values.length) throw new Error(`item feature state lacks ${name} (${values.length} values)`);
          values.set(v);
          adam.loadState({ arrays: { m: s.arrays[`${name}.m`], v: s.arrays[`${name}.v`] }, counts: { step: s.counts[`${name}.step`] } });
        }
        this.materialise(emb);
      },
    };
  }
}
