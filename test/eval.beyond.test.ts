import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/core/errors.js';
import { BeyondAccumulator, categoryDiversity, ndcgAt, newCategoryTruth, selfInformation } from '../src/eval/index.js';

const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-12, `${what}: ${actual} != ${expected}`);

test('ndcgAt: binary gains over the ideal list, a repeated item once, 0 for an empty truth', () => {
  // ranked 1 2 3 4 5, truth {2, 5, 9}: hits at ranks 2 and 5; the ideal list has 3 hits
  const ideal3 = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
  const n = ndcgAt(Int32Array.of(1, 2, 3, 4, 5), new Set([2, 5, 9]), [1, 3, 5]);
  close(n[0], 0, 'ndcg@1');
  close(n[1], 1 / Math.log2(3) / ideal3, 'ndcg@3');
  close(n[2], (1 / Math.log2(3) + 1 / Math.log2(6)) / ideal3, 'ndcg@5');
  // ranked 2 2 3, truth {2, 3}: the second 2 gains nothing; ideal = 1 + 1/log2(3)
  close(ndcgAt(Int32Array.of(2, 2, 3), new Set([2, 3]), [3])[0], (1 + 1 / Math.log2(4)) / (1 + 1 / Math.log2(3)), 'repeated');
  // a perfect list scores 1, a list shorter than k as it is
  close(ndcgAt(Int32Array.of(7, 8), new Set([7, 8]), [2, 10])[1], 1, 'perfect');
  assert.deepEqual(ndcgAt(Int32Array.of(1), new Set(), [1]), [0]);
  assert.throws(() => ndcgAt(Int32Array.of(1), new Set([1]), [0]), UsageError);
});

test('selfInformation: -log2 of the add-one smoothed event share; a negative count is refused', () => {
  // counts 3 0 1: 4 events, 3 items, denominator 7
  const info = selfInformation([3, 0, 1]);
  close(info[0], -Math.log2(4 / 7), 'item 0');
  close(info[1], -Math.log2(1 / 7), 'item 1 (never seen)');
  close(info[2], -Math.log2(2 / 7), 'item 2');
  assert.throws(() => selfInformation([1, -1]), (e: unknown) => e instanceof UsageError && /item 1 .* got -1/.test(e.message));
});

test('categoryDiversity: share of categorised pairs with different categories, undefined under two', () => {
  const cats = Int32Array.of(0, 0, 1, -1, 2);
  const d = categoryDiversity(Int32Array.of(0, 1, 2, 3, 4), cats, [1, 2, 3, 5]);
  assert.equal(d[0], undefined);
  close(d[1], 0, 'two of one category');
  close(d[2], 2 / 3, 'pairs (0,1) same, (0,2) (1,2) differ');
  close(d[3], 5 / 6, 'item 3 has no category: 4 items, 6 pairs, 1 same');
});

test('newCategoryTruth: truth items of categories absent from the history; no category or unknown left out', () => {
  const cats = Int32Array.of(0, 0, 1, -1, 2);
  assert.deepEqual([...newCategoryTruth(Int32Array.of(0), [1, 2, 3, 4, -5], cats)].sort(), [2, 4]);
  assert.deepEqual([...newCategoryTruth(new Int32Array(0), [0, 3], cats)], [0]);
});

test('BeyondAccumulator on two hand-computed users', () => {
  const facts = { numItems: 6, itemCategory: Int32Array.of(0, 0, 1, -1, 2, 1), trainCounts: [5, 1, 0, 0, 2, 0] };
  const acc = new BeyondAccumulator([1, 2], facts);
  // A: history [1] (category 0), list 0 2, truth {2, 5} (both category 1: new to A)
  acc.add(Int32Array.of(0, 2), Int32Array.of(1), new Set([2, 5]));
  // B: empty history, list 4 (shorter than k = 2), truth {3} (no category: B has no new-category item)
  acc.add(Int32Array.of(4), new Int32Array(0), new Set([3]));
  const [at1, at2] = acc.result();
  const I = (c: number) => -Math.log2((c + 1) / 14); // 8 events + 6 items
  close(at1.ndcg, 0, 'ndcg@1');
  close(at2.ndcg, (1 / Math.log2(3) / (1 + 1 / Math.log2(3))) / 2, 'ndcg@2');
  close(at1.hitRate, 0, 'hitRate@1');
  close(at2.hitRate, 1 / 2, 'hitRate@2');
  close(at1.coverage, 2 / 6, 'coverage@1 (items 0, 4)');
  close(at2.coverage, 3 / 6, 'coverage@2 (items 0, 2, 4)');
  close(at1.novelty, (I(5) + I(2)) / 2, 'novelty@1');
  close(at2.novelty, ((I(5) + I(0)) / 2 + I(2)) / 2, 'novelty@2');
  assert.equal(at1.diversity, undefined);
  close(at2.diversity, 1, 'diversity@2 (A only: categories 0, 1)');
  assert.equal(at1.newCategoryUsers, 1);
  close(at1.newCategoryRecall, 0, 'newCategoryRecall@1');
  close(at2.newCategoryRecall, 1 / 2, 'newCategoryRecall@2');
});

test('BeyondAccumulator without catalogue facts or categories reports only what it can', () => {
  const plain = new BeyondAccumulator([2]);
  plain.add(Int32Array.of(1, 2), new Int32Array(0), new Set([2]));
  const [p] = plain.result();
  assert.deepEqual(Object.keys(p).sort(), ['hitRate', 'ndcg']);
  close(p.ndcg, 1 / Math.log2(3), 'ndcg');
  const noCats = new BeyondAccumulator([2], { numItems: 3, itemCategory: Int32Array.of(-1, -1, -1) });
  noCats.add(Int32Array.of(1, 2), new Int32Array(0), new Set([2]));
  const [q] = noCats.result();
  assert.deepEqual(Object.keys(q).sort(), ['coverage', 'hitRate', 'ndcg']);
  close(q.coverage, 2 / 3, 'coverage');
  assert.throws(() => new BeyondAccumulator([2], { numItems: 3, trainCounts: [1, 2] }), (e: unknown) => e instanceof UsageError && /2 entries for 3 items/.test(e.message));
});
