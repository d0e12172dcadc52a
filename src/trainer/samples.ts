/**
 * Training samples: a sliding window over each training user's time-ordered
 * behaviours; at position t the behaviours before t (the scorer keeps the
 * latest 69) predict the item at t.
 */
import { UsageError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';

/** All (sequence, position) samples of a set of sequences. */
export interface SampleSet {
  sequences: Int32Array[];
  /** Sequence index of each sample. */
  seq: Int32Array;
  /** Target position of each sample (>= 1: at least one behaviour before it). */
  pos: Int32Array;
  /** Weight of each sample in the loss, mean 1 (absent: all 1). */
  weight?: Float32Array;
}

/**
 * Every position t >= 1 of every sequence is a sample. With `targetWeights`
 * (one weight per event, aligned with `sequences`), a sample weighs what its
 * target event weighs: samples of weight 0 are left out (a target filter),
 * the others' weights are scaled to mean 1 so the loss keeps its scale; when
 * they are all equal the set carries no weights (the unweighted run).
 * Throws a UsageError for a negative or non-finite weight or a weight list
 * whose length differs from its sequence's.
 */
export function slidingWindowSamples(sequences: Int32Array[], targetWeights?: readonly Float32Array[]): SampleSet {
  if (targetWeights && targetWeights.length !== sequences.length) throw new UsageError(`${targetWeights.length} weight lists for ${sequences.length} sequences`);
  const weightOf = (i: number, t: number) => (targetWeights ? targetWeights[i][t] : 1);
  let total = 0;
  sequences.forEach((s, i) => {
    const w = targetWeights?.[i];
    if (w && w.length !== s.length) throw new UsageError(`sequence ${i}: ${w.length} weights for ${s.length} events`);
    for (let t = 1; t < s.length; t++) {
      const x = weightOf(i, t);
      if (!(x >= 0) || !Number.isFinite(x)) throw new UsageError(`sequence ${i}, event ${t}: a target weight must be a non-negative number, got ${x}`);
      if (x > 0) total++;
    }
  });
  const seq = new Int32Array(total);
  const pos = new Int32Array(total);
  const weight = new Float32Array(targetWeights ? total : 0);
  let p = 0;
  let sum = 0;
  sequences.forEach((s, i) => {
    for (let t = 1; t < s.length; t++) {
      const x = weightOf(i, t);
      if (x === 0) continue;
      if (targetWeights) weight[p] = x;
      sum += x;
      seq[p] = i;
      pos[p++] = t;
    }
  });
  if (!targetWeights || total === 0 || weight.every((x) => x === weight[0])) return { sequences, seq, pos };
  const scale = total / sum;
  for (let j = 0; j < total; j++) weight[j] *= scale;
  return { sequences, seq, pos, weight };
}

/** A seeded random order of sample indices. */
export function shuffledOrder(n: number, rng: Rng): Int32Array {
  return rng.shuffle(Int32Array.from({ length: n }, (_, i) => i));
}

/**
 * Held-out pairs from evaluation cases: one sample per (case, truth item),
 * the case's history predicting that item. Cases without history give none.
 */
export function caseSamples(cases: { history: Int32Array; truth: Int32Array }[]): SampleSet {
  const sequences: Int32Array[] = [];
  for (const c of cases) {
    if (c.history.length === 0) continue;
    for (const t of c.truth) {
      const s = new Int32Array(c.history.length + 1);
      s.set(c.history);
      s[c.history.length] = t;
      sequences.push(s);
    }
  }
  return {
    sequences,
    seq: Int32Array.from(sequences, (_, i) => i),
    pos: Int32Array.from(sequences, (s) => s.length - 1),
  };
}
