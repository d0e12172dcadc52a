/**
 * A trained model extended by new items, without retraining: the tree gains
 * the items (growing levels when its last level is full; see
 * src/tree/insert.ts) and the scorer's embedding table gains their rows and
 * the rows of any new internal nodes. The MLP is unchanged.
 *
 * Placement: each new item descends, among the children with free slots,
 * to the one that holds the largest weight of its anchors (the old items
 * its first row was made from: its co-occurring items, its category's
 * items or its vector neighbours), ties and items without anchors going by
 * `centroid` (`neighbours`, the default, chosen by measurement); or to the
 * child whose centroid (the mean trained row of the items below it) is
 * nearest by cosine to its first row (`centroid`), or whose node embedding
 * is (`node`); `random` takes a uniformly random free leaf (the control
 * the measurements compare against).
 */
import { Rng } from '../core/rng.js';
import { UsageError } from '../core/errors.js';
import { ScorerNetwork } from '../scorer/network.js';
import { growTree, levelsToGrow, placeItems, subtreeSums, withNewItems, type Affinity } from '../tree/insert.js';
import type { Tree, TreeItems } from '../tree/tree.js';
import type { CoOccurrence } from './item-init.js';

/** How new items find their leaves. */
export type PlacementRule = 'centroid' | 'node' | 'neighbours' | 'random';

/** The extended model. */
export interface Extended {
  tree: Tree;
  network: ScorerNetwork;
  /** Levels the tree grew by. */
  levelsGrown: number;
}

/**
 * Adds items to a trained model. `items` is the whole new catalogue (old
 * items first, unchanged); `rows` the first embedding row of every new
 * item ([m, embDim]). Returns a new tree and a new network (the old
 * network is left as it was; the caller disposes both).
 */
export function extendModel(tree: Tree, network: ScorerNetwork, items: TreeItems, rows: Float32Array, rule: PlacementRule, seed: number, anchors?: CoOccurrence): Extended {
  const d = network.config.embDim;
  const n = tree.numItems;
  const m = items.itemIds.length - n;
  if (m < 0 || rows.length !== m * d) throw new UsageError(`extendModel: ${m} new items with ${rows.length / d} rows`);
  const levelsGrown = levelsToGrow(tree.layout.depth, tree.layout.branching, n + m);
  const grown = growTree(tree, levelsGrown);
  const emb = grownTable(tree, grown, network);
  const { numInternal: gi } = grown.layout;
  let placement;
  if (rule === 'random') {
    placement = placeItems(grown, m, { rng: new Rng(seed ^ 0xadd1) });
  } else {
    const unit = normalisedRows(rows, d);
    let affinity: Affinity;
    if (rule === 'centroid' || rule === 'neighbours') {
      const itemRows = emb.subarray(gi * d, (gi + n) * d);
      const sums = subtreeSums(grown, itemRows, d);
      const centroid: Affinity = (item, code) => (grown.subtreeSize[code] === 0 ? NaN : cosine(unit, item * d, sums, code * d, d));
      affinity = centroid;
      if (rule === 'neighbours' && anchors) {
        const { layout } = grown;
        const leafLevel = layout.depth;
        affinity = (item, code) => {
          const c = centroid(item, code);
          const { start, item: old, weight } = anchors;
          if (start[item] === start[item + 1]) return c;
          const level = layout.level(code);
          let mass = 0;
          let total = 0;
          for (let p = start[item]; p < start[item + 1]; p++) {
            total += weight[p];
            if (layout.ancestorAt(grown.leafCodeOf(old[p]), leafLevel, level) === code) mass += weight[p];
          }
          return mass / total + 1e-3 * (Number.isNaN(c) ? -1 : c);
        };
      }
    } else if (rule === 'node') {
      affinity = (item, code) => {
        if (grown.subtreeSize[code] === 0) return NaN;
        return code < gi ? cosine(unit, item * d, emb, code * d, d) : NaN;
      };
    } else {
      throw new UsageError(`placement must be neighbours, centroid, node or random, got ${JSON.stringify(rule)}`);
    }
    placement = placeItems(grown, m, { affinity });
  }
  const extended = withNewItems(grown, items, placement.slots);
  const table = new Float32Array(extended.numRows * d);
  table.set(emb.subarray(0, (gi + n) * d));
  table.set(rows, (gi + n) * d);
  const arrays = network.toArrays();
  arrays.set('embedding', { shape: [extended.numRows, d], data: table });
  const net = ScorerNetwork.fromArrays(structuredClone(network.config), gi, n + m, arrays, '(add-items)');
  return { tree: extended, network: net, levelsGrown };
}

/**
 * The embedding table for the grown tree (old items only): old internal
 * rows as they were; a node on a new level gets the row of the item that
 * sat at that old leaf (its item is now below it), else its parent's row;
 * item rows move after the new internal rows.
 */
function grownTable(old: Tree, grown: Tree, network: ScorerNetwork): Float32Array {
  const d = network.config.embDim;
  const oi = old.layout.numInternal;
  const gi = grown.layout.numInternal;
  const n = old.numItems;
  const src = network.emb;
  if (gi === oi) return src;
  const out = new Float32Array((gi + n) * d);
  out.set(src.subarray(0, oi * d));
  const k = grown.layout.branching;
  for (let c = oi; c < gi; c++) {
    let from: number;
    const item = c < oi + old.layout.numLeaves ? old.leafItem[c - oi] : -1;
    if (item >= 0) from = (oi + item) * d;
    else {
      const p = Math.floor((c - 1) / k);
      out.copyWithin(c * d, p * d, (p + 1) * d);
      continue;
    }
    out.set(src.subarray(from, from + d), c * d);
  }
  out.set(src.subarray(oi * d, (oi + n) * d), gi * d);
  return out;
}

function normalisedRows(rows: Float32Array, d: number): Float32Array {
  const out = new Float32Array(rows.length);
  for (let i = 0; i < rows.length / d; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += rows[i * d + j] ** 2;
    const inv = 1 / (Math.sqrt(s) || 1);
    for (let j = 0; j < d; j++) out[i * d + j] = rows[i * d + j] * inv;
  }
  return out;
}

/** Cosine of unit row a[ao…] with b[bo…] (b not normalised). */
function cosine(a: Float32Array, ao: number, b: Float32Array | Float64Array, bo: number, d: number): number {
  let dot = 0;
  let nb = 0;
  for (let j = 0; j < d; j++) {
    dot += a[ao + j] * b[bo + j];
    nb += b[bo + j] * b[bo + j];
  }
  return nb > 0 ? dot / Math.sqrt(nb) : NaN;
}
