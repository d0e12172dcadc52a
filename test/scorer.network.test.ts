import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { ModelFormatError, UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { NetworkScorer, ScorerNetwork, decodeScorer, encodeScorer, initBackend } from '../src/scorer/index.js';
import { buildRandomTree, type Tree } from '../src/tree/index.js';
import { TINY_CONFIG, differingWeights } from './helpers/training.js';
import { makeItems } from './helpers/trees.js';

let tree: Tree;
let net: ScorerNetwork;
const DIR = '/models/m/scorer';

before(async () => {
  await initBackend();
  tree = buildRandomTree(makeItems(21, 0), { branching: 3, seed: 4 }); // 27 slots, 6 empty
  net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(4));
  // non-zero biases so that a dropped bias term shows
  net.mlp.bias1.assign(tf.tidy(() => tf.randomUniform([TINY_CONFIG.hidden[0]], -0.5, 0.5, 'float32', 1)));
  net.mlp.outBias.assign(tf.tidy(() => tf.tensor1d([0.3])));
});
after(() => net.dispose());

/** Reference user vector: window w averages the next windows[w] most recent items (zeros when none). */
function referenceUserVector(history: number[]): number[] {
  const d = TINY_CONFIG.embDim;
  const out: number[] = [];
  let pos = history.length - 1;
  for (const size of TINY_CONFIG.windows) {
    const acc = new Array<number>(d).fill(0);
    let count = 0;
    for (let j = 0; j < size && pos >= 0; j++, pos--) {
      const row = tree.layout.numInternal + history[pos];
      for (let t = 0; t < d; t++) acc[t] += net.emb[row * d + t];
      count++;
    }
    out.push(...acc.map((x) => (count > 0 ? x / count : 0)));
  }
  return out;
}

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= tol * (1 + Math.abs(b[i])), `${what}[${i}]: ${a[i]} vs ${b[i]}`);
};

describe('ScorerNetwork', () => {
  it('userVector mean-pools the most recent items per window, newest first', () => {
    const rng = new Rng(3);
    for (const len of [0, 1, 2, 3, 6, 7, 8, 20]) {
      const h = Array.from({ length: len }, () => rng.int(tree.numItems));
      // only the last sum(windows) = 7 items count
      close(net.userVector(Int32Array.from(h)), referenceUserVector(h.slice(-7)), 1e-6, `history of ${len}`);
    }
    const out = new Float32Array(3 + net.userDim).fill(9);
    net.userVector(Int32Array.from([1, 2]), out, 3);
    assert.deepEqual(Array.from(out.subarray(0, 3)), [9, 9, 9]);
    close(out.subarray(3), referenceUserVector([1, 2]), 1e-6, 'with offset');
  });

  it('inference scores (scoreNodes) equal the training logits for the same user and nodes', () => {
    const rng = new Rng(8);
    const users = 3;
    const m = 5;
    const d = TINY_CONFIG.embDim;
    const userVecs = new Float32Array(users * net.userDim);
    const rows = new Int32Array(users * m);
    for (let u = 0; u < users; u++) {
      net.userVector(Int32Array.from({ length: 2 + u * 3 }, () => rng.int(tree.numItems)), userVecs, u * net.userDim);
      for (let j = 0; j < m; j++) rows[u * m + j] = rng.int(net.numRows);
    }
    const feats = net.gatherRows(rows);
    const training = tf.tidy(() => net.logits(tf.tensor2d(userVecs, [users, net.userDim]), tf.tensor2d(feats, [users * m, d]), m).dataSync());
    for (let u = 0; u < users; u++) {
      const hidden = net.userHidden(userVecs.subarray(u * net.userDim, (u + 1) * net.userDim));
      const inference = net.scoreNodes(hidden, feats.subarray(u * m * d, (u + 1) * m * d), m);
      close(inference, training.subarray(u * m, (u + 1) * m), 1e-4, `user ${u}`);
    }
  });

  it('toArrays → fromArrays → toArrays is exact, and restore brings back a snapshot', () => {
    const snap = net.toArrays();
    const copy = ScorerNetwork.fromArrays(TINY_CONFIG, net.numInternal, net.numItems, snap, 'x');
    try {
      assert.deepEqual(differingWeights(copy.toArrays(), snap), []);
      copy.emb.fill(0);
      copy.mlp.outBias.assign(tf.tidy(() => tf.tensor1d([7])));
      assert.deepEqual(differingWeights(copy.toArrays(), snap), ['embedding', 'out/bias']);
      copy.restore(snap);
      assert.deepEqual(differingWeights(copy.toArrays(), snap), []);
    } finally {
      copy.dispose();
    }
  });
});

describe('NetworkScorer', () => {
  it('scores nodes like the network does and returns arrays the caller owns', () => {
    const scorer = new NetworkScorer(net, tree);
    const h = Int32Array.from([3, 1, 4, 1, 5]);
    const session = scorer.open(h);
    const level1 = Array.from(tree.nonEmptyNodes(1));
    const leaves = Array.from(tree.nonEmptyNodes(tree.layout.depth));
    const a = session.score(Int32Array.from(level1), 1);
    const b = session.score(Int32Array.from(leaves), tree.layout.depth);
    const hidden = net.userHidden(net.userVector(h));
    close(a, net.scoreNodes(hidden, net.gatherRows(Int32Array.from(level1, (c) => tree.nodeRow(c))), level1.length), 1e-6, 'level 1');
    close(b, net.scoreNodes(hidden, net.gatherRows(Int32Array.from(leaves, (c) => tree.nodeRow(c))), leaves.length), 1e-6, 'leaves');
    // the first result is not overwritten by the second call
    close(a, session.score(Int32Array.from(level1), 1), 0, 'level 1 again');
    assert.equal(session.score(new Int32Array(0), 1).length, 0);
    session.close();
  });

  it('rejects an empty leaf and a network of another shape', () => {
    const empty = tree.layout.numInternal + Array.from(tree.leafItem).indexOf(-1);
    const session = new NetworkScorer(net, tree).open(new Int32Array(0));
    assert.throws(() => session.score(Int32Array.from([empty]), tree.layout.depth), /empty leaf/);
    const other = buildRandomTree(makeItems(22, 0), { branching: 3, seed: 4 });
    assert.throws(() => new NetworkScorer(net, other), /does not match the tree/);
  });

  it(
    'rejects history items outside the catalogue',
    () => {
      const scorer = new NetworkScorer(net, tree);
      for (const bad of [tree.numItems, 500, -1]) {
        assert.throws(
          () => scorer.open(Int32Array.from([0, bad])),
          (e: unknown) => e instanceof UsageError && e.message.includes(`history item index ${bad} is outside the catalogue (0..${tree.numItems - 1})`),
          `item ${bad}`,
        );
      }
    },
  );
});

describe('scorer files', () => {
  it('encodeScorer → decodeScorer is exact', async () => {
    const files = await encodeScorer(net);
    const back = decodeScorer(files, DIR);
    try {
      assert.deepEqual(differingWeights(back.toArrays(), net.toArrays()), []);
      assert.deepEqual(back.config, TINY_CONFIG);
      assert.equal(back.numInternal, net.numInternal);
      assert.equal(back.numItems, net.numItems);
    } finally {
      back.dispose();
    }
  });

  it('bad files give ModelFormatErrors naming model.json or weights.bin', async () => {
    const files = await encodeScorer(net);
    const json = `${DIR}/model.json`;
    const bin = `${DIR}/weights.bin`;
    const doc = JSON.parse(files.modelJson);
    const expectError = (f: typeof files, file: string, pattern: RegExp) =>
      assert.throws(() => decodeScorer(f, DIR), (e: unknown) => e instanceof ModelFormatError && e.file === file && pattern.test(e.message));
    expectError({ ...files, modelJson: '{' }, json, /not valid JSON/);
    expectError({ ...files, modelJson: JSON.stringify({ ...doc, format: 'x' }) }, json, /not an arbor scorer/);
    expectError({ ...files, modelJson: JSON.stringify({ ...doc, version: 2 }) }, json, /version 2 is not supported/);
    expectError({ ...files, modelJson: JSON.stringify({ ...doc, weightsManifest: undefined }) }, json, /weightsManifest is missing/);
    expectError({ ...files, weightsBin: files.weightsBin.subarray(4) }, bin, /holds \d+ bytes, the manifest needs \d+/);
    const wider = { ...doc, modelTopology: { ...doc.modelTopology, numItems: doc.modelTopology.numItems + 1 } };
    expectError({ ...files, modelJson: JSON.stringify(wider) }, bin, /embedding must hold/);
    const renamed = JSON.stringify(doc).replace('"out/bias"', '"out/biass"');
    expectError({ ...files, modelJson: renamed }, bin, /weight out\/bias is missing/);
  });
});
