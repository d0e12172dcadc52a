import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArborError, UsageError } from '../src/core/errors.js';
import type { RetrievalResult, RetrieveOptions, Retriever } from '../src/beam/retriever.js';
import type { EvalCase } from '../src/data/types.js';
import { BeyondAccumulator, evaluate, formatBeyondTable, formatEvalTable, formatMarkdownBeyondTable, formatMarkdownTable, latencySummary, methodKs, metricsAt, pairedDifference, pairedRatio, type EvalReport } from '../src/eval/index.js';

/** Returns a fixed list per user (keyed by the first history item) and records the options it got. */
class FakeRetriever implements Retriever {
  readonly exact = true;
  readonly calls: RetrieveOptions[] = [];
  constructor(
    readonly name: string,
    private readonly lists: number[][],
  ) {}
  retrieve(history: Int32Array, opts: RetrieveOptions): RetrievalResult {
    this.calls.push(opts);
    const items = Int32Array.from(this.lists[history[0]].slice(0, opts.k));
    return { items, scores: new Float32Array(items.length), pairsScored: 10 * (history[0] + 1) };
  }
}

const evalCase = (user: string, history: number[], truth: number[]): EvalCase => ({
  user,
  history: Int32Array.from(history),
  truth: Int32Array.from(truth),
});

// The three users of eval.metrics.test.ts: averaged metrics are known by hand there.
const cases = [evalCase('a', [0], [2, 5, 9]), evalCase('b', [1], [7, 8]), evalCase('c', [2], [1])];
const lists = [[1, 2, 3, 4, 5, 6], [7], [4, 5, 6]];

test('evaluate averages metrics per method and passes k = max(ks) and the beam', () => {
  const beam = new FakeRetriever('beam', lists);
  const other = new FakeRetriever('other', [[], [], []]);
  const report = evaluate([{ retriever: beam, beam: 7 }, { retriever: other }], cases, [1, 3, 5]);
  assert.equal(report.users, 3);
  assert.deepEqual(report.ks, [1, 3, 5]);
  assert.deepEqual(beam.calls, [
    { k: 5, beam: 7 },
    { k: 5, beam: 7 },
    { k: 5, beam: 7 },
  ]);
  const [b, o] = report.methods;
  assert.equal(b.name, 'beam');
  assert.equal(b.beam, 7);
  assert.ok(!('beam' in o));
  const expected = [
    [1, 1 / 3, 1 / 6, 2 / 9],
    [3, 2 / 9, 5 / 18, 11 / 45],
    [5, 1 / 5, 7 / 18, 11 / 42],
  ];
  b.metrics.forEach((m, i) => {
    const [k, p, r, f] = expected[i];
    assert.equal(m.k, k);
    assert.ok(Math.abs(m.precision - p) < 1e-12 && Math.abs(m.recall - r) < 1e-12 && Math.abs(m.f - f) < 1e-12);
  });
  assert.ok(o.metrics.every((m) => m.precision === 0 && m.recall === 0 && m.f === 0));
  assert.equal(b.pairsPerQuery, 20); // (10 + 20 + 30) / 3
  assert.ok(b.msPerQuery.p50 >= 0 && b.msPerQuery.p95 >= b.msPerQuery.p50 && b.totalMs >= 0);
});

test('evaluate: a method with a beam below some k retrieves and reports only the ks <= its beam', () => {
  const narrow = new FakeRetriever('beam', lists);
  const wide = new FakeRetriever('beam', lists);
  const report = evaluate([{ retriever: narrow, beam: 3 }, { retriever: wide, beam: 5 }], cases, [1, 3, 5], { perUser: true });
  assert.deepEqual(narrow.calls[0], { k: 3, beam: 3 });
  assert.deepEqual(wide.calls[0], { k: 5, beam: 5 });
  const [n, w] = report.methods;
  assert.deepEqual(n.metrics.map((m) => m.k), [1, 3]);
  assert.deepEqual(w.metrics.map((m) => m.k), [1, 3, 5]);
  assert.equal(n.userRecall!.length, 2);
  // the same lists cut at the same k give the same figures
  assert.deepEqual(n.metrics, w.metrics.slice(0, 2));
  assert.equal(metricsAt(n, 5), undefined);
  assert.equal(metricsAt(w, 5)!.k, 5);
  const table = formatEvalTable(report).split('\n');
  assert.match(table[2], /^beam \(beam=3\)( +[0-9.]+%){6} +– +– +– /);
  // a beam below every k is refused before any method runs, naming the values
  const first = new FakeRetriever('x', lists);
  assert.throws(
    () => evaluate([{ retriever: first }, { retriever: narrow, beam: 2 }], cases, [3, 5]),
    (e: unknown) => e instanceof UsageError && e.message.includes('beam 2 is below every k (3, 5)'),
  );
  assert.equal(first.calls.length, 0);
  assert.deepEqual(methodKs([10, 50, 200], 50), [10, 50]);
  assert.deepEqual(methodKs([10, 50], undefined), [10, 50]);
});

test('evaluate reports progress through the logger', () => {
  const updates: number[] = [];
  let stopped = 0;
  const logger = {
    info() {},
    warn() {},
    progress: () => ({ update: (done: number) => updates.push(done), stop: () => stopped++ }),
  };
  evaluate([{ retriever: new FakeRetriever('x', lists) }], cases, [1], { logger });
  assert.deepEqual(updates, [3]);
  assert.equal(stopped, 1);
});

test('evaluate validates ks and cases', () => {
  const methods = [{ retriever: new FakeRetriever('x', lists) }];
  assert.throws(() => evaluate(methods, cases, []), UsageError);
  assert.throws(() => evaluate(methods, cases, [5, -1]), (e: unknown) => e instanceof UsageError && e.message.includes('-1'));
  assert.throws(() => evaluate(methods, cases, [1.5]), (e: unknown) => e instanceof UsageError && e.message.includes('1.5'));
  assert.throws(
    () => evaluate(methods, [], [1]),
    (e: unknown) => e instanceof ArborError && !(e instanceof UsageError) && e.message === 'no test users: run `arbor split` first',
  );
});

test('latencySummary: mean and nearest-rank percentiles', () => {
  assert.deepEqual(latencySummary(Float64Array.of(5, 1, 3, 2, 4)), { mean: 3, p50: 3, p95: 5 });
  assert.deepEqual(latencySummary(new Float64Array(0)), { mean: 0, p50: 0, p95: 0 });
});

const report: EvalReport = {
  users: 3,
  ks: [10],
  methods: [
    {
      name: 'beam',
      beam: 50,
      metrics: [{ k: 10, precision: 0.1234, recall: 0.05, f: 0.0712, ndcg: 0.061, hitRate: 0.5, coverage: 0.25, novelty: 12.345, diversity: 0.9, newCategoryRecall: 0.0125, newCategoryUsers: 2 }],
      pairsPerQuery: 1234.5,
      msPerQuery: { mean: 2, p50: 1.5, p95: 3 },
      totalMs: 6,
    },
    { name: 'popularity', metrics: [{ k: 10, precision: 0.01, recall: 0.002, f: 0.00333, ndcg: 0.001, hitRate: 0.1 }], pairsPerQuery: 0, msPerQuery: { mean: 0.01, p50: 0.0123, p95: 0.02 }, totalMs: 0.03 },
  ],
};

test('formatEvalTable: aligned columns, percentages with 2 decimals', () => {
  const lines = formatEvalTable(report).split('\n');
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.length === lines[0].length));
  assert.match(lines[0], /^method\s+recall@10\s+precision@10\s+F@10\s+pairs\/query\s+ms\/query p50$/);
  assert.match(lines[2], /^beam \(beam=50\)\s+5\.00%\s+12\.34%\s+7\.12%\s+1234\.5\s+1\.500$/);
  assert.match(lines[3], /^popularity\s+0\.20%\s+1\.00%\s+0\.33%\s+0\.0\s+0\.012$/);
});

test('formatMarkdownTable: same content as a markdown table', () => {
  assert.equal(
    formatMarkdownTable(report),
    [
      '| method | recall@10 | precision@10 | F@10 | pairs/query | ms/query p50 |',
      '| :--- | ---: | ---: | ---: | ---: | ---: |',
      '| beam (beam=50) | 5.00% | 12.34% | 7.12% | 1234.5 | 1.500 |',
      '| popularity | 0.20% | 1.00% | 0.33% | 0.0 | 0.012 |',
    ].join('\n'),
  );
});

test('formatBeyondTable and its markdown: one row per method and k, — where a metric is absent', () => {
  const lines = formatBeyondTable(report).split('\n');
  assert.equal(lines.length, 4);
  assert.ok(lines.every((l) => l.length === lines[0].length));
  assert.match(lines[0], /^method\s+k\s+nDCG\s+hit rate\s+coverage\s+novelty bits\s+diversity\s+new-category recall$/);
  assert.match(lines[2], /^beam \(beam=50\)\s+10\s+6\.10%\s+50\.00%\s+25\.00%\s+12\.35\s+90\.00%\s+1\.25% \(2 users\)$/);
  assert.match(lines[3], /^popularity\s+10\s+0\.10%\s+10\.00%\s+—\s+—\s+—\s+—$/);
  // a report written without these metrics (older JSON) renders as —
  const old = { ...report, methods: [{ ...report.methods[1], metrics: [{ k: 10, precision: 0.01, recall: 0.002, f: 0.00333 }] }] } as unknown as EvalReport;
  assert.equal(
    formatMarkdownBeyondTable(old),
    ['| method | k | nDCG | hit rate | coverage | novelty bits | diversity | new-category recall |', '| :--- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |', '| popularity | 10 | — | — | — | — | — | — |'].join('\n'),
  );
});

test('evaluate reports the metrics beyond recall, with catalogue facts all of them, as the accumulator computes them', () => {
  const catalogue = { numItems: 10, itemCategory: Int32Array.of(0, 0, 1, 1, 2, 2, 3, 3, 4, 4), trainCounts: [1, 2, 3, 4, 5, 6, 7, 8, 9, 0] };
  const ks = [1, 3, 5];
  const with_ = evaluate([{ retriever: new FakeRetriever('beam', lists) }], cases, ks, { catalogue });
  const acc = new BeyondAccumulator(ks, catalogue);
  cases.forEach((c) => acc.add(Int32Array.from(lists[c.history[0]].slice(0, 5)), c.history, new Set(c.truth)));
  assert.deepEqual(with_.methods[0].metrics.map(({ k, precision, recall, f, ...beyond }) => beyond), acc.result());
  // by hand at k = 5: hits for a (ranks 2, 5) and b (rank 1), none for c; lists cover items 1-7
  const at5 = with_.methods[0].metrics[2];
  assert.ok(Math.abs(at5.hitRate - 2 / 3) < 1e-12);
  assert.ok(Math.abs(at5.coverage! - 7 / 10) < 1e-12);
  const plain = evaluate([{ retriever: new FakeRetriever('beam', lists) }], cases, ks);
  assert.deepEqual(Object.keys(plain.methods[0].metrics[0]).sort(), ['f', 'hitRate', 'k', 'ndcg', 'precision', 'recall']);
  // facts that do not fit the catalogue are refused before any method runs
  const r = new FakeRetriever('beam', lists);
  assert.throws(() => evaluate([{ retriever: r }], cases, ks, { catalogue: { numItems: 10, trainCounts: [1] } }), UsageError);
  assert.equal(r.calls.length, 0);
});

test('evaluate reports each user\'s recall per k only when asked', () => {
  const plain = evaluate([{ retriever: new FakeRetriever('beam', lists) }], cases, [1, 3, 5]);
  assert.equal(plain.methods[0].userRecall, undefined);
  const report = evaluate([{ retriever: new FakeRetriever('beam', lists) }], cases, [1, 3, 5], { perUser: true });
  // by hand: a hits 2 at rank 2 and 5 at rank 5 of truth {2, 5, 9}; b hits 7 at rank 1 of {7, 8}; c hits nothing
  assert.deepEqual(report.methods[0].userRecall, [
    [0, 1 / 2, 0],
    [1 / 3, 1 / 2, 0],
    [2 / 3, 1 / 2, 0],
  ]);
  // the averages are the means of the per-user values
  report.methods[0].userRecall!.forEach((r, i) => assert.ok(Math.abs(r.reduce((s, x) => s + x, 0) / 3 - report.methods[0].metrics[i].recall) < 1e-12));
});

test('pairedDifference: exact mean, interval collapses on a constant shift, covers the mean, and is seeded', () => {
  const a = [0.5, 0.2, 0.9, 0.1];
  const shifted = pairedDifference(a, a.map((x) => x - 0.25), { seed: 1 });
  assert.ok(Math.abs(shifted.mean - 0.25) < 1e-12 && Math.abs(shifted.low - 0.25) < 1e-12 && Math.abs(shifted.high - 0.25) < 1e-12);
  const b = [0.4, 0.3, 0.5, 0.3];
  const d = pairedDifference(a, b, { seed: 7, resamples: 500 });
  assert.ok(Math.abs(d.mean - 0.05) < 1e-12);
  assert.ok(d.low <= d.mean && d.mean <= d.high && d.low < d.high, JSON.stringify(d));
  // differences are 0.1, -0.1, 0.4, -0.2: no resample's mean can leave [-0.2, 0.4]
  assert.ok(d.low >= -0.2 - 1e-12 && d.high <= 0.4 + 1e-12);
  assert.deepEqual(pairedDifference(a, b, { seed: 7, resamples: 500 }), d);
  assert.throws(() => pairedDifference([1], [1, 2], { seed: 1 }), UsageError);
  assert.throws(() => pairedDifference([], [], { seed: 1 }), UsageError);
  assert.throws(() => pairedDifference([1], [1], { seed: 1, level: 1 }), UsageError);
});

test('pairedRatio: exact ratio of means, collapses on a constant factor, pairs users, and is seeded', () => {
  const b = [0.5, 0.2, 0.9, 0.1];
  const doubled = pairedRatio(b.map((x) => 2 * x), b, { seed: 1 });
  assert.ok(Math.abs(doubled.ratio - 2) < 1e-12 && Math.abs(doubled.low - 2) < 1e-12 && Math.abs(doubled.high - 2) < 1e-12, JSON.stringify(doubled));
  const a = [0.6, 0.1, 0.9, 0.4];
  const r = pairedRatio(a, b, { seed: 7, resamples: 500 });
  assert.ok(Math.abs(r.ratio - 2.0 / 1.7) < 1e-12);
  assert.ok(r.low <= r.ratio && r.ratio <= r.high && r.low < r.high, JSON.stringify(r));
  // a resample's ratio is a weighted mean of the per-user ratios a/b, so it stays within their range [0.5, 4]
  assert.ok(r.low >= 0.5 - 1e-12 && r.high <= 4 + 1e-12);
  assert.deepEqual(pairedRatio(a, b, { seed: 7, resamples: 500 }), r);
  assert.equal(pairedRatio([0.1, 0], [0, 0], { seed: 1 }).ratio, Infinity);
  assert.throws(() => pairedRatio([1], [1, 2], { seed: 1 }), UsageError);
  assert.throws(() => pairedRatio([], [], { seed: 1 }), UsageError);
});
