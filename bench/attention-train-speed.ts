/**
 * Attention training speed, side by side (`node dist/bench/attention-train-speed.js`):
 * on each data set's training sequences (same store, split and category
 * tree as the ablation), the attention training step in each of its modes
 * trains a fresh copy of the same initial network on the same batches;
 * the modes take turns, several rounds, and the median samples/s per mode
 * is printed as one JSON document on stdout (the run recorded in docs/bench/attention/train-speed.json).
 *
 * Modes: `padded` (the whole batch padded to its longest history: the step
 * as first built) and `bucketed` (the default: the batch sorted by history
 * length, cut into parts each padded to its own longest history).
 *
 * Flags: --datasets DIR (default ../shared/datasets), --only a,b,
 * --batches N per mode and round (default 12), --rounds N (default 3).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../src/core/rng.js';
import { Store, generateSynthetic, type InputFormat } from '../src/data/index.js';
import { buildTreeFromStore } from '../src/pipeline/ops.js';
import { TreeDataset } from '../src/model/dataset.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG, type ScorerConfig } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { AttentionStepper, type AttentionStepOptions } from '../src/trainer/attention-step.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';
import { shuffledOrder, slidingWindowSamples } from '../src/trainer/samples.js';
import { SparseAdam } from '../src/trainer/sparse-adam.js';

interface Spec {
  name: string;
  file?: string;
  format?: InputFormat;
  items?: string;
  minRating?: number;
  testUsers: number;
  validUsers: number;
}

/** The ablation's data sets (same files, split sizes and seed). */
const SPECS: Spec[] = [
  { name: 'synthetic', testUsers: 200, validUsers: 100 },
  { name: 'taobao', file: 'taobao-userbehavior/UserBehavior_prefix_814users.csv', format: 'userbehavior', testUsers: 150, validUsers: 60 },
  { name: 'movielens', file: 'movielens-1m-part/ratings.dat', format: 'movielens', items: 'movielens-1m-part/movies.dat', minRating: 4, testUsers: 300, validUsers: 100 },
  { name: 'amazon', file: 'amazon-beauty/Beauty.txt', format: 'sequence', items: 'amazon-beauty/Beauty_item2attributes.json', testUsers: 1000, validUsers: 300 },
];

const MODES: { name: string; opts: AttentionStepOptions }[] = [
  { name: 'padded', opts: { bucketed: false } },
  { name: 'bucketed', opts: { bucketed: true } },
];

const BATCH = 256;
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      datasets: { type: 'string', default: '../shared/datasets' },
      only: { type: 'string' },
      batches: { type: 'string', default: '12' },
      rounds: { type: 'string', default: '3' },
    },
  });
  const backend = await initBackend();
  const batches = Number(values.batches);
  const rounds = Number(values.rounds);
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const results: Record<string, unknown>[] = [];
  for (const spec of SPECS) {
    if (only && !only.has(spec.name)) continue;
    if (spec.file && !existsSync(join(values.datasets!, spec.file))) continue;
    const work = mkdtempSync(join(tmpdir(), `arbor-attspeed-${spec.name}-`));
    const store = Store.open(join(work, 'store.db'));
    try {
      if (spec.file) {
        await store.ingest(join(values.datasets!, spec.file), spec.format!, { items: spec.items ? join(values.datasets!, spec.items) : undefined, minRating: spec.minRating });
      } else store.insertDataset(generateSynthetic({ items: 10000, users: 2000, seed: 42 }), 'synthetic');
      store.split({ testUsers: spec.testUsers, validUsers: spec.validUsers, seed: 42 });
      const tree = buildTreeFromStore(store, { init: 'category', branching: 2, seed: 42 });
      const samples = slidingWindowSamples(TreeDataset.of(store, tree).trainSequences());
      const negs = negativesPerLevel(tree, 'auto');
      const order = shuffledOrder(samples.seq.length, new Rng(7)).subarray(0, batches * BATCH);
      const config: ScorerConfig = { ...DEFAULT_SCORER_CONFIG, kind: 'attention', embDim: 24 };
      const init = ScorerNetwork.init(config, tree.layout.numInternal, tree.numItems, new Rng(42));
      const arrays = init.toArrays();
      init.dispose();
      const times = MODES.map(() => [] as number[]);
      for (let r = 0; r < rounds; r++) {
        MODES.forEach((mode, k) => {
          const net = ScorerNetwork.fromArrays(config, tree.layout.numInternal, tree.numItems, arrays, '(bench)');
          const opt = tf.train.adam(0.01);
          const step = new AttentionStepper(tree, net, samples, negs, 5, BATCH, mode.opts);
          const emb = new SparseAdam(net.emb, config.embDim, 0.01);
          const t0 = process.hrtime.bigint();
          for (let b = 0; b < batches; b++) step.step(order.subarray(b * BATCH, (b + 1) * BATCH), opt, emb);
          times[k].push(Number(process.hrtime.bigint() - t0) / 1e9);
          opt.dispose();
          net.dispose();
        });
      }
      const meanHistory = Array.from(order, (s) => Math.min(samples.pos[s], 69)).reduce((a, b) => a + b, 0) / order.length;
      const row = {
        dataset: spec.name,
        samples: order.length,
        meanHistorySlots: Number(meanHistory.toFixed(1)),
        modes: MODES.map((mode, k) => ({ mode: mode.name, samplesPerSecond: Math.round(order.length / median(times[k])), seconds: times[k].map((t) => Number(t.toFixed(2))) })),
      };
      process.stderr.write(JSON.stringify(row) + '\n');
      results.push(row);
    } finally {
      store.close();
      rmSync(work, { recursive: true, force: true });
    }
  }
  process.stdout.write(JSON.stringify({ backend, batchSize: BATCH, batches, rounds, results }, null, 2) + '\n');
}

await main();
