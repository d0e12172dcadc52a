/**
 * Beam-search-aware samples, the `otm` objective (after OTM: Zhuo et al.,
 * "Learning Optimal Tree Models under Beam Search", ICML 2020). Before a
 * shard's pairs are written, the current model runs a beam search of width
 * `trainBeam` for every sample of the shard (one batched scoring call per
 * level, under the path weight retrieval will use), and on each level the nodes that
 * search scored (the children of the nodes it kept on the level above)
 * become the sample's candidates there:
 *
 *  - the target's ancestor on the level is always a pair; its label is the
 *    OTM pseudo target: 1 when greedy descent from it under the current
 *    scores (at each level the child with the best score) ends at the
 *    target, else 0 (computed bottom-up from the scores of every ancestor's
 *    children; with one target item per sample every other node's pseudo
 *    target is 0);
 *  - every other candidate is a negative (label 0);
 *  - then `negatives[level]` nodes drawn uniformly from the level, as in
 *    `tdm`, so that nodes the beam never reaches are still pushed down
 *    (`--negatives 0` gives OTM's candidates alone).
 *
 * A level holds 1 + branching · trainBeam + negatives pairs; levels with
 * fewer candidates pad with weight-0 pairs. `pseudoTargets: false` keeps
 * TDM's labels (every ancestor 1) on the same candidates, which measures
 * what the pseudo targets add.
 */
import type { Rng } from '../core/rng.js';
import { logSigmoid, topK } from '../beam/topk.js';
import { NetworkScorer } from '../scorer/session.js';
import { LevelProducer, type LevelSlot } from './level-producer.js';
import type { ProducerContext } from './batch-types.js';

/** Knobs of the beam-aware producer. */
export interface BeamProducerOptions {
  /** Nodes the training beam keeps per level. */
  trainBeam: number;
  /** Path weight of the training beam (that of the retrieval it trains for). */
  pathWeight: number;
  /** OTM's pseudo targets (true) or TDM's ancestor labels (false) on the candidates. */
  pseudoTargets: boolean;
}

/** Beam-aware candidates with OTM pseudo targets, plus uniform negatives. */
export class BeamAwareProducer extends LevelProducer {
  private readonly negs: number[];
  private readonly o: BeamProducerOptions;
  private readonly width: number;
  private readonly scorer: NetworkScorer;
  /** Per (shard sample, level): candidate codes, `width` slots each, and their counts. */
  private cand = new Int32Array(0);
  private candCount = new Int32Array(0);
  /** Per (shard sample, level): the pseudo target of the target's ancestor. */
  private pseudo = new Uint8Array(0);
  private paths = new Int32Array(0);

  constructor(ctx: ProducerContext, o: BeamProducerOptions) {
    const width = ctx.tree.layout.branching * o.trainBeam;
    super(ctx, ctx.negatives.map((n) => 1 + width + n), true);
    this.negs = ctx.negatives;
    this.o = o;
    this.width = width;
    this.scorer = new NetworkScorer(ctx.network, ctx.tree);
  }

  /** Runs the training beam for every sample of the shard (levels in lockstep) and derives the pseudo targets. */
  protected override prepare(idx: Int32Array): void {
    const { tree, depth, width } = this;
    const { branching } = tree.layout;
    const nb = idx.length;
    const rows = nb * (depth + 1);
    if (this.candCount.length < rows) {
      this.cand = new Int32Array(rows * width);
      this.candCount = new Int32Array(rows);
      this.pseudo = new Uint8Array(rows);
      this.paths = new Int32Array(rows);
    }
    const histories: Int32Array[] = [];
    for (let i = 0; i < nb; i++) {
      const sample = idx[i];
      histories.push(this.historyOf(sample));
      const s = this.samples.sequences[this.samples.seq[sample]];
      tree.pathOf(s[this.samples.pos[sample]], this.paths.subarray(i * (depth + 1), (i + 1) * (depth + 1)));
    }
    // ok[i, l]: the ancestor on level l has the best score among its siblings
    const ok = new Uint8Array(rows);
    const session = this.scorer.openBatch(histories);
    try {
      let current: Int32Array[] = Array.from({ length: nb }, () => Int32Array.of(0));
      let keys: Float64Array[] = Array.from({ length: nb }, () => Float64Array.of(0));
      for (let l = 1; l <= depth; l++) {
        // to score: each sample's beam candidates, then the children of its ancestor on level l − 1
        const users: number[] = [];
        const nodes: number[] = [];
        const candStart = new Int32Array(nb + 1);
        const sibStart = new Int32Array(nb + 1);
        const base: number[] = [];
        for (let i = 0; i < nb; i++) {
          candStart[i] = nodes.length;
          current[i].forEach((c, j) => {
            const fc = c * branching + 1;
            for (let t = 0; t < branching; t++) {
              if (tree.subtreeSize[fc + t] === 0) continue;
              users.push(i);
              nodes.push(fc + t);
              base.push(keys[i][j]);
            }
          });
        }
        candStart[nb] = nodes.length;
        for (let i = 0; i < nb; i++) {
          sibStart[i] = nodes.length;
          const fc = this.paths[i * (depth + 1) + l - 1] * branching + 1;
          for (let t = 0; t < branching; t++) {
            if (tree.subtreeSize[fc + t] === 0) continue;
            users.push(i);
            nodes.push(fc + t);
          }
        }
        sibStart[nb] = nodes.length;
        const scores = session.score(Int32Array.from(users), Int32Array.from(nodes), l);
        const nextCurrent: Int32Array[] = [];
        const nextKeys: Float64Array[] = [];
        for (let i = 0; i < nb; i++) {
          const row = i * (depth + 1) + l;
          const lo = candStart[i];
          const n = candStart[i + 1] - lo;
          this.cand.set(nodes.slice(lo, lo + n), row * width);
          this.candCount[row] = n;
          // the ancestor against its siblings
          const anc = this.paths[row];
          let best = -Infinity;
          let ancScore = -Infinity;
          for (let p = sibStart[i]; p < sibStart[i + 1]; p++) {
            if (nodes[p] === anc) ancScore = scores[p];
            else best = Math.max(best, scores[p]);
          }
          ok[row] = ancScore >= best ? 1 : 0;
          if (l < depth) {
            const k = new Float64Array(n);
            for (let j = 0; j < n; j++) k[j] = this.o.pathWeight * base[lo + j] + logSigmoid(scores[lo + j]);
            const kept = topK(k, this.o.trainBeam);
            nextCurrent.push(Int32Array.from(kept, (p) => nodes[lo + p]));
            nextKeys.push(Float64Array.from(kept, (p) => k[p]));
          }
        }
        current = nextCurrent;
        keys = nextKeys;
      }
    } finally {
      session.close();
    }
    // pseudo targets bottom-up: the leaf is the target; an ancestor keeps its child's target when that child wins among its siblings
    for (let i = 0; i < nb; i++) {
      const r = i * (depth + 1);
      this.pseudo[r + depth] = 1;
      for (let l = depth - 1; l >= 1; l--) this.pseudo[r + l] = this.pseudo[r + l + 1] & ok[r + l + 1];
    }
  }

  protected fillSample(i: number, _sample: number, rng: Rng, slots: LevelSlot[]): void {
    const { tree, depth, width } = this;
    const b = this.batch;
    const codes = b.codes;
    const labels = b.labels;
    const weights = b.weights!;
    for (let l = 1; l <= depth; l++) {
      const row = i * (depth + 1) + l;
      const anc = this.paths[row];
      let p = slots[l].at;
      codes[p] = anc;
      labels[p] = this.o.pseudoTargets ? this.pseudo[row] : 1;
      weights[p++] = 1;
      const n = this.candCount[row];
      let written = 0;
      for (let j = 0; j < n; j++) {
        const c = this.cand[row * width + j];
        if (c === anc) continue;
        codes[p] = c;
        labels[p] = 0;
        weights[p++] = 1;
        written++;
      }
      for (; written < width; written++) {
        codes[p] = anc;
        labels[p] = 0;
        weights[p++] = 0;
      }
      const pool = tree.nonEmptyNodes(l);
      for (let j = 0; j < this.negs[l - 1]; j++) {
        let c = pool[rng.int(pool.length)];
        while (c === anc) c = pool[rng.int(pool.length)];
        codes[p] = c;
        labels[p] = 0;
        weights[p++] = 1;
      }
    }
  }
}
