/**
 * Behaviour-type weights: the spec parser and its checks, sample weights
 * from event weights (weight 0 filters, mean 1), the producers' pair
 * weights, the store's weighted sequences, and training with them (seeded,
 * one worker = in-process, uniform weights = no weights, and they change
 * the weights learned).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { UsageError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { checkBehaviorTypes, parseBehaviorWeights } from '../src/data/behavior-weights.js';
import { Store } from '../src/data/store.js';
import { mapSequences } from '../src/model/dataset.js';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork, type NamedArrays } from '../src/scorer/network.js';
import { trainParallel } from '../src/runtime/train-pool.js';
import { makeProducer, type ProducerName } from '../src/trainer/producer.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { trainScorer, type TrainOptions } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { TINY_CONFIG, differingWeights, plantedData, tempDir } from './helpers/training.js';

const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);

describe('--behavior-weights spec', () => {
  it('parses TYPE=WEIGHT pairs; empty means none', () => {
    assert.deepEqual(parseBehaviorWeights('buy=4,cart=2,fav=2,pv=1'), { buy: 4, cart: 2, fav: 2, pv: 1 });
    assert.deepEqual(parseBehaviorWeights(' buy = 0.5 , pv=0 '), { buy: 0.5, pv: 0 });
    assert.deepEqual(parseBehaviorWeights(''), {});
  });
  it('refuses a bad part with a UsageError naming the value', () => {
    assert.throws(() => parseBehaviorWeights('buy=-1'), usage(/--behavior-weights: the weight of "buy" must be a non-negative number, got "-1"/));
    assert.throws(() => parseBehaviorWeights('buy=x'), usage(/weight of "buy" .* got "x"/));
    assert.throws(() => parseBehaviorWeights('buy=Infinity'), usage(/got "Infinity"/));
    assert.throws(() => parseBehaviorWeights('buy='), usage(/got ""/));
    assert.throws(() => parseBehaviorWeights('buy'), usage(/expected TYPE=WEIGHT, got "buy"/));
    assert.throws(() => parseBehaviorWeights('=2'), usage(/empty behaviour type in "=2"/));
    assert.throws(() => parseBehaviorWeights('pv=1,pv=2'), usage(/"pv" is given twice/));
  });
  it('checks the types against the training events', () => {
    const counts = new Map([['pv', 90], ['buy', 10]]);
    checkBehaviorTypes({ buy: 4 }, counts);
    checkBehaviorTypes({ pv: 0 }, counts); // buy is left at 1
    assert.throws(() => checkBehaviorTypes({ fav: 2 }, counts), usage(/unknown behaviour type "fav" \(the training events have "pv", "buy"\)/));
    assert.throws(() => checkBehaviorTypes({ pv: 0, buy: 0 }, counts), usage(/every training event has weight 0/));
  });
});

describe('sample weights from event weights', () => {
  it('a sample weighs its target event, weight 0 leaves it out, the rest scaled to mean 1', () => {
    const sequences = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5)];
    // targets: (0, 1) weight 4, (0, 2) weight 0: dropped, (1, 1) weight 2; the first event of a sequence is never a target
    const s = slidingWindowSamples(sequences, [Float32Array.of(7, 4, 0), Float32Array.of(9, 2)]);
    assert.deepEqual([...s.seq], [0, 1]);
    assert.deepEqual([...s.pos], [1, 1]);
    assert.deepEqual([...s.weight!], [Math.fround(4 / 3), Math.fround(2 / 3)]);
  });
  it('equal weights give the unweighted set; bad weights are refused', () => {
    const sequences = [Int32Array.of(1, 2, 3), Int32Array.of(4, 5)];
    const plain = slidingWindowSamples(sequences);
    const equal = slidingWindowSamples(sequences, [Float32Array.of(0, 3, 3), Float32Array.of(0, 3)]);
    assert.equal(equal.weight, undefined);
    assert.deepEqual([equal.seq, equal.pos], [plain.seq, plain.pos]);
    assert.throws(() => slidingWindowSamples(sequences, [Float32Array.of(1, -1, 1), Float32Array.of(1, 1)]), usage(/sequence 0, event 1: .* got -1/));
    assert.throws(() => slidingWindowSamples(sequences, [Float32Array.of(1, 1)]), usage(/1 weight lists for 2 sequences/));
    assert.throws(() => slidingWindowSamples(sequences, [Float32Array.of(1, 1), Float32Array.of(1, 1)]), usage(/sequence 0: 2 weights for 3 events/));
  });
});

const data = plantedData({ groups: 8, groupSize: 8, users: 120, testUsers: 24, length: 14, seed: 31 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
/** Every third event weighs 3, the others 1 (a stand-in for rarer, stronger behaviour types). */
const eventWeights = data.sequences.map((s, u) => Float32Array.from(s, (_, t) => ((u + t) % 3 === 0 ? 3 : 1)));

describe('producers weight every pair of a sample by its weight', () => {
  before(async () => {
    await initBackend();
  });
  for (const objective of ['tdm', 'sibling'] as ProducerName[]) {
    for (const hierarchical of [false, true]) {
      it(`${objective}${hierarchical ? ', hierarchical' : ''}: pair weights = sample weight × the unweighted run's pair weights, same pairs`, () => {
        const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical }, tree.layout.numInternal, tree.numItems, new Rng(1));
        const weighted = slidingWindowSamples(data.sequences, eventWeights);
        const plain = { ...weighted, weight: undefined };
        const ctx = { tree, network: net, negatives: negativesPerLevel(tree), seed: 3, trainBeam: 2, pathWeight: 1 };
        const order = Int32Array.from({ length: 40 }, (_, i) => i * 7);
        const a = makeProducer(objective, { ...ctx, samples: weighted }).produce(order, 1, 0);
        const copy = { pairs: a.pairs, codes: a.codes.slice(0, a.pairs), labels: a.labels.slice(0, a.pairs), weights: a.weights!.slice(0, a.pairs), groups: a.groups };
        const b = makeProducer(objective, { ...ctx, samples: plain }).produce(order, 1, 0);
        assert.equal(b.pairs, copy.pairs);
        assert.deepEqual(b.codes.slice(0, b.pairs), copy.codes);
        assert.deepEqual(b.labels.slice(0, b.pairs), copy.labels);
        // which sample a pair belongs to, in either layout
        const m = b.pairs / order.length;
        const sampleOf = (p: number) => {
          if (!hierarchical) return Math.floor(p / m);
          let at = 0;
          for (const g of b.groups) {
            if (p < at + g.users * g.m) return Math.floor((p - at) / g.m);
            at += g.users * g.m;
          }
          throw new Error('pair outside the groups');
        };
        let heavy = 0;
        for (let p = 0; p < copy.pairs; p++) {
          const w = weighted.weight![order[sampleOf(p)]];
          const own = b.weights ? b.weights[p] : 1;
          assert.equal(copy.weights[p], Math.fround(own * w), `pair ${p}`);
          if (w > 1) heavy++;
        }
        assert.ok(heavy > 0 && heavy < copy.pairs);
        net.dispose();
      });
    }
  }
});

describe('training with behaviour weights', () => {
  const OPTS: Partial<TrainOptions> = { epochs: 1, batchSize: 48, seed: 5, validK: 8 };
  before(async () => {
    await initBackend();
  });
  async function run(workers: number, targetWeights?: Float32Array[]): Promise<NamedArrays> {
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(9));
    try {
      const d = { sequences: data.sequences, valid: data.cases, ...(targetWeights ? { targetWeights } : {}) };
      if (workers === 0) trainScorer(tree, net, d, OPTS);
      else await trainParallel(tree, net, d, { ...OPTS, workers });
      return net.toArrays();
    } finally {
      net.dispose();
    }
  }
  it('is seeded, one worker gives the in-process weights, uniform weights are the unweighted run, others differ', async () => {
    const inProcess = await run(0, eventWeights);
    assert.deepEqual(differingWeights(inProcess, await run(0, eventWeights)), []);
    assert.deepEqual(differingWeights(inProcess, await run(1, eventWeights)), []);
    const plain = await run(0);
    assert.deepEqual(differingWeights(plain, await run(0, data.sequences.map((s) => new Float32Array(s.length).fill(2)))), []);
    assert.ok(differingWeights(plain, inProcess).length > 0);
  });
  it('the attention scorer refuses sample weights', () => {
    const net = ScorerNetwork.init({ ...TINY_CONFIG, kind: 'attention' }, tree.layout.numInternal, tree.numItems, new Rng(9));
    try {
      assert.throws(() => trainScorer(tree, net, { sequences: data.sequences, targetWeights: eventWeights }, OPTS), usage(/attention scorer trains without sample weights/));
    } finally {
      net.dispose();
    }
  });
});

describe('the store: weighted sequences and behaviour counts', () => {
  const { dir, cleanup } = tempDir('arbor-bw-');
  after(cleanup);
  it('weights follow the events in time order, and the items the tree keeps', () => {
    const store = Store.open(join(dir, 's.db'));
    try {
      const ds = {
        items: [{ id: 'a', category: 'c' }, { id: 'b', category: 'c' }, { id: 'c', category: 'd' }],
        events: [
          { user: 'u', item: 'b', behavior: 'buy', ts: 2 },
          { user: 'u', item: 'a', behavior: 'pv', ts: 1 },
          { user: 'u', item: 'c', behavior: 'cart', ts: 3 },
          { user: 'v', item: 'a', behavior: 'pv', ts: 1 },
        ],
      };
      store.insertDataset(ds as never, 'test');
      assert.deepEqual([...store.behaviorCounts()], [['pv', 2], ['buy', 1], ['cart', 1]]);
      const seqs = store.sequences(['train'], { behaviorWeights: new Map([['buy', 4], ['cart', 0]]) });
      const u = seqs.find((s) => s.user === 'u')!;
      assert.deepEqual([...u.weights!], [1, 4, 0]);
      assert.equal(store.sequences(['train'])[0].weights, undefined);
      // a map that drops item b keeps a's and c's weights
      const map = Int32Array.from(store.catalogue().itemIds, (id) => (id === 'b' ? -1 : id === 'a' ? 0 : 1));
      const mapped = mapSequences([u], map)[0];
      assert.deepEqual([...mapped.items], [0, 1]);
      assert.deepEqual([...mapped.weights!], [1, 0]);
    } finally {
      store.close();
    }
  });
});
