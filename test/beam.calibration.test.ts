/**
 * The beam search's scores are comparable across subtrees: on seeded
 * synthetic data with a briefly trained default scorer, whose path weight
 * training chose on validation users, recall never falls as the beam widens
 * and brute force is at least as good as the best beam (paired bootstrap
 * intervals over the test users). Switching that calibration off (path
 * weight 0: TDM's node rule) breaks both on the same model, so the test can
 * fail.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BeamSearch, BruteForce } from '../src/beam/index.js';
import { Rng } from '../src/core/rng.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import type { EvalCase } from '../src/data/types.js';
import { checkBeamCurve, evaluate, type CurveCheck } from '../src/eval/index.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { NetworkScorer } from '../src/scorer/session.js';
import { trainScorer, type TrainSummary } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import type { Tree } from '../src/tree/tree.js';

const K = 20;
const WIDTHS = [20, 40, 80, 160, 640];

describe('calibrated beam search', () => {
  let tree: Tree;
  let scorer: NetworkScorer;
  let cases: EvalCase[];
  let summary: TrainSummary;

  before(async () => {
    await initBackend('wasm');
    const ds = generateSynthetic({ items: 1500, users: 300, seed: 7 });
    const ids = ds.items.map((x) => x.id);
    const cats = [...new Set(ds.items.map((x) => x.category))];
    tree = buildCategoryTree({ itemIds: ids, itemCategory: Int32Array.from(ds.items, (x) => cats.indexOf(x.category)), categoryIds: cats }, { branching: 2, seed: 1 });
    const index = new Map(ids.map((x, i) => [x, i]));
    const byUser = new Map<string, number[]>();
    for (const e of ds.events) {
      if (!byUser.has(e.user)) byUser.set(e.user, []);
      byUser.get(e.user)!.push(index.get(e.item)!);
    }
    const seqs = [...byUser.values()].map((a) => Int32Array.from(a));
    // held out: users 0-99 for testing, 100-149 for validation; first half of each one's behaviours in, distinct second-half items the truth
    const held = (s: Int32Array, u: number): EvalCase => {
      const h = Math.floor(s.length / 2);
      return { user: `u${u}`, history: s.subarray(0, h), truth: Int32Array.from(new Set(s.subarray(h))) };
    };
    cases = seqs.slice(0, 100).map(held);
    const valid = seqs.slice(100, 150).map((s, u) => held(s, 100 + u));
    const network = ScorerNetwork.init({ ...DEFAULT_SCORER_CONFIG, hierarchical: true }, tree.layout.numInternal, tree.numItems, new Rng(3));
    summary = trainScorer(tree, network, { sequences: seqs.slice(150), valid }, { epochs: 1, seed: 5, validK: K });
    scorer = new NetworkScorer(network, tree);
  });

  const curve = (pathWeight?: number): { check: CurveCheck; recall: number[] } => {
    const w = pathWeight === undefined ? {} : { pathWeight };
    const methods = [...WIDTHS.map((beam) => ({ retriever: new BeamSearch(tree, scorer), beam, ...w })), { retriever: new BruteForce(tree, scorer), ...w }];
    const report = evaluate(methods, cases, [K], { perUser: true });
    const per = report.methods.map((m) => m.userRecall![0]);
    const points = WIDTHS.map((beam, i) => ({ beam, userRecall: per[i] }));
    return { check: checkBeamCurve(points, per[WIDTHS.length], { seed: 11 }), recall: report.methods.map((m) => m.metrics[0].recall) };
  };

  it('training chose a path weight on the validation users and gave it to the scorer', () => {
    const e = summary.epochs[0];
    assert.equal(e.pathWeightTrials!.length, 7);
    const best = Math.max(...e.pathWeightTrials!.map((t) => t.recall));
    assert.equal(e.validRecall, best);
    assert.equal(summary.pathWeight, e.pathWeight);
    assert.equal(scorer.pathWeight, summary.pathWeight);
    // on this sparse data (most items seen a few times) the ancestors must count
    assert.ok(summary.pathWeight >= 0.5, `path weight ${summary.pathWeight}`);
  });

  for (const [what, w] of [['the chosen path weight', undefined], ['the path rule (w = 1)', 1]] as [string, number | undefined][]) {
    it(`${what}: recall@20 never falls as the beam widens, and brute force is the ceiling`, () => {
      const { check, recall } = curve(w);
      assert.ok(check.holds, `falls: ${JSON.stringify(check.worst)}; recall ${recall.map((r) => r.toFixed(4))}`);
      // and the model learned something worth protecting
      assert.ok(recall[0] > 0.2, `recall@20 at beam 20 is only ${recall[0]}`);
    });
  }

  it('with the calibration switched off (path weight 0, the node rule) the same model loses items as the beam widens', () => {
    const { check, recall } = curve(0);
    assert.equal(check.holds, false, `node rule unexpectedly monotone: recall ${recall.map((r) => r.toFixed(4))}`);
    // the widest beam and brute force both fall below the narrowest beam, beyond the interval
    const falls = (w: number | 'brute-force') => check.steps.find((s) => s.narrower === WIDTHS[0] && s.wider === w)!.falls;
    assert.ok(falls(WIDTHS[WIDTHS.length - 1]) && falls('brute-force'), `recall ${recall.map((r) => r.toFixed(4))}`);
  });
});

describe('checkBeamCurve', () => {
  it('flags a width whose recall falls below a narrower one beyond the interval, and tolerates noise', () => {
    const n = 200;
    const rng = new Rng(1);
    const base = Array.from({ length: n }, () => rng.next());
    const noisy = base.map((x, i) => x + (i % 2 === 0 ? 0.001 : -0.001));
    const lower = base.map((x) => x - 0.05);
    const ok = checkBeamCurve([{ beam: 10, userRecall: base }, { beam: 20, userRecall: noisy }], base, { seed: 1 });
    assert.equal(ok.holds, true);
    assert.equal(ok.steps.length, 3);
    const bad = checkBeamCurve([{ beam: 20, userRecall: lower }, { beam: 10, userRecall: base }], base, { seed: 1 });
    assert.equal(bad.holds, false);
    assert.equal(bad.worst!.narrower, 10);
    assert.equal(bad.worst!.wider, 20);
    const bruteLow = checkBeamCurve([{ beam: 10, userRecall: base }], lower, { seed: 1 });
    assert.equal(bruteLow.holds, false);
    assert.equal(bruteLow.worst!.wider, 'brute-force');
    assert.throws(() => checkBeamCurve([{ beam: 10, userRecall: base }, { beam: 10, userRecall: base }], base, { seed: 1 }), /beam width 10 appears twice/);
  });
});
