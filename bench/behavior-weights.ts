/**
 * Behaviour-type weights measured on the Taobao UserBehavior prefix: the
 * default model trained with every event weighing 1 against the same model
 * trained with `--behavior-weights` variants (same split, tree, seed and
 * epochs). Each variant's beam recall is compared with the default's,
 * paired over users with a 95 % bootstrap interval, first on the
 * validation users (where a default is chosen) and then on the test users;
 * also on the test users' "strong" truth (their second-half items bought,
 * carted or favoured), which is what the weights aim at.
 *
 *   node --expose-gc dist/bench/behavior-weights.js --datasets ../shared/datasets --out /tmp/bw
 *
 * Writes OUT/behavior-weights.json and prints a markdown table on stdout.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { stderrLogger } from '../src/core/log.js';
import { Store } from '../src/data/store.js';
import { halfSplit } from '../src/data/split.js';
import { parseBehaviorWeights, type BehaviorWeights } from '../src/data/behavior-weights.js';
import { evaluate, type EvalReport } from '../src/eval/evaluate.js';
import { pairedRatio, type PairedRatio } from '../src/eval/paired.js';
import { readModel } from '../src/model/folder.js';
import { TreeDataset, mapCases } from '../src/model/dataset.js';
import { networkSearch } from '../src/beam/network-search.js';
import { createModelFolder, trainModelFolder } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import type { TrainSummary } from '../src/trainer/train.js';
import type { EvalCase } from '../src/data/types.js';

const FILE = 'taobao-userbehavior/UserBehavior_prefix_814users.csv';
const KS = [50, 200];
const BEAM = 400;

/** One trained variant and its figures. */
interface Variant {
  name: string;
  weights: BehaviorWeights;
  trainSeconds: number;
  samplesPerEpoch: number;
  bestEpoch: number;
  /** Validation recall@50 the trainer saw per epoch. */
  trainerValidRecall: (number | undefined)[];
  /** Mean recall at each k on the validation users, the test users, and the test users' strong truth. */
  valid: Record<string, number>;
  test: Record<string, number>;
  strong: Record<string, number>;
  /** Ratios over the default, paired over users, at each k. */
  vsDefault?: { valid: Record<string, PairedRatio>; test: Record<string, PairedRatio>; strong: Record<string, PairedRatio> };
}

/** Per-user recall arrays of the one method in `r`, keyed by k. */
function perUser(r: EvalReport): Record<string, number[]> {
  const m = r.methods[0];
  return Object.fromEntries(m.metrics.map((x, i) => [String(x.k), m.userRecall![i]]));
}

const means = (u: Record<string, number[]>) => Object.fromEntries(Object.entries(u).map(([k, xs]) => [k, xs.reduce((a, b) => a + b, 0) / xs.length]));

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      datasets: { type: 'string', default: resolve('..', 'shared', 'datasets') },
      out: { type: 'string', default: 'bench-out' },
      epochs: { type: 'string', default: '2' },
      'test-users': { type: 'string', default: '150' },
      'valid-users': { type: 'string', default: '150' },
      variants: { type: 'string', default: 'weighted:buy=4,cart=2,fav=2,pv=1;filter:pv=0' },
    },
  });
  const log = stderrLogger();
  const backend = await initBackend();
  log.info(`behaviour weights bench: tfjs backend ${backend}`);
  const variants = [{ name: 'default', weights: {} as BehaviorWeights }, ...values.variants!.split(';').filter((v) => v.trim() !== '').map((v) => {
    const at = v.indexOf(':');
    return { name: v.slice(0, at), weights: parseBehaviorWeights(v.slice(at + 1)) };
  })];
  const work = mkdtempSync(join(tmpdir(), 'arbor-bw-'));
  const store = Store.open(join(work, 'store.db'));
  const results: Variant[] = [];
  const userFigures: { valid: Record<string, number[]>; test: Record<string, number[]>; strong: Record<string, number[]> }[] = [];
  try {
    await store.ingest(join(values.datasets!, FILE), 'userbehavior', { logger: log });
    const split = store.split({ testUsers: Number(values['test-users']), validUsers: Number(values['valid-users']), seed: 42 });
    log.info(`split: ${split.trainUsers} train / ${split.validUsers} validation / ${split.testUsers} test users; training events by type: ${[...store.behaviorCounts(['train'])].map(([t, n]) => `${t} ${n}`).join(', ')}`);
    // the test users' strong truth: second-half items whose event is not a page view
    const strongMap = new Map([['pv', 0]]);
    const strongCases: EvalCase[] = store.sequences(['test'], { behaviorWeights: strongMap }).map((s) => {
      const { history } = halfSplit(s.items);
      const cut = history.length;
      const truth = new Set<number>();
      for (let j = cut; j < s.items.length; j++) if (s.weights![j] > 0) truth.add(s.items[j]);
      return { user: s.user, history, truth: Int32Array.from(truth) };
    });
    for (const v of variants) {
      const dir = join(work, v.name);
      await createModelFolder(store, dir, { init: 'category', branching: 2, seed: 42 }, log);
      const t0 = Date.now();
      const { summary } = await trainModelFolder(store, dir, { train: { epochs: Number(values.epochs), ...(Object.keys(v.weights).length ? { behaviorWeights: v.weights } : {}) }, embDim: 24, seed: 42, hierarchical: true }, log);
      const trainSeconds = (Date.now() - t0) / 1000;
      const model = readModel(dir, { requireScorer: true });
      const data = TreeDataset.of(store, model.tree);
      const search = networkSearch(model.tree, model.network!);
      const run = (cases: EvalCase[]) => perUser(evaluate([{ retriever: search, beam: BEAM }], cases.filter((c) => c.truth.length > 0), KS, { perUser: true }));
      const figures = {
        valid: run(data.cases('valid').cases),
        test: run(data.cases('test').cases),
        strong: run(mapCases(strongCases, data.map).cases),
      };
      userFigures.push(figures);
      results.push({
        name: v.name,
        weights: v.weights,
        trainSeconds,
        samplesPerEpoch: summary.samplesPerEpoch,
        bestEpoch: summary.bestEpoch,
        trainerValidRecall: summary.epochs.map((e: TrainSummary['epochs'][number]) => e.validRecall),
        valid: means(figures.valid),
        test: means(figures.test),
        strong: means(figures.strong),
      });
      model.network?.dispose();
      log.info(`${v.name}: valid ${JSON.stringify(results.at(-1)!.valid)} test ${JSON.stringify(results.at(-1)!.test)} strong ${JSON.stringify(results.at(-1)!.strong)}`);
    }
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
  const base = userFigures[0];
  results.forEach((r, i) => {
    if (i === 0) return;
    const ratios = (part: 'valid' | 'test' | 'strong') => Object.fromEntries(KS.map((k) => [String(k), pairedRatio(userFigures[i][part][k], base[part][k], { seed: 42 })]));
    r.vsDefault = { valid: ratios('valid'), test: ratios('test'), strong: ratios('strong') };
  });
  const outDir = values.out!;
  mkdirSync(outDir, { recursive: true });
  const doc = { date: new Date().toISOString(), command: `node dist/bench/behavior-weights.js ${process.argv.slice(2).join(' ')}`, epochs: Number(values.epochs), ks: KS, beam: BEAM, users: { test: userFigures[0].test[KS[0]].length, valid: userFigures[0].valid[KS[0]].length, strong: userFigures[0].strong[KS[0]].length }, results };
  writeFileSync(join(outDir, 'behavior-weights.json'), JSON.stringify(doc, null, 2) + '\n');
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const ci = (p?: PairedRatio) => (p ? `${p.ratio.toFixed(2)} (${p.low.toFixed(2)}–${p.high.toFixed(2)})` : '—');
  const lines = [
    `| variant | samples/epoch | kept epoch | ${KS.map((k) => `valid @${k} (× default)`).join(' | ')} | ${KS.map((k) => `test @${k} (× default)`).join(' | ')} | ${KS.map((k) => `test strong @${k} (× default)`).join(' | ')} |`,
    `| :--- | ---: | ---: | ${[...KS, ...KS, ...KS].map(() => '---:').join(' | ')} |`,
    ...results.map(
      (r) =>
        `| ${r.name}${Object.keys(r.weights).length ? ` (${Object.entries(r.weights).map(([t, w]) => `${t}=${w}`).join(',')})` : ''} | ${r.samplesPerEpoch} | ${r.bestEpoch} | ` +
        (['valid', 'test', 'strong'] as const).map((part) => KS.map((k) => `${pct(r[part][k])} ${r.vsDefault ? ci(r.vsDefault[part][k]) : ''}`.trim()).join(' | ')).join(' | ') +
        ' |',
    ),
  ];
  process.stdout.write(lines.join('\n') + '\n');
  log.info(`wrote ${join(outDir, 'behavior-weights.json')}`);
}

await main();
