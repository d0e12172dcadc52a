/**
 * The training objectives other than tdm: sibling (each ancestor against its
 * siblings) and the beam-aware producers otm and beam (the current model's
 * beam candidates; OTM's pseudo targets or TDM's labels). Their pairs are
 * checked against a direct computation with the same network, their runs
 * are deterministic, and they train.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { BeamSearch } from '../src/beam/beam.js';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { NetworkScorer } from '../src/scorer/session.js';
import type { NodeScorer } from '../src/scorer/types.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';
import { makeProducer, type ProducerName, type ShardBatch } from '../src/trainer/producer.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { epochOrder } from '../src/trainer/streams.js';
import { trainScorer, type TrainOptions } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { TINY_CONFIG, differingWeights, plantedData, recallAt } from './helpers/training.js';

const data = plantedData({ groups: 8, groupSize: 9, users: 120, testUsers: 24, length: 14, seed: 17 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
const samples = slidingWindowSamples(data.sequences);
const depth = tree.layout.depth;
const order = epochOrder(3, 1, samples.seq.length).subarray(0, 12);

before(async () => {
  await initBackend();
});

/** A network trained briefly with tdm, so beams and pseudo targets are not arbitrary. */
function trainedNetwork(hierarchical: boolean): ScorerNetwork {
  const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical }, tree.layout.numInternal, tree.numItems, new Rng(4));
  trainScorer(tree, net, { sequences: data.sequences }, { epochs: 1, batchSize: 64, seed: 2 });
  return net;
}

/** Sample i's pairs on level l as [code, label, weight] triples, for either layout. */
function levelPairs(b: ShardBatch, perLevel: number[], nb: number, i: number, l: number, hierarchical: boolean): [number, number, number][] {
  const m = perLevel.reduce((a, x) => a + x, 0);
  const before = perLevel.slice(0, l - 1).reduce((a, x) => a + x, 0);
  const at = hierarchical ? nb * before + i * perLevel[l - 1] : i * m + before;
  return Array.from({ length: perLevel[l - 1] }, (_, j) => [b.codes[at + j], b.labels[at + j], b.weights ? b.weights[at + j] : 1]);
}

const targetOf = (sample: number) => samples.sequences[samples.seq[sample]][samples.pos[sample]];
const historyOf = (sample: number) => samples.sequences[samples.seq[sample]].subarray(0, samples.pos[sample]);

describe('the sibling objective', () => {
  it('pairs every ancestor (label 1) with its non-empty siblings (label 0); empty siblings weigh 0', () => {
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(1));
    const p = makeProducer('sibling', { tree, network: net, samples, negatives: negativesPerLevel(tree), seed: 3, trainBeam: 2, pathWeight: 1 });
    const b = p.produce(order, 1, 0);
    const perLevel = Array.from({ length: depth }, () => tree.layout.branching);
    assert.equal(p.pairsPerSample, depth * tree.layout.branching);
    order.forEach((sample, i) => {
      const path = tree.pathOf(targetOf(sample));
      for (let l = 1; l <= depth; l++) {
        const pairs = levelPairs(b, perLevel, order.length, i, l, false);
        assert.deepEqual(pairs[0], [path[l], 1, 1]);
        const siblings = [1, 2].map((j) => path[l - 1] * 2 + j).filter((c) => c !== path[l]);
        for (const [j, c] of siblings.entries()) {
          const empty = tree.subtreeSize[c] === 0;
          assert.deepEqual(pairs[1 + j], [empty ? path[l] : c, 0, empty ? 0 : 1], `level ${l}`);
        }
      }
    });
    net.dispose();
  });
});

describe('the beam-aware objectives (otm, beam)', () => {
  for (const [hierarchical, pathWeight] of [[false, 1], [true, 0.5], [true, 0]] as [boolean, number][]) {
    it(`candidates are the nodes the model's own beam search scores; otm labels ancestors with the pseudo target (${hierarchical ? 'hierarchical' : 'plain'} scorer, path weight ${pathWeight})`, () => {
      const net = trainedNetwork(hierarchical);
      const negs = negativesPerLevel(tree, '1');
      const trainBeam = 2;
      const width = tree.layout.branching * trainBeam;
      const perLevel = negs.map((n) => 1 + width + n);
      const ctx = { tree, network: net, samples, negatives: negs, seed: 3, trainBeam, pathWeight };
      const otm = makeProducer('otm', ctx).produce(order, 1, 0);
      const otmPairs = Array.from(order, (_, i) => Array.from({ length: depth }, (_, l) => levelPairs(otm, perLevel, order.length, i, l + 1, hierarchical)));
      const beam = makeProducer('beam', ctx).produce(order, 1, 0);
      const scorer = new NetworkScorer(net, tree);
      let pseudoZeros = 0;
      order.forEach((sample, i) => {
        const history = historyOf(sample);
        const path = tree.pathOf(targetOf(sample));
        // the nodes a beam search of width trainBeam scores, level by level (w > 0: every level; w = 0: from the first level that does not fit)
        const scored: number[][] = Array.from({ length: depth + 1 }, () => []);
        const recording: NodeScorer = {
          open: (h) => {
            const s = scorer.open(h);
            return { score: (nodes, level) => (scored[level].push(...nodes), s.score(nodes, level)), close: () => s.close() };
          },
        };
        new BeamSearch(tree, recording).retrieve(history, { k: 1, beam: trainBeam, pathWeight });
        // pseudo targets directly: greedy descent from each ancestor under the current scores
        const session = scorer.open(history);
        const wins = (l: number) => {
          const kids = [1, 2].map((j) => path[l - 1] * 2 + j).filter((c) => tree.subtreeSize[c] > 0);
          const sc = session.score(Int32Array.from(kids), l);
          const mine = sc[kids.indexOf(path[l])];
          return kids.every((c, j) => c === path[l] || mine >= sc[j]);
        };
        const z = new Array<number>(depth + 1).fill(0);
        z[depth] = 1;
        for (let l = depth - 1; l >= 1; l--) z[l] = z[l + 1] && wins(l + 1) ? 1 : 0;
        session.close();
        for (let l = 1; l <= depth; l++) {
          const pairs = otmPairs[i][l - 1];
          assert.deepEqual(pairs[0], [path[l], z[l], 1], `pseudo target, level ${l}`);
          if (z[l] === 0) pseudoZeros++;
          const cands = pairs.slice(1, 1 + width).filter((p) => p[2] === 1);
          for (const [, label] of cands) assert.equal(label, 0);
          if (pathWeight > 0) {
            const want = scored[l].filter((c) => c !== path[l]).sort((a, b) => a - b);
            assert.deepEqual(cands.map((p) => p[0]).sort((a, b) => a - b), want, `candidates, level ${l}`);
          }
          // padding weighs nothing; the uniform negatives follow, weight 1, never the ancestor
          for (const p of pairs.slice(1 + cands.length, 1 + width)) assert.equal(p[2], 0);
          for (const p of pairs.slice(1 + width)) assert.ok(p[0] !== path[l] && p[1] === 0 && p[2] === 1);
          // beam: the same pairs, TDM's label on the ancestor
          const bp = levelPairs(beam, perLevel, order.length, i, l, hierarchical);
          assert.deepEqual(bp.slice(1), pairs.slice(1));
          assert.deepEqual(bp[0], [path[l], 1, 1]);
        }
      });
      // a partly trained model misses some targets, so the pseudo targets differ from TDM's labels
      assert.ok(pseudoZeros > 0);
      net.dispose();
    });
  }

  for (const objective of ['otm', 'sibling'] as ProducerName[]) {
    it(`${objective}: the same seed gives the same weights, and the model learns the planted groups`, () => {
      const run = () => {
        const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical: true }, tree.layout.numInternal, tree.numItems, new Rng(9));
        // otm starts slower: from fresh weights greedy descent rarely reaches the target, so most pseudo targets are 0 until the deep levels learn
        const o: Partial<TrainOptions> = { epochs: objective === 'otm' ? 4 : 2, batchSize: 48, seed: 5, objective, trainBeam: 2 };
        trainScorer(tree, net, { sequences: data.sequences }, o);
        return net;
      };
      const a = run();
      const b = run();
      assert.deepEqual(differingWeights(a.toArrays(), b.toArrays()), []);
      const recall = recallAt(new BeamSearch(tree, new NetworkScorer(a, tree)), data.cases, 9, 9);
      assert.ok(recall > 0.5, `recall@9 ${recall.toFixed(3)}`);
      a.dispose();
      b.dispose();
    });
  }

  it('rejects an unknown objective and a bad training beam', () => {
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(9));
    assert.throws(() => trainScorer(tree, net, { sequences: data.sequences }, { objective: 'softmax' }), /objective must be one of tdm, otm, beam, sibling, got "softmax"/);
    assert.throws(() => trainScorer(tree, net, { sequences: data.sequences }, { trainBeam: 0 }), /train-beam/);
    net.dispose();
  });
});
