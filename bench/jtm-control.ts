/**
 * JTM against TDM at equal training: a synthetic catalogue, a category tree
 * and the default scorer (hierarchical user preference on) trained for
 * `--epochs`; then (a) the control, the same network trained `--round-epochs`
 * more per round on the unchanged category tree, and (b) JTM rounds from the
 * same starting weights: tree learning, then `--round-epochs` of training.
 * Beam recall on held-out users after every step, so the two columns differ
 * only in whether the tree was learned.
 *
 *   node dist/bench/jtm-control.js [--items 10000] [--users 2000] [--epochs 4]
 *     [--rounds 2] [--round-epochs 2] [--gap 7] [--oracle]
 *
 * Prints one line per step on stdout (recall@50 / recall@200 in %).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { silentLogger } from '../src/core/log.js';
import { Store, generateSynthetic } from '../src/data/index.js';
import type { EvalReport } from '../src/eval/evaluate.js';
import { readModel } from '../src/model/folder.js';
import { TreeDataset } from '../src/model/dataset.js';
import { createModelFolder, evaluateModel, trainModelFolder } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import { jointTrain } from '../src/trainer/joint.js';
import { trainScorer } from '../src/trainer/train.js';

const fmt = (rep: EvalReport): string =>
  rep.methods.map((m) => `${m.name} ${m.metrics.map((x) => (x.recall * 100).toFixed(2)).join(' / ')}`).join('   ');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      items: { type: 'string', default: '10000' },
      users: { type: 'string', default: '2000' },
      epochs: { type: 'string', default: '4' },
      rounds: { type: 'string', default: '2' },
      'round-epochs': { type: 'string', default: '2' },
      gap: { type: 'string', default: '7' },
      oracle: { type: 'boolean', default: false },
    },
  });
  const n = (k: keyof typeof values) => Number(values[k]);
  await initBackend();
  const work = mkdtempSync(join(tmpdir(), 'arbor-jtm-control-'));
  const store = Store.open(join(work, 'store.db'));
  try {
    store.insertDataset(generateSynthetic({ items: n('items'), users: n('users'), seed: 42 }), 'synthetic');
    store.split({ testUsers: 300, validUsers: 150, seed: 42 });
    const evalOpts = { ks: [50, 200], beam: 400, oracle: Boolean(values.oracle), baselines: [], maxUsers: 0, seed: 42 };
    const dir = join(work, 'tdm');
    await createModelFolder(store, dir, { init: 'category', branching: 2, seed: 42 }, silentLogger);
    await trainModelFolder(store, dir, { train: { epochs: n('epochs'), patience: 1000 }, embDim: 24, seed: 42, hierarchical: true }, silentLogger);
    const tdm = readModel(dir, { requireScorer: true });
    const network = tdm.network!;
    console.log(`TDM, ${n('epochs')} epochs: ${fmt(evaluateModel(store, tdm, evalOpts, silentLogger))}`);
    const start = network.toArrays();
    const data = TreeDataset.of(store, tdm.tree);
    const sequences = data.trainSequences();
    const valid = data.cases('valid').cases;
    for (let r = 1; r <= n('rounds'); r++) {
      trainScorer(tdm.tree, network, { sequences, valid }, { epochs: n('round-epochs'), seed: 42 + r }, silentLogger);
      console.log(`control, +${r * n('round-epochs')} epochs on the category tree: ${fmt(evaluateModel(store, tdm, evalOpts, silentLogger))}`);
    }
    network.restore(start);
    await jointTrain(
      tdm.tree,
      network,
      { sequences, valid },
      { epochs: n('round-epochs'), seed: 42 },
      {
        rounds: n('rounds'),
        gap: n('gap'),
        maxPairsPerItem: 50,
        startTrained: true,
        onRound: (rep, tree, net) => {
          if (rep.round === 0) return;
          const model = { tree, network: net, manifest: { ...tdm.manifest, training: undefined } };
          console.log(`JTM round ${rep.round} (${(rep.moved * 100).toFixed(0)}% of items moved): ${fmt(evaluateModel(store, model, evalOpts, silentLogger))}`);
        },
      },
      silentLogger,
    );
    network.dispose();
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e: Error) => {
  console.error(e.message);
  process.exit(1);
});
