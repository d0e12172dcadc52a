/**
 * The default batch producer (TDM's level-wise samples, see negatives.ts):
 * for a sample's target item, its ancestor on every level is a positive and
 * `negatives[level]` nodes drawn from the level's non-empty nodes are
 * negatives, all from the sample's own generator, level 1 first.
 *
 * The user side is the sample's latest behaviours in the scorer's time
 * windows, each window their mean. Plain scorer: one user slot per sample,
 * its pairs level by level. Hierarchical user preference: one slot per
 * (level, sample), level-major, each slot's behaviours represented by their
 * ancestors on that level (`Tree.levelRows`), and one pair group per level.
 * Both layouts draw the same pairs for a sample.
 */
import { maxHistory } from '../scorer/config.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import { sampleLevel } from './negatives.js';
import type { BatchCapacity, BatchProducer, PairGroup, ProducerContext, ShardBatch } from './producer.js';
import type { SampleSet } from './samples.js';
import { sampleRng } from './streams.js';

/** Level-wise positives and uniform same-level negatives. */
export class LevelwiseProducer implements BatchProducer {
  readonly pairsPerSample: number;
  private readonly tree: Tree;
  private readonly network: ScorerNetwork;
  private readonly samples: SampleSet;
  private readonly negs: number[];
  private readonly seed: number;
  private readonly hierarchical: boolean;
  private readonly depth: number;
  private readonly histCap: number;
  /** Pairs before level l (1-based) within one sample's block, plain layout. */
  private readonly levelOffset: Int32Array;
  private batch: ShardBatch = emptyBatch({ slots: 0, entries: 0, pairs: 0 });
  private path: Int32Array;

  constructor(ctx: ProducerContext) {
    this.tree = ctx.tree;
    this.network = ctx.network;
    this.samples = ctx.samples;
    this.negs = ctx.negatives;
    this.seed = ctx.seed;
    this.hierarchical = Boolean(ctx.network.config.hierarchical);
    this.depth = ctx.tree.layout.depth;
    this.histCap = maxHistory(ctx.network.config);
    this.levelOffset = new Int32Array(this.depth + 2);
    for (let l = 1; l <= this.depth; l++) this.levelOffset[l + 1] = this.levelOffset[l] + this.negs[l - 1] + 1;
    this.pairsPerSample = this.levelOffset[this.depth + 1];
    this.path = new Int32Array(this.depth + 1);
  }

  capacity(samples: number): BatchCapacity {
    const slots = samples * (this.hierarchical ? this.depth : 1);
    return { slots, entries: slots * this.histCap, pairs: samples * this.pairsPerSample };
  }

  produce(idx: Int32Array, epoch: number, first: number): ShardBatch {
    const nb = idx.length;
    const cap = this.capacity(nb);
    if (this.batch.codes.length < cap.pairs || this.batch.entryRow.length < cap.entries) this.batch = emptyBatch(cap);
    const b = this.batch;
    const { tree, samples, negs, depth } = this;
    const m = this.pairsPerSample;
    // pairs: sample-major draws, written where the layout wants them
    for (let i = 0; i < nb; i++) {
      const s = samples.sequences[samples.seq[idx[i]]];
      tree.pathOf(s[samples.pos[idx[i]]], this.path);
      const rng = sampleRng(this.seed, epoch, first + i);
      for (let l = 1; l <= depth; l++) {
        const at = this.hierarchical ? nb * this.levelOffset[l] + i * (negs[l - 1] + 1) : i * m + this.levelOffset[l];
        sampleLevel(tree, l, this.path[l], negs[l - 1], rng, b.codes, b.labels, at);
      }
    }
    // user map: slot by slot, window by window, latest behaviour first
    let e = 0;
    const groups: PairGroup[] = [];
    if (this.hierarchical) {
      for (let l = 1; l <= depth; l++) {
        const rowOf = tree.levelRows(l);
        for (let i = 0; i < nb; i++) e = this.userEntries(idx[i], (l - 1) * nb + i, rowOf, e);
        groups.push({ users: nb, m: negs[l - 1] + 1 });
      }
      b.slots = nb * depth;
    } else {
      for (let i = 0; i < nb; i++) e = this.userEntries(idx[i], i, undefined, e);
      groups.push({ users: nb, m });
      b.slots = nb;
    }
    b.entries = e;
    b.groups = groups;
    b.pairs = nb * m;
    return b;
  }

  /** Writes the user-map entries of one slot from entry `e` on; returns the next free entry. */
  private userEntries(sample: number, slot: number, rowOf: Int32Array | undefined, e: number): number {
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
        b.entryRow[e] = rowOf ? rowOf[s[p]] : base + s[p];
        b.entryOffset[e] = offset;
        b.entryScale[e] = scale;
      }
    }
    return e;
  }
}

/** A batch with buffers of the given capacity. */
function emptyBatch(cap: BatchCapacity): ShardBatch {
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
  };
}
