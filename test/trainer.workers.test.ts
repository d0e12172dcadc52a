/**
 * Data-parallel training on worker threads: the same seed and worker count
 * give the same weights; one worker gives the in-process trainer's weights
 * bit for bit; two workers draw the same pairs as one, so their weights
 * differ only by float rounding; the reduction sums in shard order; no tfjs
 * tensors leak; an aborted barrier wakes its waiters.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork, type NamedArrays } from '../src/scorer/network.js';
import { Barrier } from '../src/runtime/barrier.js';
import { trainParallel } from '../src/runtime/train-pool.js';
import { makeProducer, type ShardBatch } from '../src/trainer/producer.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';
import { ALL_ROWS, flatSize, reduceFlat, reduceRows } from '../src/trainer/reduce.js';
import { RowGradients, rowCapacity } from '../src/trainer/row-gradients.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { SparseAdam } from '../src/trainer/sparse-adam.js';
import { FlatAdam } from '../src/trainer/flat-adam.js';
import { ownsRow, ROW_BLOCK_SHIFT } from '../src/trainer/updater.js';
import { StepEngine } from '../src/trainer/step-engine.js';
import { epochOrder } from '../src/trainer/streams.js';
import { trainScorer, type TrainOptions, type TrainSummary } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { TINY_CONFIG, differingWeights, plantedData } from './helpers/training.js';

const data = plantedData({ groups: 8, groupSize: 8, users: 120, testUsers: 24, length: 14, seed: 31 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
const OPTS: Partial<TrainOptions> = { epochs: 2, batchSize: 48, seed: 5, validK: 8 };

before(async () => {
  await initBackend();
});

/** Trains a fresh network (same initial weights every time) with `workers` threads (0: in-process); returns its weights and summary. */
async function run(workers: number, hierarchical = false, opts: Partial<TrainOptions> = {}): Promise<{ weights: NamedArrays; summary: TrainSummary }> {
  const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical }, tree.layout.numInternal, tree.numItems, new Rng(9));
  try {
    const d = { sequences: data.sequences, valid: data.cases };
    const o = { ...OPTS, ...opts };
    const summary = workers === 0 ? trainScorer(tree, net, d, o) : await trainParallel(tree, net, d, { ...o, workers });
    return { weights: net.toArrays(), summary };
  } finally {
    net.dispose();
  }
}

/** Largest |a − b| over every weight. */
function maxDifference(a: NamedArrays, b: NamedArrays): number {
  let max = 0;
  for (const [name, x] of a) {
    const y = b.get(name)!.data;
    for (let i = 0; i < x.data.length; i++) max = Math.max(max, Math.abs(x.data[i] - y[i]));
  }
  return max;
}

describe('data-parallel training', () => {
  it('the same seed and worker count give identical weights and losses (two workers, run twice)', async () => {
    const a = await run(2);
    const b = await run(2);
    assert.equal(a.summary.options.workers, 2);
    assert.deepEqual(differingWeights(a.weights, b.weights), []);
    assert.deepEqual(a.summary.epochs.map((e) => [e.loss, e.validRecall]), b.summary.epochs.map((e) => [e.loss, e.validRecall]));
    assert.equal(a.summary.profile!.length, 2);
  });

  for (const hierarchical of [false, true]) {
    it(`one worker gives the in-process trainer's weights bit for bit (${hierarchical ? 'hierarchical user preference' : 'plain scorer'})`, async () => {
      const inProcess = await run(0, hierarchical);
      const one = await run(1, hierarchical);
      assert.equal(inProcess.summary.options.workers, 0);
      assert.equal(one.summary.options.workers, 1);
      assert.deepEqual(differingWeights(inProcess.weights, one.weights), []);
      assert.deepEqual(one.summary.epochs.map((e) => [e.loss, e.validRecall]), inProcess.summary.epochs.map((e) => [e.loss, e.validRecall]));
    });
  }

  it('two workers draw the same pairs as one: weights agree up to float rounding, unlike another seed', async () => {
    const one = await run(1, true);
    const two = await run(2, true);
    const otherSeed = await run(1, true, { seed: 6 });
    const rounding = maxDifference(one.weights, two.weights);
    const seed = maxDifference(one.weights, otherSeed.weights);
    assert.ok(rounding < 1e-3, `one vs two workers: max weight difference ${rounding}`);
    assert.ok(seed > 100 * rounding && seed > 1e-2, `another seed moves the weights by ${seed}, the split by ${rounding}`);
    one.summary.epochs.forEach((e, i) => assert.ok(Math.abs(e.loss - two.summary.epochs[i].loss) < 1e-4, `epoch ${e.epoch} loss ${e.loss} vs ${two.summary.epochs[i].loss}`));
  });

  it('the attention scorer trains on the calling thread, with a note', async () => {
    const net = ScorerNetwork.init({ ...TINY_CONFIG, kind: 'attention', attentionUnits: 4 }, tree.layout.numInternal, tree.numItems, new Rng(9));
    const notes: string[] = [];
    const logger = { info: (m: string) => notes.push(m), warn: () => {}, progress: () => ({ update() {}, stop() {} }) };
    try {
      const s = await trainParallel(tree, net, { sequences: data.sequences }, { ...OPTS, epochs: 1, workers: 2 }, logger);
      assert.equal(s.options.workers, 0);
      assert.ok(notes.some((m) => /attention scorer trains on the calling thread/.test(m)), notes.join('\n'));
    } finally {
      net.dispose();
    }
  });

  it('rejects a bad worker count', async () => {
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(9));
    try {
      await assert.rejects(trainParallel(tree, net, { sequences: data.sequences }, { workers: -1 }), /workers must be a non-negative integer, got -1/);
      await assert.rejects(trainParallel(tree, net, { sequences: data.sequences }, { workers: 1.5 }), /workers must be a non-negative integer/);
    } finally {
      net.dispose();
    }
  });
});

describe('the level-wise (tdm) producer', () => {
  const samples = slidingWindowSamples(data.sequences);
  const negs = negativesPerLevel(tree, 'auto');
  const m = negs.reduce((a, x) => a + x + 1, 0);
  const depth = tree.layout.depth;
  const producerFor = (hierarchical: boolean) => {
    const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical }, tree.layout.numInternal, tree.numItems, new Rng(1));
    net.dispose(); // the producer reads only the config and sizes
    return makeProducer('tdm', { tree, network: net, samples, negatives: negs, seed: 4, trainBeam: 4, pathWeight: 1 });
  };
  /** Each sample's pairs as "code:label" strings, level by level, from a batch of either layout. */
  const pairsOf = (b: ShardBatch, nb: number, hierarchical: boolean): string[][] =>
    Array.from({ length: nb }, (_, i) => {
      const out: string[] = [];
      let groupStart = 0;
      for (let l = 1; l <= depth; l++) {
        const width = negs[l - 1] + 1;
        const levelStart = negs.slice(0, l - 1).reduce((a, x) => a + x + 1, 0);
        const at = hierarchical ? groupStart + i * width : i * m + levelStart;
        for (let j = 0; j < width; j++) out.push(`${b.codes[at + j]}:${b.labels[at + j]}`);
        groupStart += nb * width;
      }
      return out;
    });
  const order = epochOrder(4, 3, samples.seq.length).subarray(0, 20);

  it('a sample gets the same pairs however the batch is split (the draws follow the sample, not the shard)', () => {
    const p = producerFor(true);
    const whole = pairsOf(p.produce(order, 3, 100), 20, true);
    const head = pairsOf(p.produce(order.subarray(0, 7), 3, 100), 7, true);
    const tail = pairsOf(p.produce(order.subarray(7), 3, 107), 13, true);
    assert.deepEqual([...head, ...tail], whole);
    // another epoch or position draws differently
    assert.notDeepEqual(pairsOf(p.produce(order, 4, 100), 20, true), whole);
  });

  it('the plain and the hierarchical layout draw the same pairs; slots, groups and the user map fit the layout', () => {
    const plain = producerFor(false).produce(order, 1, 0);
    const plainPairs = pairsOf(plain, 20, false);
    const hier = producerFor(true).produce(order, 1, 0);
    assert.deepEqual(pairsOf(hier, 20, true), plainPairs);
    assert.deepEqual([plain.slots, plain.pairs, plain.groups], [20, 20 * m, [{ users: 20, m }]]);
    assert.deepEqual([hier.slots, hier.pairs, hier.groups.length], [20 * depth, 20 * m, depth]);
    // every positive is an ancestor of the target, on its level
    order.forEach((sample, i) => {
      const path = tree.pathOf(samples.sequences[samples.seq[sample]][samples.pos[sample]]);
      let k = 0;
      for (let l = 1; l <= depth; l++) {
        assert.equal(plainPairs[i][k], `${path[l]}:1`);
        k += negs[l - 1] + 1;
      }
    });
    // the user map: the hierarchical one has depth times the plain one's entries, each slot's scales summing to its windows
    assert.equal(hier.entries, depth * plain.entries);
    const userDim = TINY_CONFIG.windows.length * TINY_CONFIG.embDim;
    const sums = new Map<number, number>();
    for (let e = 0; e < plain.entries; e++) sums.set(plain.entryOffset[e], (sums.get(plain.entryOffset[e]) ?? 0) + plain.entryScale[e]);
    for (const [offset, sum] of sums) {
      assert.ok(Math.abs(sum - 1) < 1e-6, `window at ${offset} sums its scales to ${sum}`);
      assert.ok(offset < 20 * userDim);
    }
  });
});

describe('reduction in shard order', () => {
  it('reduceFlat sums shard 0, then 1, then 2 (float addition is not associative), then scales', () => {
    const shards = [Float32Array.of(1e8, 3), Float32Array.of(1, 5), Float32Array.of(-1e8, 0)];
    // (1e8 + 1) rounds back to 1e8 in float32, so left to right gives 0; (1e8 − 1e8) + 1 would give 1
    assert.deepEqual(Array.from(reduceFlat(shards, 0.5, new Float32Array(2))), [0, 4]);
    assert.deepEqual(Array.from(reduceFlat([shards[0], shards[2], shards[1]], 1, new Float32Array(2))), [1, 8]);
  });

  it('reduceRows feeds each row\'s gradients shard by shard, only the rows of the thread\'s share', () => {
    const dim = 2;
    const shard = (rows: number[]) => {
      const g = RowGradients.local(8, dim, 30);
      rows.forEach((r) => g.add(r, Float32Array.of(r, 10 * r), 0, 1));
      return g;
    };
    // rows 3 and 1 in block 0 (thread 0 of 2), 20 and 22 in block 1 (thread 1)
    const shards = [shard([3, 20, 1]), shard([20, 22])];
    const calls: string[] = [];
    const rec = { accumulate: (row: number, g: Float32Array, off: number, scale: number) => calls.push(`${row}:${g[off] * scale},${g[off + 1] * scale}`), apply() {} };
    reduceRows(shards, rec, 0.5, ALL_ROWS);
    assert.deepEqual(calls, ['3:1.5,15', '20:10,100', '1:0.5,5', '20:10,100', '22:11,110']);
    calls.length = 0;
    reduceRows(shards, rec, 1, { index: 1, count: 2 });
    assert.deepEqual(calls, ['20:20,200', '20:20,200', '22:22,220']);
    calls.length = 0;
    reduceRows(shards, rec, 1, { index: 0, count: 2 });
    assert.deepEqual(calls, ['3:3,30', '1:1,10']);
  });

  it('RowGradients sums repeated rows in place and clears between steps', () => {
    const g = RowGradients.local(2, 2, 5);
    g.add(4, Float32Array.of(1, 2), 0, 1);
    g.add(4, Float32Array.of(9, 1, 1), 1, 2);
    assert.equal(g.count, 1);
    assert.deepEqual(Array.from(g.values.subarray(0, 2)), [3, 4]);
    g.clear();
    g.add(2, Float32Array.of(5, 5), 0, 1);
    assert.deepEqual([g.count, g.rows[0], ...g.values.subarray(0, 2)], [1, 2, 5, 5]);
    g.add(0, Float32Array.of(1, 1), 0, 1);
    assert.throws(() => g.add(1, Float32Array.of(1, 1), 0, 1), /more than 2 embedding rows/);
  });
});

describe('no tensor leaks', () => {
  it('steps of two shards on one thread (what a worker runs) leave tf.memory().numTensors flat', () => {
    const net = ScorerNetwork.init({ ...TINY_CONFIG, hierarchical: true }, tree.layout.numInternal, tree.numItems, new Rng(2));
    const samples = slidingWindowSamples(data.sequences);
    const negs = negativesPerLevel(tree, 'auto');
    const producer = makeProducer('tdm', { tree, network: net, samples, negatives: negs, seed: 1, trainBeam: 4, pathWeight: 1 });
    const size = flatSize(net.variables());
    const mlpAdam = new FlatAdam(size, 0.01);
    const mlpWeights = new Float32Array(size);
    const embAdam = new SparseAdam(net.emb, TINY_CONFIG.embDim, 0.01);
    const rows = rowCapacity(producer.capacity(16), net.numRows);
    const engines = [0, 1].map(
      () =>
        new StepEngine({
          tree,
          network: net,
          producer,
          shardCapacity: 16,
          mlpAdam,
          mlpWeights,
          embedding: embAdam,
          mlpGrad: new Float32Array(size),
          rowGrad: RowGradients.local(rows, TINY_CONFIG.embDim, net.numRows),
        }),
    );
    const order = epochOrder(1, 1, samples.seq.length);
    const step = (s: number) => {
      const r = engines.map((e, i) => e.compute(order.subarray(32 * s + 16 * i, 32 * s + 16 * (i + 1)), 1, 32 * s + 16 * i));
      engines[0].update(engines.map((e) => e.mlpGrad), engines.map((e) => e.rowGrad), r[0].pairs + r[1].pairs);
      engines[0].syncWeights();
    };
    engines[0].startEpoch();
    try {
      step(0);
      const start = tf.memory().numTensors;
      for (let s = 1; s < 8; s++) step(s);
      assert.equal(tf.memory().numTensors, start);
    } finally {
      net.dispose();
    }
  });

  it('trainParallel leaves the calling thread\'s tensors flat', async () => {
    const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(3));
    try {
      const start = tf.memory().numTensors;
      await trainParallel(tree, net, { sequences: data.sequences, valid: data.cases }, { ...OPTS, workers: 2 });
      assert.equal(tf.memory().numTensors, start);
    } finally {
      net.dispose();
    }
  });
});

describe('Barrier', () => {
  const threads: Worker[] = [];
  after(() => Promise.all(threads.map((w) => w.terminate())));

  it('releases all parties together, and abort() wakes a waiter with an error', { timeout: 30_000 }, async () => {
    const cells = Barrier.cells();
    const url = new URL('../src/runtime/barrier.js', import.meta.url).href;
    // two threads pass the barrier together; then the one with waitAgain waits alone until this thread aborts
    const code = `const { parentPort, workerData } = require('node:worker_threads');
       import(workerData.url).then(({ Barrier }) => {
         const b = new Barrier(workerData.cells, 2);
         b.wait();
         parentPort.postMessage('passed');
         if (!workerData.waitAgain) return;
         try { b.wait(); parentPort.postMessage('released'); } catch (e) { parentPort.postMessage(e.name + ': ' + e.message); }
       });`;
    const messages = (w: Worker, n: number) =>
      new Promise<string[]>((resolve, reject) => {
        const got: string[] = [];
        w.on('message', (m: string) => {
          got.push(m);
          if (got.length === n) resolve(got);
        });
        w.on('error', reject);
      });
    const waiter = new Worker(code, { eval: true, workerData: { url, cells, waitAgain: true } });
    threads.push(waiter);
    const fromWaiter = messages(waiter, 2);
    const other = new Worker(code, { eval: true, workerData: { url, cells, waitAgain: false } });
    threads.push(other);
    assert.deepEqual(await messages(other, 1), ['passed']);
    const barrier = new Barrier(cells, 2);
    // give the waiter time to reach its second wait, then abort
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(barrier.aborted, false);
    barrier.abort();
    assert.deepEqual(await fromWaiter, ['passed', 'BarrierAborted: training was aborted by another thread']);
    assert.equal(barrier.aborted, true);
  });
});

it('sparse Adam: applyShards equals reduceRows then apply, bit for bit, with one or three shards, whole table or a share of the rows', () => {
  const dim = 3;
  const rows = 60;
  const rng = new Rng(4);
  const start = Float32Array.from({ length: rows * dim }, () => rng.normal());
  // rows 2 and 17 in two shards, 21 in all three; 7, 40, 1, 55, 33 in one
  const touched = [[7, 2, 21, 2, 40, 17, 1, 55], [21, 17, 33], [2, 21]];
  for (const shardCount of [1, 3]) {
    for (const share of [ALL_ROWS, { index: 1, count: 3 }, { index: 0, count: 2 }]) {
      const a = new SparseAdam(new Float32Array(start), dim, 0.05);
      const b = new SparseAdam(new Float32Array(start), dim, 0.05);
      for (let step = 0; step < 4; step++) {
        const shards = touched.slice(0, shardCount).map((list) => {
          const g = RowGradients.local(rows, dim, rows);
          for (const r of list.slice(step % 2)) g.add(r, Float32Array.from({ length: dim }, () => rng.normal()), 0, 1);
          return g;
        });
        reduceRows(shards, a, 0.37, share);
        a.apply();
        b.applyShards(shards, 0.37, share);
        assert.deepEqual(b.table, a.table, `${shardCount} shard(s), share ${share.index}/${share.count}, step ${step}`);
        assert.deepEqual(b.saveState().arrays, a.saveState().arrays);
      }
      assert.notDeepEqual(a.table, start);
    }
  }
});

it('rows are dealt to threads in blocks of 16: each row to exactly one thread, each thread a whole number of 64-byte lines', () => {
  for (const count of [1, 2, 3]) {
    for (let row = 0; row < 200; row++) {
      const owners = Array.from({ length: count }, (_, index) => index).filter((index) => ownsRow({ index, count }, row));
      assert.equal(owners.length, 1, `row ${row} of ${count} threads`);
      assert.equal(owners[0], Math.floor(row / 16) % count, `row ${row}`);
    }
  }
  // a block of 16 rows of any width is a whole number of cache lines
  for (const dim of [1, 3, 24, 33]) assert.equal(((1 << ROW_BLOCK_SHIFT) * dim * 4) % 64, 0);
});
