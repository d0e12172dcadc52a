/**
 * The evaluation protocol of the TDM/JTM papers: held-out users chosen at
 * random, each one's time-sorted behaviours cut in half.
 */
import { Rng } from '../core/rng.js';

/** The users chosen for testing and validation. */
export interface HeldOut {
  test: Int32Array;
  valid: Int32Array;
}

/**
 * Picks `testUsers` then `validUsers` distinct ids uniformly at random from
 * `candidates` (which must hold enough). The candidates are sorted first, so
 * the choice depends only on the set and the seed.
 */
export function chooseHeldOut(candidates: ArrayLike<number>, testUsers: number, validUsers: number, seed: number): HeldOut {
  const order = new Rng(seed).shuffle(Int32Array.from(candidates).sort());
  return {
    test: order.slice(0, testUsers),
    valid: order.slice(testUsers, testUsers + validUsers),
  };
}

/**
 * Cuts a time-sorted sequence: the first floor(n/2) items are the history,
 * the distinct items of the rest (first-occurrence order) are the truth.
 */
export function halfSplit(items: Int32Array): { history: Int32Array; truth: Int32Array } {
  const cut = Math.floor(items.length / 2);
  return { history: items.slice(0, cut), truth: Int32Array.from(new Set(items.subarray(cut))) };
}
