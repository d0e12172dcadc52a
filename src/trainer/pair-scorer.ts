/**
 * The scorer that tree learning (src/tree/learn.ts) calls: log-probabilities
 * of tree nodes for the users of training pairs. The user half of the first
 * layer is computed once per pair up front (the network does not change
 * while a tree is learned), so each call runs only the node half and the
 * rest of the MLP, batched over all its rows.
 */
import { UsageError } from '../core/errors.js';
import type { ScorerNetwork } from '../scorer/network.js';
import { pathLogLikelihood } from '../tree/learn.js';
import type { Tree } from '../tree/tree.js';
import type { SampleSet } from './samples.js';
import { scorerKind } from '../scorer/kinds.js';

/** Training pairs as tree learning sees them, with their scorer. */
export interface PairScoring {
  data: { numPairs: number; target: Int32Array };
  /** log p(node | user of pair) for rows (pairs[i], nodes[i]) of tree level `level`. */
  score: (pairs: Int32Array, nodes: Int32Array, level: number) => Float32Array;
}

/** Users per batched call when precomputing user halves. */
const USER_BATCH = 2048;

/** Builds the pair scorer for `samples` under `network` and `tree`. */
export function pairScoring(network: ScorerNetwork, tree: Tree, samples: SampleSet): PairScoring {
  const unsupported = scorerKind(network.config.kind).treeLearningUnsupported;
  if (unsupported) throw new UsageError(`tree learning cannot use this model's ${network.config.kind} scorer: ${unsupported}`);
  const n = samples.seq.length;
  const h1 = network.mlp.bias1.shape[0] as number;
  const userDim = network.userDim;
  const d = network.config.embDim;
  const target = new Int32Array(n);
  const hierarchical = Boolean(network.config.hierarchical);
  // plain scorer: the user half of every pair once, up front (n × h1 floats)
  const hidden = hierarchical ? new Float32Array(0) : new Float32Array(n * h1);
  const u = new Float32Array(USER_BATCH * userDim);
  for (let s = 0; s < n; s += USER_BATCH) {
    const e = Math.min(n, s + USER_BATCH);
    for (let p = s; p < e; p++) {
      const seq = samples.sequences[samples.seq[p]];
      target[p] = seq[samples.pos[p]];
      if (!hierarchical) network.userVector(seq.subarray(0, samples.pos[p]), u, (p - s) * userDim);
    }
    if (!hierarchical) hidden.set(network.userHiddenRows(u.subarray(0, (e - s) * userDim), e - s), s * h1);
  }
  let huRows = new Float32Array(0);
  let nodeRows = new Int32Array(0);
  let feats = new Float32Array(0);
  let levelU = new Float32Array(0);
  const slotOf = new Map<number, number>();
  const score = (pairs: Int32Array, nodes: Int32Array, level: number): Float32Array => {
    const m = pairs.length;
    if (huRows.length < m * h1) {
      huRows = new Float32Array(m * h1);
      nodeRows = new Int32Array(m);
      feats = new Float32Array(m * d);
    }
    if (hierarchical) {
      // the user halves of this call's distinct pairs, with histories seen from `level`
      slotOf.clear();
      for (let i = 0; i < m; i++) if (!slotOf.has(pairs[i])) slotOf.set(pairs[i], slotOf.size);
      if (levelU.length < slotOf.size * userDim) levelU = new Float32Array(slotOf.size * userDim);
      const rowOf = tree.levelRows(level);
      for (const [p, slot] of slotOf) {
        const seq = samples.sequences[samples.seq[p]];
        network.userVector(seq.subarray(0, samples.pos[p]), levelU, slot * userDim, rowOf);
      }
      const hid = network.userHiddenRows(levelU.subarray(0, slotOf.size * userDim), slotOf.size);
      for (let i = 0; i < m; i++) {
        const slot = slotOf.get(pairs[i])!;
        huRows.set(hid.subarray(slot * h1, slot * h1 + h1), i * h1);
      }
    } else {
      for (let i = 0; i < m; i++) huRows.set(hidden.subarray(pairs[i] * h1, pairs[i] * h1 + h1), i * h1);
    }
    for (let i = 0; i < m; i++) nodeRows[i] = tree.nodeRow(nodes[i]);
    network.gatherRows(nodeRows.subarray(0, m), feats.subarray(0, m * d));
    const logits = network.scoreRows(huRows.subarray(0, m * h1), feats.subarray(0, m * d), m);
    // log σ(x) = −(max(−x, 0) + log(1 + e^{−|x|}))
    for (let i = 0; i < m; i++) {
      const x = logits[i];
      logits[i] = -(Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x))));
    }
    return logits;
  };
  return { data: { numPairs: n, target }, score };
}

/** Mean log-likelihood per pair of the targets' ancestors: all internal levels, and the levels of tree learning's first step. */
export interface ObjectiveFigures {
  /** Before and after, summed over levels 1 … depth−1. */
  before: number;
  after: number;
  /** Before and after, summed over levels 1 … `topLevels` only. */
  topBefore: number;
  topAfter: number;
}

/**
 * The tree-learning objective of a tree before and after learning, under the
 * same weights. Below the first step's levels the old node embeddings were
 * fitted to the old items, so any move costs there until the scorer is
 * retrained; the first step's levels (`topLevels`) are the fair comparison.
 */
export interface ObjectiveChange {
  /** Levels 1 … topLevels: those of tree learning's first step (min(gap, depth − 1)). */
  topLevels: number;
  /** On the training pairs tree learning used: what it raises. */
  train: ObjectiveFigures;
  /** On held-out pairs (validation users' history → truth items): whether the gain generalises. */
  heldOut?: ObjectiveFigures & { pairs: number };
}

/**
 * Measures the objective of `before` and `after` under `network` on the
 * training samples (with the pair scorer tree learning used for `before`)
 * and, when given, held-out samples. Each tree is scored
 * with its own pair scorer, so with the hierarchical preference the user
 * side speaks each tree's levels.
 */
export function objectiveChange(
  network: ScorerNetwork,
  before: Tree,
  after: Tree,
  gap: number,
  train: { samples: SampleSet; scoring: PairScoring },
  heldOut?: SampleSet,
): ObjectiveChange {
  const topLevels = Math.min(gap, before.layout.depth - 1);
  const levels = (tree: Tree, s: SampleSet, sc = pairScoring(network, tree, s)): number[] => pathLogLikelihood(tree, sc.data, sc.score).perLevel;
  const sum = (xs: number[], upTo: number): number => xs.slice(1, upTo + 1).reduce((x, y) => x + y, 0);
  const figures = (s: SampleSet, beforeScoring?: PairScoring): ObjectiveFigures => {
    const b = levels(before, s, beforeScoring);
    const a = levels(after, s);
    return { before: sum(b, b.length), after: sum(a, a.length), topBefore: sum(b, topLevels), topAfter: sum(a, topLevels) };
  };
  const out: ObjectiveChange = { topLevels, train: figures(train.samples, train.scoring) };
  if (heldOut && heldOut.seq.length > 0) out.heldOut = { ...figures(heldOut), pairs: heldOut.seq.length };
  return out;
}

/** One line for logs and the CLI. */
export function describeObjectiveChange(c: ObjectiveChange): string {
  const f = (b: number, a: number) => `${b.toFixed(3)} → ${a.toFixed(3)}`;
  const part = (name: string, x: ObjectiveFigures) => `${name} ${f(x.topBefore, x.topAfter)} on levels 1-${c.topLevels}, ${f(x.before, x.after)} on all levels`;
  return `objective (mean log-likelihood of the targets' ancestors per pair, same weights): ${part('training pairs', c.train)}${
    c.heldOut ? `; validation pairs (${c.heldOut.pairs}) ${part('', c.heldOut).trimStart()}` : ''
  }`;
}
