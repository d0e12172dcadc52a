/**
 * Training samples: a sliding window over each training user's time-ordered
 * behaviours; at position t the behaviours before t (the scorer keeps the
 * latest 69) predict the item at t.
 */
import type { Rng } from '../core/rng.js';

/** All (sequence, position) samples of a set of sequences. */
export interface SampleSet {
  sequences: Int32Array[];
  /** Sequence index of each sample. */
  seq: Int32Array;
  /** Target position of each sample (>= 1: at least one behaviour before it). */
  pos: Int32Array;
}

/** Every position t >= 1 of every sequence is a sample. */
export function slidingWindowSamples(sequences: Int32Array[]): SampleSet {
  let total = 0;
  for (const s of sequences) total += Math.max(0, s.length - 1);
  const seq = new Int32Array(total);
  const pos = new Int32Array(total);
  let p = 0;
  sequences.forEach((s, i) => {
    for (let t = 1; t < s.length; t++) {
      seq[p] = i;
      pos[p++] = t;
    }
  });
  return { sequences, seq, pos };
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
