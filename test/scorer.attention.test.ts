/**
 * The attention scorer: its fast query-time path and its training forward
 * pass against the plain formula (written out here in float64, pair by pair
 * and behaviour by behaviour), flat tensor memory, and training reducing the
 * loss.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork, type NamedArrays } from '../src/scorer/network.js';
import { NetworkScorer } from '../src/scorer/session.js';
import { AttentionSession } from '../src/scorer/attention-session.js';
import { attentionLogits, slotCoefficients } from '../src/scorer/attention.js';
import type { ScorerConfig } from '../src/scorer/config.js';
import { Rng } from '../src/core/rng.js';
import { buildCategoryTree } from '../src/tree/build.js';
import type { Tree } from '../src/tree/tree.js';
import { makeItems } from './helpers/trees.js';
import { AttentionStepper, partsOf } from '../src/trainer/attention-step.js';
import { SparseAdam } from '../src/trainer/sparse-adam.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';

const CFG: ScorerConfig = { kind: 'attention', embDim: 6, hidden: [10, 5], windows: [1, 2, 3], attentionUnits: 7 };

/** A network with every weight random (not the init's zeros and ones), so no term of the formula can hide. */
function randomNetwork(cfg: ScorerConfig, tree: Tree, seed: number): ScorerNetwork {
  const rng = new Rng(seed);
  const base = ScorerNetwork.init(cfg, tree.layout.numInternal, tree.numItems, rng);
  const arrays = base.toArrays();
  base.dispose();
  for (const [, a] of arrays) for (let i = 0; i < a.data.length; i++) a.data[i] = rng.normal() * 0.5;
  return ScorerNetwork.fromArrays(cfg, tree.layout.numInternal, tree.numItems, arrays, '(test)');
}

const prelu = (x: number, a: number) => (x > 0 ? x : a * x);

/** The attention scorer's logit for one user and one node, straight from the definition. */
function plainLogit(w: NamedArrays, cfg: ScorerConfig, beh: Float32Array[], node: Float32Array): { logit: number; att: number[] } {
  const d = cfg.embDim;
  const A = cfg.attentionUnits!;
  const g = (n: string) => w.get(n)!.data;
  const [wb, wbn, wn, ab, aa, ao, aob] = ['att/b_kernel', 'att/bn_kernel', 'att/n_kernel', 'att/bias', 'att/alpha', 'att/out_kernel', 'att/out_bias'].map(g);
  // attention weight of every behaviour: (b, b⊙n, n) → A units (PReLU) → 1
  const att = beh.map((b) => {
    let s = aob[0];
    for (let u = 0; u < A; u++) {
      let z = ab[u];
      for (let t = 0; t < d; t++) z += b[t] * wb[t * A + u] + b[t] * node[t] * wbn[t * A + u] + node[t] * wn[t * A + u];
      s += prelu(z, aa[u]) * ao[u];
    }
    return s;
  });
  // windows: mean of attention-weighted behaviours, slot 0 the latest
  const x: number[] = [];
  let j = 0;
  for (const size of cfg.windows) {
    const win = new Array(d).fill(0);
    const count = Math.max(0, Math.min(size, beh.length - j));
    for (let i = 0; i < size; i++, j++) if (j < beh.length) for (let t = 0; t < d; t++) win[t] += (att[j] * beh[j][t]) / count;
    x.push(...win);
  }
  x.push(...node);
  // the MLP: first layer = [user kernel; node kernel]
  const uk = g('dense0/user_kernel');
  const nk = g('dense0/node_kernel');
  const h1 = cfg.hidden[0];
  const userIn = cfg.windows.length * d;
  let h: number[] = [];
  for (let o = 0; o < h1; o++) {
    let z = g('dense0/bias')[o];
    for (let i = 0; i < userIn; i++) z += x[i] * uk[i * h1 + o];
    for (let i = 0; i < d; i++) z += x[userIn + i] * nk[i * h1 + o];
    h.push(prelu(z, g('dense0/alpha')[o]));
  }
  for (let l = 1; l < cfg.hidden.length; l++) {
    const k = g(`dense${l}/kernel`);
    const next: number[] = [];
    for (let o = 0; o < cfg.hidden[l]; o++) {
      let z = g(`dense${l}/bias`)[o];
      for (let i = 0; i < h.length; i++) z += h[i] * k[i * cfg.hidden[l] + o];
      next.push(prelu(z, g(`dense${l}/alpha`)[o]));
    }
    h = next;
  }
  let out = g('out/bias')[0];
  for (let i = 0; i < h.length; i++) out += h[i] * g('out/kernel')[i];
  return { logit: out, att };
}

const items = makeItems(40, 5, 3);
const tree = buildCategoryTree(items, { branching: 2, seed: 2 });

/** Behaviour embeddings of a history as the session sees them on `level`: latest first, capped at sum(windows). */
function behaviours(net: ScorerNetwork, history: Int32Array, level: number): Float32Array[] {
  const d = net.config.embDim;
  const cap = net.config.windows.reduce((a, b) => a + b, 0);
  const out: Float32Array[] = [];
  for (let j = 0; j < Math.min(cap, history.length); j++) {
    const it = history[history.length - 1 - j];
    const row = net.config.hierarchical ? tree.levelRows(level)[it] : net.numInternal + it;
    out.push(net.emb.slice(row * d, row * d + d));
  }
  return out;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(b));

for (const hierarchical of [false, true]) {
  test(`fast attention session equals the plain formula (hierarchical ${hierarchical})`, async () => {
    await initBackend();
    const cfg = { ...CFG, hierarchical };
    const net = randomNetwork(cfg, tree, 11);
    const w = net.toArrays();
    const rng = new Rng(4);
    const d = cfg.embDim;
    // histories shorter than, equal to and longer than the 6 slots, and empty
    for (const len of [0, 1, 4, 6, 9]) {
      const history = Int32Array.from({ length: len }, () => rng.int(tree.numItems));
      const session = new AttentionSession(net, tree, history);
      const viaScorer = new NetworkScorer(net, tree).open(history);
      for (let level = 1; level <= tree.layout.depth; level++) {
        const nodes = tree.nonEmptyNodes(level);
        const scores = session.score(nodes, level);
        assert.deepEqual(Array.from(viaScorer.score(nodes, level)), Array.from(scores));
        const weights = session.attention(nodes, level);
        const beh = behaviours(net, history, level);
        nodes.forEach((code, i) => {
          const row = tree.nodeRow(code);
          const ref = plainLogit(w, cfg, beh, net.emb.slice(row * d, row * d + d));
          assert.ok(close(scores[i], ref.logit), `len ${len} level ${level} node ${code}: fast ${scores[i]} vs plain ${ref.logit}`);
          ref.att.forEach((a, j) => assert.ok(close(weights[i * session.slots + j], a), `attention weight ${j}: ${weights[i * session.slots + j]} vs ${a}`));
        });
      }
      session.close();
      viaScorer.close();
    }
    net.dispose();
  });
}

for (const m of [1, 3]) test(`the training forward pass equals the plain formula (${m} node(s) per user)`, async () => {
  await initBackend();
  const net = randomNetwork(CFG, tree, 12);
  const w = net.toArrays();
  const rng = new Rng(6);
  const d = CFG.embDim;
  const users = 4;
  const len = 6;
  const lengths = [0, 2, 6, 5];
  const beh = new Float32Array(users * len * d);
  const coef = new Float32Array(users * len);
  const nodes = new Float32Array(users * m * d);
  for (let i = 0; i < beh.length; i++) beh[i] = rng.normal();
  for (let i = 0; i < nodes.length; i++) nodes[i] = rng.normal();
  for (let u = 0; u < users; u++) {
    slotCoefficients(CFG.windows, lengths[u], len, coef, u * len);
    beh.fill(0, (u * len + lengths[u]) * d, (u + 1) * len * d);
  }
  const logits = tf.tidy(() =>
    attentionLogits(net.mlp, net.attention!, CFG.windows, tf.tensor3d(beh, [users, len, d]), tf.tensor2d(coef, [users, len]), tf.tensor2d(nodes, [users * m, d]), m),
  );
  const got = logits.dataSync();
  logits.dispose();
  for (let u = 0; u < users; u++) {
    const b = Array.from({ length: lengths[u] }, (_, j) => beh.slice((u * len + j) * d, (u * len + j + 1) * d));
    for (let i = 0; i < m; i++) {
      const ref = plainLogit(w, CFG, b, nodes.slice((u * m + i) * d, (u * m + i + 1) * d)).logit;
      assert.ok(close(got[u * m + i], ref), `user ${u} node ${i}: ${got[u * m + i]} vs ${ref}`);
    }
  }
  net.dispose();
});

test('attention sessions leave no tensors behind', async () => {
  await initBackend();
  const net = randomNetwork({ ...CFG, hierarchical: true }, tree, 13);
  const scorer = new NetworkScorer(net, tree);
  const run = () => {
    const s = scorer.open(Int32Array.from([1, 2, 3, 4, 5, 6, 7]));
    for (let l = 1; l <= tree.layout.depth; l++) s.score(tree.nonEmptyNodes(l), l);
    s.close();
  };
  run();
  const before = tf.memory().numTensors;
  for (let i = 0; i < 5; i++) run();
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});

test('a training step split into parts equals the whole step', async () => {
  await initBackend();
  const rng = new Rng(8);
  const sequences = Array.from({ length: 12 }, () => Int32Array.from({ length: 9 }, () => rng.int(tree.numItems)));
  const samples = slidingWindowSamples(sequences);
  const negs = negativesPerLevel(tree, 'auto');
  const batch = Int32Array.from({ length: 40 }, (_, i) => i * 2);
  const after = (maxRows: number) => {
    const net = randomNetwork(CFG, tree, 21);
    const opt = tf.train.adam(0.01);
    const step = new AttentionStepper(tree, net, samples, negs, 5, batch.length, { maxRows });
    const loss = step.step(batch, opt, new SparseAdam(net.emb, CFG.embDim, 0.01));
    const w = net.toArrays();
    opt.dispose();
    net.dispose();
    return { loss, w };
  };
  const whole = after(1 << 30);
  const parts = after(200); // a few samples per part
  assert.ok(Math.abs(whole.loss - parts.loss) < 1e-5, `loss ${whole.loss} vs ${parts.loss}`);
  for (const [name, a] of whole.w) {
    const b = parts.w.get(name)!.data;
    for (let i = 0; i < a.data.length; i++) assert.ok(Math.abs(a.data[i] - b[i]) < 1e-4, `${name}[${i}]: ${a.data[i]} vs ${b[i]}`);
  }
});

test('a batch sorted by history length into parts equals the padded batch (plain and hierarchical)', async () => {
  await initBackend();
  const rng = new Rng(18);
  // histories of very different lengths, so the parts differ in padding
  const sequences = Array.from({ length: 16 }, (_, i) => Int32Array.from({ length: 2 + (i % 8) * 2 }, () => rng.int(tree.numItems)));
  const samples = slidingWindowSamples(sequences);
  const negs = negativesPerLevel(tree, 'auto');
  const batch = Int32Array.from({ length: 48 }, (_, i) => (i * 7) % samples.seq.length);
  for (const hierarchical of [false, true]) {
    const cfg = { ...CFG, hierarchical };
    const after = (bucketed: boolean) => {
      const net = randomNetwork(cfg, tree, 23);
      const opt = tf.train.adam(0.01);
      const step = new AttentionStepper(tree, net, samples, negs, 6, batch.length, { bucketed, maxRows: 4000 });
      const emb = new SparseAdam(net.emb, cfg.embDim, 0.01);
      const losses = [0, 1].map(() => step.step(batch, opt, emb));
      const w = net.toArrays();
      opt.dispose();
      net.dispose();
      return { losses, w };
    };
    const padded = after(false);
    const bucketed = after(true);
    padded.losses.forEach((l, i) => assert.ok(Math.abs(l - bucketed.losses[i]) < 1e-5, `hierarchical ${hierarchical}: loss ${l} vs ${bucketed.losses[i]}`));
    for (const [name, a] of padded.w) {
      const b = bucketed.w.get(name)!.data;
      for (let i = 0; i < a.data.length; i++) assert.ok(Math.abs(a.data[i] - b[i]) < 1e-4, `hierarchical ${hierarchical}: ${name}[${i}]: ${a.data[i]} vs ${b[i]}`);
    }
  }
});

test('partsOf: every sample once, parts sorted by history and within the row cap', async () => {
  const rng = new Rng(3);
  const lens = Int32Array.from({ length: 300 }, () => 1 + (rng.next() < 0.7 ? rng.int(6) : rng.int(69)));
  const m = 20;
  const maxRows = 30000;
  const parts = partsOf(lens, m, maxRows, 2000);
  const seen = new Int32Array(lens.length);
  let rows = 0;
  let prevMax = 0;
  for (const p of parts) {
    const longest = Math.max(...Array.from(p, (i) => lens[i]));
    assert.ok(p.length * longest * m <= maxRows || p.length === 1, `part of ${p.length} × ${longest} over the cap`);
    assert.ok(Math.min(...Array.from(p, (i) => lens[i])) >= prevMax, 'parts overlap in history length');
    prevMax = longest;
    rows += p.length * longest * m;
    for (const i of p) seen[i]++;
  }
  assert.ok(seen.every((c) => c === 1));
  const padded = partsOf(lens, m, maxRows, Infinity);
  const paddedRows = padded.reduce((s, p) => s + p.length, 0) * 69 * m;
  assert.ok(rows < paddedRows / 2, `bucketed rows ${rows} vs padded ${paddedRows}`);
  assert.deepEqual(Array.from(padded.flatMap((p) => Array.from(p))), Array.from({ length: lens.length }, (_, i) => i));
});

test('openBatch with the attention scorer equals one session per user', async () => {
  await initBackend();
  const net = randomNetwork({ ...CFG, hierarchical: true }, tree, 14);
  const scorer = new NetworkScorer(net, tree);
  const rng = new Rng(9);
  const histories = [0, 3, 8].map((len) => Int32Array.from({ length: len }, () => rng.int(tree.numItems)));
  const batch = scorer.openBatch(histories);
  for (let level = 1; level <= tree.layout.depth; level++) {
    const nodes = tree.nonEmptyNodes(level);
    // rows interleave the users
    const users = Int32Array.from({ length: nodes.length * 3 }, (_, i) => i % 3);
    const rowNodes = Int32Array.from({ length: nodes.length * 3 }, (_, i) => nodes[Math.floor(i / 3)]);
    const got = batch.score(users, rowNodes, level);
    histories.forEach((h, u) => {
      const s = scorer.open(h);
      const want = s.score(nodes, level);
      s.close();
      nodes.forEach((_, i) => assert.equal(got[i * 3 + u], want[i]));
    });
  }
  batch.close();
  net.dispose();
});
