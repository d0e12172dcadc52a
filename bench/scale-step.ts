/**
 * One step of the scale bench in a process of its own, so that its peak
 * resident memory is its own: `node dist/bench/scale-step.js STEP JSON`,
 * where JSON holds the paths and settings (see {@link StepArgs}). Each step
 * goes through the library's pipeline functions (Store.ingest, Store.split,
 * createModelFolder, trainModelFolder, evaluateModel), as `arbor ingest`,
 * `split`, `build-tree`, `train` and `eval` do. Prints one JSON line on
 * stdout: the step's seconds (the call itself, without the process's
 * start-up), the process's peak RSS (getrusage) and what the step reports.
 */
import { stderrLogger } from '../src/core/log.js';
import { Store } from '../src/data/index.js';
import { readModel } from '../src/model/folder.js';
import { createModelFolder, evaluateModel, trainModelFolder } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';

/** What every step is given. */
export interface StepArgs {
  csv: string;
  db: string;
  model: string;
  seed: number;
  testUsers: number;
  validUsers: number;
  trainSamples: number;
  evalUsers: number;
  k: number;
  beam: number;
}

/** What a step prints. */
export interface StepResult {
  seconds: number;
  peakRssMiB: number;
  details: Record<string, unknown>;
}

async function run(step: string, a: StepArgs): Promise<Record<string, unknown>> {
  const logger = stderrLogger();
  if (step === 'ingest') {
    const store = Store.open(a.db);
    try {
      const r = await store.ingest(a.csv, 'userbehavior', { logger });
      return { rowsRead: r.rowsRead, events: r.eventsInserted, users: r.usersInserted, items: r.itemsInserted, categories: r.categoriesInserted };
    } finally {
      store.close();
    }
  }
  const store = Store.open(a.db, { mustExist: true });
  try {
    if (step === 'split') return { ...store.split({ testUsers: a.testUsers, validUsers: a.validUsers, seed: a.seed }) };
    if (step === 'build-tree') {
      const m = await createModelFolder(store, a.model, { init: 'category', branching: 2, seed: a.seed }, logger);
      return { depth: m.tree.depth, items: m.tree.numItems };
    }
    const backend = await initBackend();
    if (step === 'train') {
      const { summary } = await trainModelFolder(store, a.model, { train: { epochs: 1, maxSamplesPerEpoch: a.trainSamples }, embDim: 24, seed: a.seed, hierarchical: true }, logger);
      return {
        backend,
        workers: summary.options.workers,
        trainSequences: summary.trainSequences,
        samplesPerEpoch: summary.samplesPerEpoch,
        pairsPerSample: summary.pairsPerSample,
        samplesPerSecond: summary.samplesPerSecond,
        pairsPerSecond: summary.pairsPerSecond,
        trainSeconds: summary.seconds,
        validRecall: summary.epochs[summary.epochs.length - 1]?.validRecall,
      };
    }
    if (step === 'eval') {
      const model = readModel(a.model);
      try {
        const r = evaluateModel(store, model, { ks: [a.k], beam: a.beam, oracle: false, baselines: ['popularity'], maxUsers: a.evalUsers, seed: a.seed }, logger);
        return {
          backend,
          users: r.users,
          k: a.k,
          methods: r.methods.map((m) => ({ name: m.name, beam: m.beam, recall: m.metrics[0]?.recall, pairsPerQuery: m.pairsPerQuery, msPerQuery: m.msPerQuery.mean })),
        };
      } finally {
        model.network?.dispose();
      }
    }
    throw new Error(`unknown step ${step}`);
  } finally {
    store.close();
  }
}

const [step, json] = process.argv.slice(2);
const t0 = performance.now();
const details = await run(step, JSON.parse(json) as StepArgs);
const result: StepResult = { seconds: (performance.now() - t0) / 1000, peakRssMiB: process.resourceUsage().maxRSS / 1024, details };
process.stdout.write(JSON.stringify(result) + '\n');
