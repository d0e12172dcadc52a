import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/core/errors.js';
import { MetricsAccumulator, fMeasure, hitsAt, userMetrics, type MetricsAtK } from '../src/eval/index.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

function assertMetrics(actual: MetricsAtK[], expected: [k: number, p: number, r: number, f: number][]) {
  assert.equal(actual.length, expected.length);
  expected.forEach(([k, p, r, f], i) => {
    assert.equal(actual[i].k, k);
    close(actual[i].precision, p, `precision@${k}`);
    close(actual[i].recall, r, `recall@${k}`);
    close(actual[i].f, f, `F@${k}`);
  });
}

const ks = [1, 3, 5];
// User A: ranked 1 2 3 4 5, truth {2, 5, 9}.
//   k=1: 0 hits -> P 0, R 0, F 0
//   k=3: hit 2 -> P 1/3, R 1/3, F 1/3
//   k=5: hits 2, 5 -> P 2/5, R 2/3, F = 2(2/5)(2/3) / (2/5 + 2/3) = (8/15) / (16/15) = 1/2
const userA = { ranked: Int32Array.of(1, 2, 3, 4, 5), truth: new Set([2, 5, 9]) };
// User B: list shorter than k: ranked 7, truth {7, 8}.
//   k=1: P 1, R 1/2, F = 1 / (3/2) = 2/3
//   k=3: P 1/3, R 1/2, F = (1/3) / (5/6) = 2/5
//   k=5: P 1/5, R 1/2, F = (1/5) / (7/10) = 2/7
const userB = { ranked: Int32Array.of(7), truth: new Set([7, 8]) };
// User C: no hits: ranked 4 5 6, truth {1} -> everything 0.
const userC = { ranked: Int32Array.of(4, 5, 6), truth: new Set([1]) };

test('fMeasure is the harmonic mean, 0 when precision and recall are both 0', () => {
  assert.equal(fMeasure(0, 0), 0);
  close(fMeasure(0.5, 1), 2 / 3, 'F');
  assert.equal(fMeasure(0, 1), 0);
});

test('hitsAt counts hits in the top k, a short list as is, a repeated item once', () => {
  assert.deepEqual(hitsAt(userA.ranked, userA.truth, ks), [0, 1, 2]);
  assert.deepEqual(hitsAt(userB.ranked, userB.truth, ks), [1, 1, 1]);
  assert.deepEqual(hitsAt(new Int32Array(0), userB.truth, ks), [0, 0, 0]);
  assert.deepEqual(hitsAt(Int32Array.of(2, 2, 3), new Set([2, 3]), [2, 3]), [1, 2]);
});

test('userMetrics on hand-computed users', () => {
  assertMetrics(userMetrics(userA.ranked, userA.truth, ks), [
    [1, 0, 0, 0],
    [3, 1 / 3, 1 / 3, 1 / 3],
    [5, 2 / 5, 2 / 3, 1 / 2],
  ]);
  assertMetrics(userMetrics(userB.ranked, userB.truth, ks), [
    [1, 1, 1 / 2, 2 / 3],
    [3, 1 / 3, 1 / 2, 2 / 5],
    [5, 1 / 5, 1 / 2, 2 / 7],
  ]);
  assertMetrics(userMetrics(userC.ranked, userC.truth, ks), [
    [1, 0, 0, 0],
    [3, 0, 0, 0],
    [5, 0, 0, 0],
  ]);
  // Recall is 0, not NaN, for an empty truth.
  assertMetrics(userMetrics(userA.ranked, new Set(), [2]), [[2, 0, 0, 0]]);
});

test('MetricsAccumulator averages per-user metrics over users', () => {
  const acc = new MetricsAccumulator(ks);
  assert.deepEqual(
    acc.result().map((m) => [m.precision, m.recall, m.f, m.users]),
    [
      [0, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ],
  );
  for (const u of [userA, userB, userC]) acc.add(u.ranked, u.truth);
  assert.equal(acc.users, 3);
  const result = acc.result();
  // k=1: P (0 + 1 + 0)/3, R (0 + 1/2 + 0)/3, F (0 + 2/3 + 0)/3
  // k=3: P (1/3 + 1/3)/3, R (1/3 + 1/2)/3, F (1/3 + 2/5)/3
  // k=5: P (2/5 + 1/5)/3, R (2/3 + 1/2)/3, F (1/2 + 2/7)/3
  assertMetrics(result, [
    [1, 1 / 3, 1 / 6, 2 / 9],
    [3, 2 / 9, 5 / 18, 11 / 45],
    [5, 1 / 5, 7 / 18, 11 / 42],
  ]);
  assert.ok(result.every((m) => m.users === 3));
});

test('MetricsAccumulator rejects bad ks with a UsageError naming the value', () => {
  assert.throws(() => new MetricsAccumulator([]), UsageError);
  assert.throws(() => new MetricsAccumulator([10, 0]), (e: unknown) => e instanceof UsageError && /\b0\b/.test(e.message));
  assert.throws(() => new MetricsAccumulator([2.5]), (e: unknown) => e instanceof UsageError && e.message.includes('2.5'));
  assert.throws(() => userMetrics(userA.ranked, userA.truth, [0]), UsageError);
});
