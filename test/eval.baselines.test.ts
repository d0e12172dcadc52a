import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../src/core/errors.js';
import type { UserSequence } from '../src/data/types.js';
import { ItemCFRetriever, PopularityRetriever, popularityRanking } from '../src/eval/index.js';

const seq = (user: string, ...items: number[]): UserSequence => ({ user, role: 'train', items: Int32Array.from(items) });

function assertScores(actual: Float32Array, expected: number[]) {
  assert.equal(actual.length, expected.length);
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i] - e) < 1e-6, `score ${i}: ${actual[i]} != ${e}`));
}

// Event counts over 5 items: 0:1, 1:3, 2:2, 3:1, 4:0 -> order 1, 2, 0, 3, 4 (0 and 3 tie: lower index first).
const popSequences = [seq('u1', 0, 1, 1, 2), seq('u2', 2, 3), seq('u3', 1)];

test('popularityRanking orders by event count, ties by lower index', () => {
  const { order, counts } = popularityRanking(popSequences, 5);
  assert.deepEqual(Array.from(order), [1, 2, 0, 3, 4]);
  assert.deepEqual(Array.from(counts), [1, 3, 2, 1, 0]);
});

test('PopularityRetriever returns the k most popular items scored by counts', () => {
  const pop = new PopularityRetriever(popSequences, 5);
  assert.equal(pop.name, 'popularity');
  assert.equal(pop.exact, true);
  const top3 = pop.retrieve(Int32Array.of(1), { k: 3 });
  assert.deepEqual(Array.from(top3.items), [1, 2, 0]);
  assert.deepEqual(Array.from(top3.scores), [3, 2, 1]);
  assert.equal(top3.pairsScored, 0);
  assert.deepEqual(Array.from(pop.retrieve(new Int32Array(0), { k: 10 }).items), [1, 2, 0, 3, 4]);
});

test('PopularityRetriever excludeHistory skips history items', () => {
  const pop = new PopularityRetriever(popSequences, 5, { excludeHistory: true });
  const r = pop.retrieve(Int32Array.of(2, 0), { k: 3 });
  assert.deepEqual(Array.from(r.items), [1, 3, 4]);
  assert.deepEqual(Array.from(r.scores), [3, 1, 0]);
});

test('PopularityRetriever validates k and item indices', () => {
  assert.throws(() => new PopularityRetriever(popSequences, 5).retrieve(new Int32Array(0), { k: 0 }), UsageError);
  assert.throws(() => new PopularityRetriever([seq('bad', 7)], 5), /user bad: item index 7/);
});

// Item-CF on 6 items, 4 users (item 5 never seen):
//   u1: 0 1 2   u2: 0 1   u3: 1 2 3   u4: 3 4
// Users per item n: 0:2, 1:3, 2:2, 3:2, 4:1, 5:0.
// Similarities co / sqrt(n_a n_b):
//   (0,1) 2/√6 ≈ 0.8165   (0,2) 1/√4 = 0.5   (1,2) 2/√6 ≈ 0.8165
//   (1,3) 1/√6 ≈ 0.4082   (2,3) 1/√4 = 0.5   (3,4) 1/√2 ≈ 0.7071   all other pairs 0.
// Event popularity: 1 (3), then 0, 2, 3 (2 each), 4 (1), 5 (0).
const cfSequences = [seq('u1', 0, 1, 2), seq('u2', 0, 1), seq('u3', 1, 2, 3), seq('u4', 3, 4)];
const s01 = 2 / Math.sqrt(6);
const s34 = 1 / Math.sqrt(2);

test('ItemCFRetriever ranks by summed similarity and fills from popularity', () => {
  const cf = new ItemCFRetriever(cfSequences, 6);
  assert.equal(cf.name, 'itemcf');
  // History 4, 0, 2 (oldest first). Scores:
  //   1: sim(0,1) + sim(2,1) = 4/√6 ≈ 1.633
  //   3: sim(2,3) + sim(4,3) = 0.5 + 1/√2 ≈ 1.207
  //   0: sim(2,0) = 0.5     2: sim(0,2) = 0.5 (tie with 0: lower index first)
  // Four items scored; the fifth comes from popularity (1, 0, 2, 3 taken -> 4).
  const r = cf.retrieve(Int32Array.of(4, 0, 2), { k: 5 });
  assert.deepEqual(Array.from(r.items), [1, 3, 0, 2, 4]);
  assertScores(r.scores, [2 * s01, 0.5 + s34, 0.5, 0.5, 0]);
  assert.equal(r.pairsScored, 4);
  // History 0: neighbours 1 (2/√6) and 2 (0.5); history items are not excluded by default,
  // so the popularity filler after 1 and 2 is item 0.
  const r0 = cf.retrieve(Int32Array.of(0), { k: 3 });
  assert.deepEqual(Array.from(r0.items), [1, 2, 0]);
  assertScores(r0.scores, [s01, 0.5, 0]);
  assert.equal(r0.pairsScored, 2);
  // A repeated query (neighbours now cached) gives the same answer.
  assert.deepEqual(Array.from(cf.retrieve(Int32Array.of(4, 0, 2), { k: 5 }).items), [1, 3, 0, 2, 4]);
});

test('ItemCFRetriever excludeHistory', () => {
  const cf = new ItemCFRetriever(cfSequences, 6, { excludeHistory: true });
  // Scored: 1 (4/√6), 3 (0.5 + 1/√2); filler skips 0, 2, 4 (history) -> 5; only 3 items remain.
  const r = cf.retrieve(Int32Array.of(4, 0, 2), { k: 5 });
  assert.deepEqual(Array.from(r.items), [1, 3, 5]);
  assertScores(r.scores, [2 * s01, 0.5 + s34, 0]);
  assert.equal(r.pairsScored, 2);
  assert.deepEqual(Array.from(cf.retrieve(Int32Array.of(0), { k: 3 }).items), [1, 2, 3]);
});

test('ItemCFRetriever options: neighbours, maxHistory, maxUserItems, cacheSize', () => {
  // One neighbour each: 2 -> 1, 0 -> 1, 4 -> 3.
  const one = new ItemCFRetriever(cfSequences, 6, { neighbours: 1 });
  const r1 = one.retrieve(Int32Array.of(4, 0, 2), { k: 2 });
  assert.deepEqual(Array.from(r1.items), [1, 3]);
  assertScores(r1.scores, [2 * s01, s34]);
  // Only the most recent history item (2): 1 (2/√6), then 0 and 3 (0.5 each).
  const recent = new ItemCFRetriever(cfSequences, 6, { maxHistory: 1 });
  assert.deepEqual(Array.from(recent.retrieve(Int32Array.of(4, 0, 2), { k: 3 }).items), [1, 0, 3]);
  // One item per training user: nothing co-occurs, so the answer is pure popularity.
  const capped = new ItemCFRetriever(cfSequences, 6, { maxUserItems: 1 });
  const rc = capped.retrieve(Int32Array.of(0), { k: 2 });
  assert.deepEqual(Array.from(rc.items), [1, 0]);
  assert.equal(rc.pairsScored, 0);
  // A one-entry cache evicts and recomputes without changing answers.
  const tiny = new ItemCFRetriever(cfSequences, 6, { cacheSize: 1 });
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(Array.from(tiny.retrieve(Int32Array.of(4, 0, 2), { k: 5 }).items), [1, 3, 0, 2, 4]);
  }
});

test('ItemCFRetriever validates its inputs', () => {
  const cf = new ItemCFRetriever(cfSequences, 6);
  assert.throws(() => cf.retrieve(Int32Array.of(6), { k: 1 }), (e: unknown) => e instanceof UsageError && /history: item index 6/.test(e.message));
  assert.throws(() => cf.retrieve(Int32Array.of(0), { k: 0 }), UsageError);
  assert.throws(() => new ItemCFRetriever(cfSequences, 6, { neighbours: 0 }), UsageError);
  assert.throws(() => new ItemCFRetriever(cfSequences, 3), /user u3: item index 3/);
});
