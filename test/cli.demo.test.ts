/**
 * `arbor demo` spawned as a user would, on a small catalogue: --json prints
 * exactly one JSON document (the evaluation, the comparison with every row)
 * and nothing else on stdout; the text report names every row, compares
 * arbor's beam search with each, and lists what to try next. Also the
 * versus computation on a hand-made report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { versusAll } from '../src/eval/versus.js';
import type { EvalReport, MethodReport } from '../src/eval/evaluate.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'arbor.js');
const SMALL = ['--items', '400', '--users', '160', '--test-users', '40', '--valid-users', '20', '--workers', '0'];

function demo(args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'demo', ...SMALL, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('demo --json prints the evaluation as one JSON document and nothing else', () => {
  const r = demo(['--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout); // throws if anything else is on stdout
  assert.equal(r.stdout.trim().split('\n').length, 1);
  assert.deepEqual(doc.methods.map((m: { name: string }) => m.name), ['beam', 'brute-force', 'popularity', 'itemcf', 'ease']);
  assert.equal(doc.users, 40);
  assert.deepEqual(doc.ks, [10, 20, 50]);
  assert.ok(doc.methods.every((m: { userRecall?: unknown }) => m.userRecall === undefined), 'per-user recall stays out of the JSON');
  assert.deepEqual(doc.config.demo, { items: 400, users: 160, testUsers: 40, validUsers: 20 });
  assert.equal(doc.config.train.epochs, 1, 'the demo trains one epoch by default');
  assert.deepEqual(doc.config.baselines, ['popularity', 'itemcf', 'ease']);
  const { comparison } = doc;
  assert.equal(comparison.method, 'beam');
  assert.equal(comparison.k, 50);
  assert.deepEqual(comparison.versus.map((v: { name: string }) => v.name), ['brute-force', 'popularity', 'itemcf', 'ease']);
  const beam = doc.methods[0].metrics.find((m: { k: number }) => m.k === 50).recall;
  for (const v of comparison.versus) {
    assert.equal(v.recall, beam);
    assert.ok(v.low <= v.ratio && v.ratio <= v.high, JSON.stringify(v));
    assert.equal(v.verdict, v.low > 1 ? 'ahead' : v.high < 1 ? 'behind' : 'level');
  }
  assert.match(r.stderr, /epoch 1: loss/);
});

test('demo prints a report that names every row, compares arbor with each and says what to try next', () => {
  const keep = mkdtempSync(join(tmpdir(), 'arbor-demo-test-'));
  try {
    const r = demo(['--keep', keep]);
    assert.equal(r.code, 0, r.stderr);
    for (const row of ['arbor, beam 50', 'brute force', 'popularity', 'item-CF', 'EASE']) assert.ok(r.stdout.includes(`\n${row} `), `row ${row}:\n${r.stdout}`);
    assert.match(r.stdout, /every figure below is on 40 held-out test users/);
    assert.match(r.stdout, /arbor \(beam 50\) against each row: recall@50 ratio/);
    for (const row of ['brute force', 'popularity', 'item-CF', 'EASE']) assert.match(r.stdout, new RegExp(`\\n  ${row} +[0-9.]+× +\\(`));
    assert.match(r.stdout, /Try next:\n {2}npx arbor demo --keep demo/);
    // a row ahead of arbor is said in words
    const ahead = [...r.stdout.matchAll(/\n {2}(\S+(?: \S+)?) .* AHEAD of arbor/g)].map((m) => m[1]);
    for (const name of ahead) assert.match(r.stdout, new RegExp(`On this demo .*${name}`));
    assert.ok(existsSync(join(keep, 'model', 'manifest.json')) && existsSync(join(keep, 'demo.db')), 'the kept folder holds the store and the model');
  } finally {
    rmSync(keep, { recursive: true, force: true });
  }
});

/** A method with the given per-user recall at k 10. */
function method(name: string, users: number[], pairs = 1): MethodReport {
  const mean = users.reduce((a, b) => a + b, 0) / users.length;
  return {
    name,
    metrics: [{ k: 10, recall: mean, precision: 0, f: 0 } as MethodReport['metrics'][number]],
    pairsPerQuery: pairs,
    msPerQuery: { mean: 0, p50: 0, p95: 0 },
    totalMs: 0,
    userRecall: [users],
  };
}

test('versusAll: ratio of mean recalls, verdict only when the interval is clear of 1', () => {
  const n = 60;
  const ref = method('beam', Array.from({ length: n }, (_, i) => (i % 2 ? 0.6 : 0.4)), 10);
  const low = method('popularity', Array.from({ length: n }, (_, i) => (i % 2 ? 0.12 : 0.08)), 0);
  const same = method('itemcf', Array.from({ length: n }, (_, i) => (i % 2 ? 0.4 : 0.6)));
  const high = method('ease', Array.from({ length: n }, (_, i) => (i % 2 ? 0.9 : 0.8)), 20);
  const report: EvalReport = { users: n, ks: [10], methods: [ref, low, same, high] };
  const vs = versusAll(report, ref, 10, 1);
  assert.deepEqual(vs.map((v) => [v.name, v.verdict]), [['popularity', 'ahead'], ['itemcf', 'level'], ['ease', 'behind']]);
  assert.ok(Math.abs(vs[0].ratio - 5) < 1e-12);
  assert.ok(Math.abs(vs[1].ratio - 1) < 1e-12);
  assert.ok(Math.abs(vs[2].ratio - 0.5 / 0.85) < 1e-12);
  assert.equal(vs[0].pairsRatio, Infinity);
  assert.equal(vs[2].pairsRatio, 0.5);
  assert.throws(() => versusAll(report, ref, 20, 1), /not evaluated at k 20/);
  assert.throws(() => versusAll({ ...report, methods: [{ ...ref, userRecall: undefined }] }, { ...ref, userRecall: undefined }, 10, 1), /per-user recall/);
});
