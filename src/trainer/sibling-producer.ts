/**
 * Conditional samples, the `sibling` objective: on every level the target's
 * ancestor is the positive and its siblings (the other non-empty children
 * of its parent) are the negatives, so σ(score) learns the probability of a
 * child given its parent, and the path score (the sum of log σ down the
 * tree) approximates the log-probability of the item itself, as in a
 * hierarchical softmax or a probabilistic label tree. A level holds
 * `branching` pairs; a missing (empty) sibling is a weight-0 pair.
 */
import type { Rng } from '../core/rng.js';
import { LevelProducer, type LevelSlot } from './level-producer.js';
import type { ProducerContext } from './batch-types.js';

/** Ancestors as positives, their siblings as negatives. */
export class SiblingProducer extends LevelProducer {
  constructor(ctx: ProducerContext) {
    super(ctx, Array.from({ length: ctx.tree.layout.depth }, () => ctx.tree.layout.branching), true);
  }

  protected fillSample(_i: number, _sample: number, _rng: Rng, slots: LevelSlot[]): void {
    const { tree, depth, path } = this;
    const kb = tree.layout.branching;
    const b = this.batch;
    for (let l = 1; l <= depth; l++) {
      let p = slots[l].at;
      const anc = path[l];
      b.codes[p] = anc;
      b.labels[p] = 1;
      b.weights![p++] = 1;
      const fc = path[l - 1] * kb + 1;
      for (let t = 0; t < kb; t++) {
        const c = fc + t;
        if (c === anc) continue;
        b.codes[p] = c === anc || tree.subtreeSize[c] === 0 ? anc : c;
        b.labels[p] = 0;
        b.weights![p++] = tree.subtreeSize[c] === 0 ? 0 : 1;
      }
    }
  }
}
