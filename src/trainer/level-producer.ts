/**
 * The shared frame of the level-wise batch producers: each sample brings,
 * on every tree level, a fixed number of (node, label, weight) pairs, and
 * its user side is its latest behaviours in the scorer's time windows, each
 * window their mean. What the pairs are is the subclass's business
 * (`fillSample`); the frame lays them out:
 *
 *  - plain scorer: one user slot per sample, its pairs level by level;
 *  - hierarchical user preference: one slot per (level, sample),
 *    level-major, each slot's behaviours represented by their ancestors on
 *    that level (`Tree.levelRows`), and one pair group per level.
 *
 * Both layouts hold the same pairs for a sample. When the samples carry
 * weights (SampleSet.weight), each of a sample's pairs is weighted by it (times
 * the pair's own weight, for subclasses that write one). A subclass that needs to
 * look at the whole shard first (to run a beam search for every sample in
 * one batched pass, say) does so in `prepare`.
 */
import type { Rng } from '../core/rng.js';
import { maxHistory } from '../scorer/config.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { BatchCapacity, BatchProducer, PairGroup, ProducerContext, ShardBatch } from './batch-types.js';
import type { SampleSet } from './samples.js';
import { sampleRng } from './streams.js';

/** Where a sample's pairs of one level go, and how many there are. */
export interface LevelSlot {
  /** Position of the level's first pair in the batch arrays. */
  at: number;
  /** Pairs the level holds (the producer's `perLevel`). */
  m: number;
}

/** Base of the producers that give every sample a fixed number of pairs per level. */
export abstract class LevelProducer implements BatchProducer {
  readonly pairsPerSample: number;
  protected readonly tree: Tree;
  protected readonly network: ScorerNetwork;
  protected readonly samples: SampleSet;
  protected readonly seed: number;
  protected readonly depth: number;
  private readonly hierarchical: boolean;
  private readonly histCap: number;
  /** Pairs per level 1..depth (index level − 1). */
  private readonly perLevel: number[];
  /** Pairs before level l (1-based) within one sample's block, plain layout. */
  private readonly levelOffset: Int32Array;
  /** The batches carry pair weights (the subclass's own, or the samples' weights, or both). */
  private readonly weighted: boolean;
  /** The subclass writes pair weights itself (else they start at 1). */
  private readonly ownWeights: boolean;
  protected batch: ShardBatch = emptyBatch({ slots: 0, entries: 0, pairs: 0 }, false);
  /** The target's root-to-leaf path of the sample being filled. */
  protected readonly path: Int32Array;

  /** `perLevel[l − 1]` pairs on level l; `weighted`: the batches carry pair weights. */
  constructor(ctx: ProducerContext, perLevel: number[], weighted: boolean) {
    this.tree = ctx.tree;
    this.network = ctx.network;
    this.samples = ctx.samples;
    this.seed = ctx.seed;
    this.hierarchical = Boolean(ctx.network.config.hierarchical);
    this.depth = ctx.tree.layout.depth;
    this.histCap = maxHistory(ctx.network.config);
    this.perLevel = perLevel;
    this.ownWeights = weighted;
    this.weighted = weighted || ctx.samples.weight !== undefined;
    this.levelOffset = new Int32Array(this.depth + 2);
    for (let l = 1; l <= this.depth; l++) this.levelOffset[l + 1] = this.levelOffset[l] + perLevel[l - 1];
    this.pairsPerSample = this.levelOffset[this.depth + 1];
    this.path = new Int32Array(this.depth + 1);
  }

  capacity(samples: number): BatchCapacity {
    const slots = samples * (this.hierarchical ? this.depth : 1);
    return { slots, entries: slots * this.histCap, pairs: samples * this.pairsPerSample };
  }

  /** Called once per shard before its samples are filled (default: nothing). */
  protected prepare(_idx: Int32Array, _epoch: number, _first: number): void {}

  /**
   * Writes sample `i`'s pairs (codes, labels, and weights when the batches
   * are weighted) for every level l at `slots[l].at` (`slots[l].m` of them).
   * `this.path` holds the target's path; draws come from `rng`, level 1 first.
   */
  protected abstract fillSample(i: number, sample: number, rng: Rng, slots: LevelSlot[]): void;

  produce(idx: Int32Array, epoch: number, first: number): ShardBatch {
    const nb = idx.length;
    const cap = this.capacity(nb);
    if (this.batch.codes.length < cap.pairs || this.batch.entryRow.length < cap.entries) this.batch = emptyBatch(cap, this.weighted);
    const b = this.batch;
    const { tree, samples, depth, perLevel } = this;
    const m = this.pairsPerSample;
    this.prepare(idx, epoch, first);
    const slots: LevelSlot[] = Array.from({ length: depth + 1 }, () => ({ at: 0, m: 0 }));
    // pairs: sample-major draws, written where the layout wants them
    for (let i = 0; i < nb; i++) {
      const s = samples.sequences[samples.seq[idx[i]]];
      tree.pathOf(s[samples.pos[idx[i]]], this.path);
      for (let l = 1; l <= depth; l++) {
        slots[l].at = this.hierarchical ? nb * this.levelOffset[l] + i * perLevel[l - 1] : i * m + this.levelOffset[l];
        slots[l].m = perLevel[l - 1];
      }
      this.fillSample(i, idx[i], sampleRng(this.seed, epoch, first + i), slots);
      if (samples.weight) {
        // the sample's weight multiplies every pair it brings
        const w = samples.weight[idx[i]];
        const pw = b.weights!;
        for (let l = 1; l <= depth; l++) {
          for (let p = slots[l].at, end = p + slots[l].m; p < end; p++) pw[p] = this.ownWeights ? pw[p] * w : w;
        }
      }
    }
    // user map: slot by slot, window by window, latest behaviour first
    let e = 0;
    const groups: PairGroup[] = [];
    if (this.hierarchical) {
      e = this.levelEntries(idx);
      for (let l = 1; l <= depth; l++) groups.push({ users: nb, m: perLevel[l - 1] });
      b.slots = nb * depth;
    } else {
      for (let i = 0; i < nb; i++) e = this.userEntries(idx[i], i, e);
      groups.push({ users: nb, m });
      b.slots = nb;
    }
    b.entries = e;
    b.groups = groups;
    b.pairs = nb * m;
    return b;
  }

  /** The behaviours before a sample's target (oldest first). */
  protected historyOf(sample: number): Int32Array {
    const { samples } = this;
    return samples.sequences[samples.seq[sample]].subarray(0, samples.pos[sample]);
  }

  /** Writes the user-map entries of sample `sample`'s slot (plain layout) from entry `e` on; returns the next free entry. */
  private userEntries(sample: number, slot: number, e: number): number {
    const { samples, network } = this;
    const b = this.batch;
    const windows = network.config.windows;
    const d = network.config.embDim;
    const userDim = network.userDim;
    const base = network.numInternal;
    const s = samples.sequences[samples.seq[sample]];
    const pos = samples.pos[sample];
    let p = pos - 1;
    const stop = Math.max(0, pos - this.histCap);
    for (let w = 0; w < windows.length && p >= stop; w++) {
      const count = Math.min(windows[w], p - stop + 1);
      const scale = 1 / count;
      const offset = slot * userDim + w * d;
      for (let j = 0; j < count; j++, p--, e++) {
        b.entryRow[e] = base + s[p];
        b.entryOffset[e] = offset;
        b.entryScale[e] = scale;
      }
    }
    return e;
  }

  /**
   * The user-map entries of the hierarchical layout: slot (level l, sample
   * i) is (l − 1)·nb + i; entries go in slot order, each slot's behaviours
   * latest first, each represented by its row on level l
   * (`Tree.levelRows(l)`). They are written sample by sample at those
   * positions: a behaviour's rows on every level come from one walk up from
   * its leaf instead of a lookup in one item-sized array per level (a cache
   * miss each on a large catalogue). Returns the number of entries.
   */
  private levelEntries(idx: Int32Array): number {
    const { samples, network, depth, histCap } = this;
    const b = this.batch;
    const nb = idx.length;
    const windows = network.config.windows;
    const d = network.config.embDim;
    const userDim = network.userDim;
    const { numInternal, branching } = this.tree.layout;
    const itemLeaf = this.tree.itemLeaf;
    // entries per sample (the same on every level) and where each sample's start within a level's block
    let perLevel = 0;
    for (let i = 0; i < nb; i++) perLevel += Math.min(samples.pos[idx[i]], histCap);
    let start = 0;
    for (let i = 0; i < nb; i++) {
      const sample = idx[i];
      const s = samples.sequences[samples.seq[sample]];
      const pos = samples.pos[sample];
      let p = pos - 1;
      const stop = Math.max(0, pos - histCap);
      let j = start;
      for (let w = 0; w < windows.length && p >= stop; w++) {
        const count = Math.min(windows[w], p - stop + 1);
        const scale = 1 / count;
        for (let k = 0; k < count; k++, p--, j++) {
          const item = s[p];
          // leaf level: the item's own row; above it, its ancestors' codes
          let e = (depth - 1) * perLevel + j;
          b.entryRow[e] = numInternal + item;
          b.entryOffset[e] = ((depth - 1) * nb + i) * userDim + w * d;
          b.entryScale[e] = scale;
          let c = numInternal + itemLeaf[item];
          for (let l = depth - 1; l >= 1; l--) {
            c = ((c - 1) / branching) | 0;
            e -= perLevel;
            b.entryRow[e] = c;
            b.entryOffset[e] = ((l - 1) * nb + i) * userDim + w * d;
            b.entryScale[e] = scale;
          }
        }
      }
      start = j;
    }
    return depth * perLevel;
  }
}

/** A batch with buffers of the given capacity. */
function emptyBatch(cap: BatchCapacity, weighted: boolean): ShardBatch {
  return {
    slots: 0,
    entries: 0,
    entryRow: new Int32Array(cap.entries),
    entryOffset: new Int32Array(cap.entries),
    entryScale: new Float32Array(cap.entries),
    groups: [],
    pairs: 0,
    codes: new Int32Array(cap.pairs),
    labels: new Float32Array(cap.pairs),
    ...(weighted ? { weights: new Float32Array(cap.pairs) } : {}),
  };
}
