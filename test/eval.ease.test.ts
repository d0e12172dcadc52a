import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArborError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import type { EvalCase } from '../src/data/types.js';
import { EASE_LAMBDA_LADDER, EaseRetriever, assertEaseFits, easeData, easeSize, fitEase, selectEase } from '../src/eval/ease.js';
import { invertSmallSpd, invertSpd } from '../src/eval/spd-inverse.js';
import { initBackend } from '../src/scorer/backend.js';

const rows = (...lists: number[][]) => lists.map((l) => Int32Array.from(l));

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('invertSpd: the blocked sweep matches a float64 Cholesky inverse (blocks that do not divide n, several tiles)', async () => {
  await initBackend();
  const rng = new Rng(3);
  for (const [n, block, tileRows] of [[1, 4, 8], [7, 3, 2], [40, 16, 5], [65, 64, 16]]) {
    // a Gram matrix of sparse 0/1 rows plus a ridge, like EASE's
    const g = new Float64Array(n * n);
    for (let r = 0; r < 2 * n; r++) {
      const on = Array.from({ length: n }, (_, i) => i).filter(() => rng.next() < 0.2);
      for (const i of on) for (const j of on) g[i * n + j]++;
    }
    for (let i = 0; i < n; i++) g[i * n + i] += 2;
    const a = Float32Array.from(g);
    // only the upper triangle is read: scribble over the lower one
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[i * n + j] = 1e6;
    invertSpd(a, n, { block, tileRows });
    assertClose(a, invertSmallSpd(g, n), 2e-6, `n ${n}`);
  }
  const notPd = Float32Array.of(1, 2, 2, 1);
  assert.throws(() => invertSpd(notPd, 2, { block: 1 }), (e: unknown) => e instanceof ArborError && /not positive definite/.test(e.message));
});

// By hand: users {0,1}, {1,2}, {0,1,2}; G = XᵀX = [[2,2,1],[2,3,2],[1,2,2]], λ = 1:
// P = (G + I)⁻¹ = [[.5,-.25,0],[-.25,.5,-.25],[0,-.25,.5]], so B_hj = -P_hj / P_jj =
// [[0,.5,0],[.5,0,.5],[0,.5,0]].
const handUsers = rows([0, 1], [2, 1, 1], [0, 1, 2]);
const handB = [
  [0, 0.5, 0],
  [0.5, 0, 0.5],
  [0, 0.5, 0],
];

test('EASE: a hand-computed 3-item case, in the primal form and (one more item than users) in the dual form, B materialised or not', async () => {
  await initBackend();
  for (const [numItems, maxDim] of [[3, 3], [4, 4], [4, 3]]) {
    const data = easeData(handUsers, numItems);
    assert.equal(data.size.form, numItems === 3 ? 'primal' : 'dual');
    assert.equal(data.size.dim, 3);
    const ease = new EaseRetriever(fitEase(data, 1, { maxDim }), numItems);
    const pad = (r: number[]) => (numItems === 4 ? [...r, 0] : r);
    for (let h = 0; h < 3; h++) assertClose(ease.scores(Int32Array.of(h)), pad(handB[h]), 1e-6, `form ${data.size.form}, history {${h}}`);
    // a history scores the sum of its distinct items' rows; repeats count once
    assertClose(ease.scores(Int32Array.of(0, 2, 0)), pad([0, 1, 0]), 1e-6, 'history {0, 2}');
    const r = ease.retrieve(Int32Array.of(1), { k: 2 });
    assert.deepEqual(Array.from(r.items), [0, 2]);
    assert.equal(r.pairsScored, numItems);
    const ex = new EaseRetriever(fitEase(data, 1, { maxDim }), numItems, { excludeHistory: true }).retrieve(Int32Array.of(0), { k: 3 });
    assert.ok(!Array.from(ex.items).includes(0));
  }
});

/** Users each draw 2-6 items from one of `groups` disjoint item groups. */
function groupedUsers(numUsers: number, numItems: number, groups: number, rng: Rng): Int32Array[] {
  const per = numItems / groups;
  return Array.from({ length: numUsers }, () => {
    const g = rng.int(groups);
    return Int32Array.from({ length: 2 + rng.int(5) }, () => g * per + rng.int(per));
  });
}

test('EASE: on users confined to disjoint item groups, a history ranks its own group first; primal and dual agree', async () => {
  await initBackend();
  const rng = new Rng(11);
  const numItems = 60;
  const users = groupedUsers(50, numItems, 3, rng);
  const dual = easeData(users, numItems);
  assert.equal(dual.size.form, 'dual');
  // the same data with more users than items: the primal form
  const primal = easeData([...users, ...users], numItems);
  assert.equal(primal.size.form, 'primal');
  const fd = new EaseRetriever(fitEase(dual, 8), numItems);
  // the dual without materialising B: each query goes through W
  const fw = new EaseRetriever(fitEase(dual, 8, { maxDim: 55 }), numItems);
  // doubling every user doubles XᵀX: λ 16 there is λ 8 here, scaled
  const fp = new EaseRetriever(fitEase(primal, 16), numItems);
  for (let g = 0; g < 3; g++) {
    const history = Int32Array.of(g * 20 + 1, g * 20 + 5, g * 20 + 1);
    const sd = fd.scores(history);
    assertClose(fp.scores(history), sd, 1e-4, `group ${g}, primal`);
    assertClose(fw.scores(history), sd, 1e-4, `group ${g}, dual through W`);
    // every item outside the group scores exactly 0 (B is block diagonal), inside the group some score > 0
    for (let j = 0; j < numItems; j++) if (Math.floor(j / 20) !== g) assert.equal(sd[j], 0);
    const top = fd.retrieve(history, { k: 5 }).items;
    assert.ok(Array.from(top).every((j) => Math.floor(j / 20) === g), `group ${g}: ${Array.from(top)}`);
  }
});

test('EASE: λ is chosen on validation users along the ladder, and the size limit names the catalogue', async () => {
  await initBackend();
  const rng = new Rng(5);
  const numItems = 40;
  const users = groupedUsers(80, numItems, 4, rng);
  const valid: EvalCase[] = groupedUsers(30, numItems, 4, rng).map((items, i) => ({
    user: `v${i}`,
    history: items.subarray(0, 2),
    truth: items.subarray(2),
  }));
  const s = selectEase(users, numItems, valid, { validK: 5 });
  assert.ok(s.trials.length >= 2, 'at least the start and a neighbour are tried');
  assert.ok(s.trials.every((t) => EASE_LAMBDA_LADDER.includes(t.lambda)));
  assert.equal(Math.max(...s.trials.map((t) => t.validRecall)), s.trials.find((t) => t.lambda === s.lambda)!.validRecall);
  assert.equal(s.validUsers, valid.filter((c) => c.truth.length > 0).length, 'users without truth are skipped');
  assert.equal(s.retriever.fit.lambda, s.lambda);
  // deterministic
  const again = selectEase(users, numItems, valid, { validK: 5 });
  assert.deepEqual(again.trials.map((t) => [t.lambda, t.validRecall]), s.trials.map((t) => [t.lambda, t.validRecall]));
  // without validation users: the starting λ, no search
  const fixed = selectEase(users, numItems, [], { startLambda: 7 });
  assert.equal(fixed.lambda, 7);
  assert.deepEqual(fixed.trials, []);
  // the limit
  const size = easeSize(rows(...Array.from({ length: 30 }, (_, i) => [i])), 25);
  assert.equal(size.form, 'primal');
  assert.throws(
    () => assertEaseFits(size, 20),
    (e: unknown) => e instanceof ArborError && /up to 20 items .* this one has 25 items and 30 training users/.test(e.message),
  );
});
