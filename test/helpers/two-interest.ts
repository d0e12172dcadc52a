/**
 * A planted multi-interest data set: every user has two unrelated item
 * groups and draws each behaviour from one of them at random, so a user's
 * average interest lies between two clusters that have nothing in common.
 */
import { Rng } from '../../src/core/rng.js';
import type { EvalCase } from '../../src/data/types.js';
import type { TreeItems } from '../../src/tree/tree.js';

/** Items, training sequences and held-out cases of the two-interest set. */
export interface TwoInterestData {
  items: TreeItems;
  sequences: Int32Array[];
  cases: EvalCase[];
  /** The two groups of each held-out case. */
  caseGroups: [number, number][];
}

/**
 * Item i is in group ⌊i / groupSize⌋ (also its category). A user picks two
 * distinct groups and draws `length` behaviours, each from either group with
 * equal chance; held-out users' first half is the history, the distinct items
 * of the second half the truth.
 */
export function twoInterestData(o: { groups: number; groupSize: number; users: number; testUsers: number; length: number; seed: number }): TwoInterestData {
  const rng = new Rng(o.seed);
  const n = o.groups * o.groupSize;
  const user = (): { seq: Int32Array; g: [number, number] } => {
    const a = rng.int(o.groups);
    let b = rng.int(o.groups - 1);
    if (b >= a) b++;
    const seq = Int32Array.from({ length: o.length }, () => (rng.next() < 0.5 ? a : b) * o.groupSize + rng.int(o.groupSize));
    return { seq, g: [a, b] };
  };
  const sequences = Array.from({ length: o.users }, () => user().seq);
  const caseGroups: [number, number][] = [];
  const cases: EvalCase[] = Array.from({ length: o.testUsers }, (_, u) => {
    const { seq, g } = user();
    caseGroups.push(g);
    const half = Math.floor(o.length / 2);
    return { user: `t${u}`, history: seq.slice(0, half), truth: Int32Array.from(new Set(seq.subarray(half))) };
  });
  return {
    items: {
      itemIds: Array.from({ length: n }, (_, i) => `i${i}`),
      itemCategory: Int32Array.from({ length: n }, (_, i) => Math.floor(i / o.groupSize)),
      categoryIds: Array.from({ length: o.groups }, (_, g) => `c${g}`),
    },
    sequences,
    cases,
    caseGroups,
  };
}
