/**
 * Batch producers: the first half of a training step, which turns sample
 * indices into what the gradient computation (shard-step.ts) consumes. A
 * producer decides which (user, node) pairs a step trains on and with what
 * labels; the rest of the trainer (forward/backward, reduction across worker
 * threads, the optimisers) does not care how they were chosen. Swapping the
 * pair generation (beam-search-aware candidates and pseudo targets as in
 * OTM, another negative sampling) means writing another producer and adding
 * it to PRODUCERS below; nothing else changes.
 *
 * The contract:
 *
 *  - `produce(samples, epoch, first)` fills a `ShardBatch` for the sample
 *    indices `samples` (into the SampleSet), which sit at positions
 *    `first, first+1, ...` of epoch `epoch`'s order. It runs inside a worker
 *    thread (or the calling thread with --workers 0) on one shard of a step.
 *  - Deterministic: every random draw comes from `sampleRng(seed, epoch,
 *    position)` of the sample it is for (see streams.ts), so a sample's pairs
 *    do not depend on the shard it lands in or on the worker count.
 *  - It may read the network (the shared embedding table and this thread's
 *    copy of the MLP, both as of the start of the step) to score nodes, e.g.
 *    with a NetworkScorer; it must not write them.
 *  - The user side is given as a sparse linear map from embedding rows:
 *    user slot vectors are `Σ scale · emb[row]` written at `offset` of a
 *    [slots, userDim] buffer. The step builds the vectors from it and sends
 *    the user gradients back through the same entries, so a producer never
 *    touches gradients.
 *  - Pairs are grouped: group g takes the next `users` slots and gives each
 *    of them `m` consecutive pairs (node code, label in [0, 1], optional
 *    weight). A producer with a varying number of pairs per user pads to a
 *    fixed m with weight-0 pairs.
 *  - The step minimises the mean over the step's pairs (all shards) of
 *    weight · sigmoid cross-entropy(logit, label).
 *
 * A producer is built on every worker from plain data (`ProducerContext`),
 * by name, so its constructor must not need anything a worker cannot rebuild.
 */
import { BeamAwareProducer } from './beam-producer.js';
import { LevelwiseProducer } from './levelwise-producer.js';
import { SiblingProducer } from './sibling-producer.js';
import type { BatchProducer, ProducerContext } from './batch-types.js';
import { OBJECTIVES } from './defaults.js';
import { PATH_RULE } from '../beam/retriever.js';
import type { ScorerNetwork } from '../scorer/network.js';
import type { Tree } from '../tree/tree.js';
import type { TrainOptions } from './epoch-loop.js';
import type { SampleSet } from './samples.js';

export type { BatchCapacity, BatchProducer, PairGroup, ProducerContext, ShardBatch } from './batch-types.js';

/** Producers by name: the training objectives (`train --objective`). */
export const PRODUCERS: Record<(typeof OBJECTIVES)[number], (ctx: ProducerContext) => BatchProducer> = {
  /** TDM's level-wise samples: every ancestor of the target is a positive, random same-level nodes are negatives. */
  tdm: (ctx: ProducerContext): BatchProducer => new LevelwiseProducer(ctx),
  /** OTM: the current model's beam candidates on every level, labelled with OTM's pseudo targets, plus the uniform negatives. */
  otm: (ctx: ProducerContext): BatchProducer => new BeamAwareProducer(ctx, { trainBeam: ctx.trainBeam, pathWeight: ctx.pathWeight, pseudoTargets: true }),
  /** The beam candidates of `otm` with TDM's labels (every ancestor 1): what OTM's pseudo targets add. */
  beam: (ctx: ProducerContext): BatchProducer => new BeamAwareProducer(ctx, { trainBeam: ctx.trainBeam, pathWeight: ctx.pathWeight, pseudoTargets: false }),
  /** Conditional samples: the ancestor against its siblings on every level (a hierarchical softmax under the path rule). */
  sibling: (ctx: ProducerContext): BatchProducer => new SiblingProducer(ctx),
};

/** Name of a registered producer (a training objective). */
export type ProducerName = (typeof OBJECTIVES)[number];

export { OBJECTIVES };

/** Builds the producer `name` (the default objective is "tdm"). */
export function makeProducer(name: ProducerName, ctx: ProducerContext): BatchProducer {
  return PRODUCERS[name](ctx);
}

/** What a batch producer is built from, for a run with options `o` (plain data: a worker rebuilds it). */
export function producerContext(tree: Tree, network: ScorerNetwork, samples: SampleSet, negatives: number[], o: TrainOptions): ProducerContext {
  return { tree, network, samples, negatives, seed: o.seed, trainBeam: o.trainBeam, pathWeight: o.pathWeight ?? PATH_RULE };
}
