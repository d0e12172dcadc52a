/**
 * TDM's level-wise samples (see negatives.ts), the `tdm` objective: for a
 * sample's target item, its ancestor on every level is a positive and
 * `negatives[level]` nodes drawn uniformly from the level's non-empty nodes
 * are negatives, all from the sample's own generator, level 1 first.
 */
import type { Rng } from '../core/rng.js';
import { LevelProducer, type LevelSlot } from './level-producer.js';
import { sampleLevel } from './negatives.js';
import type { ProducerContext } from './batch-types.js';

/** Level-wise positives and uniform same-level negatives. */
export class LevelwiseProducer extends LevelProducer {
  private readonly negs: number[];

  constructor(ctx: ProducerContext) {
    super(ctx, ctx.negatives.map((n) => n + 1), false);
    this.negs = ctx.negatives;
  }

  protected fillSample(_i: number, _sample: number, rng: Rng, slots: LevelSlot[]): void {
    const b = this.batch;
    for (let l = 1; l <= this.depth; l++) sampleLevel(this.tree, l, this.path[l], this.negs[l - 1], rng, b.codes, b.labels, slots[l].at);
  }
}
