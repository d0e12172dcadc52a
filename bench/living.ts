/**
 * Living catalogue measurements (`node dist/bench/living.js [--items N]
 * [--users N] [--epochs E] [--warm-epochs W] [--category-noise P]
 * [--vector-noise S] [--name NAME] [--out DIR]`), on the seeded scenario
 * of bench/living-scenario.ts (with `--category-noise P`, each item's
 * stored category is a uniformly random one with probability P; the side
 * vectors are the planted category's centre plus S times Gaussian noise):
 *
 *  1. a model trained on day 0 (category tree, E epochs);
 *  2. add-items on day 1 with every first-embedding source and placement
 *     rule (and on the cold store: the new items without events), each
 *     judged by beam-search recall@k of the new items for the test users
 *     whose truth holds some, against a model retrained from scratch on
 *     day 1 for E epochs (the same tree rule and options), as the ratio
 *     of the mean new-item recalls with a paired bootstrap 95 % interval
 *     over those users; the first-embedding sources `vectors` and
 *     `category` are compared the same way, with and without events;
 *  3. warm start: the add-items model trained on day 1 one epoch at a
 *     time (`train --warm-start --epochs 1`, repeated W times), test
 *     recall@k after each, against the from-scratch model.
 *
 * Prints a table and writes OUT/bench/NAME.json (NAME: living).
 */
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stderrLogger, silentLogger } from '../src/core/log.js';
import { Store } from '../src/data/index.js';
import { addItemsToFolder, type AddItemsOptions } from '../src/pipeline/add-items.js';
import { createModelFolder, trainModelFolder, type TrainModelOptions } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import { pairedRatio, type PairedRatio } from '../src/eval/paired.js';
import { writeBenchJson } from './bench-json.js';
import { makeScenario, measureModel, type ModelRecall } from './living-scenario.js';

const { values: a } = parseArgs({
  options: {
    items: { type: 'string', default: '2000' },
    users: { type: 'string', default: '1500' },
    epochs: { type: 'string', default: '3' },
    'warm-epochs': { type: 'string', default: '3' },
    'new-share': { type: 'string', default: '0.1' },
    k: { type: 'string', default: '50' },
    seed: { type: 'string', default: '7' },
    workers: { type: 'string', default: '1' },
    out: { type: 'string', default: 'docs' },
    'no-warm': { type: 'boolean', default: false },
    'category-noise': { type: 'string', default: '0' },
    'vector-noise': { type: 'string', default: '0.5' },
    name: { type: 'string', default: 'living' },
  },
});
const num = (s: string | undefined) => Number(s);
const k = num(a.k);
const beam = 2 * k;
const seed = num(a.seed);
const log = stderrLogger();
const categoryNoise = num(a['category-noise']);
if (!(categoryNoise >= 0 && categoryNoise <= 1)) throw new Error(`--category-noise must be in [0, 1], got ${a['category-noise']}`);
const vectorNoise = num(a['vector-noise']);
if (!(vectorNoise >= 0 && Number.isFinite(vectorNoise))) throw new Error(`--vector-noise must be a number >= 0, got ${a['vector-noise']}`);

/** mean new-item recall of `x` / that of `y` on y's users, with a paired bootstrap 95 % interval. */
function ratioOver(x: ModelRecall, y: ModelRecall): PairedRatio {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [user, r] of y.addedByUser) {
    const v = x.addedByUser.get(user);
    if (v === undefined) throw new Error(`paired ratio: user ${user} is missing from one model's new-item recall`);
    xs.push(v);
    ys.push(r);
  }
  if (x.addedByUser.size !== y.addedByUser.size) throw new Error(`paired ratio: ${x.addedByUser.size} users against ${y.addedByUser.size}`);
  return pairedRatio(xs, ys, { seed });
}

async function within<T>(db: string, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = Store.open(db, { mustExist: true });
  try {
    return await fn(s);
  } finally {
    s.close();
  }
}

await initBackend();
const dir = mkdtempSync(join(tmpdir(), 'arbor-living-'));
try {
  const started = Date.now();
  const sc = makeScenario(dir, { items: num(a.items), users: num(a.users), newShare: num(a['new-share']), testUsers: 300, validUsers: 150, seed, categoryNoise, vectorNoise });
  log.info(`scenario: ${sc.newIds.size} new items; category labels not the planted ones: ${sc.mislabelled.items} items, ${sc.mislabelled.newItems} new`);
  const train = (epochs: number, extra: Partial<TrainModelOptions> = {}): TrainModelOptions => ({
    train: { epochs, workers: num(a.workers) },
    embDim: 24,
    seed,
    hierarchical: true,
    ...extra,
  });
  const m0 = join(dir, 'm0');
  await within(sc.day0, (s) => createModelFolder(s, m0, { init: 'category', branching: 2, seed }));
  let t = Date.now();
  await within(sc.day0, (s) => trainModelFolder(s, m0, train(num(a.epochs)), silentLogger));
  const day0Seconds = (Date.now() - t) / 1000;
  const scratch = join(dir, 'scratch');
  await within(sc.day1, (s) => createModelFolder(s, scratch, { init: 'category', branching: 2, seed }));
  t = Date.now();
  const scratchSummary = await within(sc.day1, (s) => trainModelFolder(s, scratch, train(num(a.epochs)), silentLogger));
  const scratchSeconds = (Date.now() - t) / 1000;
  const scratchRecall = measureModel(scratch, sc.day1, sc.newIds, k, beam);
  const before = measureModel(m0, sc.day1, sc.newIds, k, beam);
  log.info(`day 0 model on day 1: all ${pct(before.all.recall)}; scratch: all ${pct(scratchRecall.all.recall)}, new ${pct(scratchRecall.added.recall)} (${scratchRecall.added.users} users)`);

  const variants: { name: string; store: 'day1' | 'cold'; o: AddItemsOptions }[] = [
    { name: 'auto, neighbours (default)', store: 'day1', o: { itemVectors: sc.vectors } },
    { name: 'events, neighbours', store: 'day1', o: { embedFrom: 'events', placement: 'neighbours' } },
    { name: 'events, centroid', store: 'day1', o: { embedFrom: 'events', placement: 'centroid' } },
    { name: 'events, node', store: 'day1', o: { embedFrom: 'events', placement: 'node' } },
    { name: 'events, random leaf', store: 'day1', o: { embedFrom: 'events', placement: 'random' } },
    { name: 'category, neighbours', store: 'day1', o: { embedFrom: 'category', placement: 'neighbours' } },
    { name: 'vectors, neighbours', store: 'day1', o: { embedFrom: 'vectors', placement: 'neighbours', itemVectors: sc.vectors } },
    { name: 'cold: auto, neighbours (default)', store: 'cold', o: { itemVectors: sc.vectors } },
    { name: 'cold: category, neighbours', store: 'cold', o: { embedFrom: 'category', placement: 'neighbours' } },
    { name: 'cold: category, centroid', store: 'cold', o: { embedFrom: 'category', placement: 'centroid' } },
    { name: 'cold: vectors, neighbours', store: 'cold', o: { embedFrom: 'vectors', placement: 'neighbours', itemVectors: sc.vectors } },
    { name: 'cold: category, random leaf', store: 'cold', o: { embedFrom: 'category', placement: 'random' } },
  ];
  const rows = [];
  const measured = new Map<string, ModelRecall>();
  for (const v of variants) {
    const m = join(dir, `add-${rows.length}`);
    cpSync(m0, m, { recursive: true });
    const summary = await within(v.store === 'cold' ? sc.cold : sc.day1, (s) => addItemsToFolder(s, m, { ...v.o, seed }, silentLogger));
    const r = measureModel(m, sc.day1, sc.newIds, k, beam);
    measured.set(v.name, r);
    const ofScratch = ratioOver(r, scratchRecall);
    rows.push({ name: v.name, summary, all: r.all, added: r.added, ofScratch: ofScratch.ratio, ofScratchInterval: ofScratch });
    log.info(`${v.name}: new ${pct(r.added.recall)} (${ci(ofScratch)} × scratch), all ${pct(r.all.recall)}`);
  }

  const warm = [];
  if (!a['no-warm']) {
    const wm = join(dir, 'warm');
    cpSync(m0, wm, { recursive: true });
    await within(sc.day1, (s) => addItemsToFolder(s, wm, { itemVectors: sc.vectors, seed }, silentLogger));
    for (let e = 1; e <= num(a['warm-epochs']); e++) {
      t = Date.now();
      await within(sc.day1, (s) => trainModelFolder(s, wm, train(1, { warmStart: true }), silentLogger));
      const r = measureModel(wm, sc.day1, sc.newIds, k, beam);
      const ofScratch = ratioOver(r, scratchRecall);
      warm.push({ epochs: e, seconds: (Date.now() - t) / 1000, all: r.all, added: r.added, ofScratch: ofScratch.ratio, ofScratchInterval: ofScratch });
      log.info(`warm start, ${e} epoch(s): all ${pct(r.all.recall)}, new ${pct(r.added.recall)}`);
    }
  }
  // the first-embedding sources against each other, on the same users
  const comparisons = [
    { name: 'vectors / category (new items with events)', a: 'vectors, neighbours', b: 'category, neighbours' },
    { name: 'vectors / category (cold: no events)', a: 'cold: vectors, neighbours', b: 'cold: category, neighbours' },
  ].map((c) => ({ ...c, ...ratioOver(measured.get(c.a)!, measured.get(c.b)!) }));
  const result = {
    command: `node dist/bench/living.js ${process.argv.slice(2).join(' ')}`.trim(),
    options: a,
    k,
    beam,
    newItems: sc.newIds.size,
    categoryNoise,
    vectorNoise,
    mislabelled: sc.mislabelled,
    day0: { seconds: day0Seconds, onDay1: { all: before.all, added: before.added } },
    scratch: { seconds: scratchSeconds, epochs: scratchSummary.summary.epochs.length, bestEpoch: scratchSummary.summary.bestEpoch, all: scratchRecall.all, added: scratchRecall.added },
    addItems: rows,
    comparisons,
    warmStart: warm,
    loadAverage: loadavg(),
    seconds: (Date.now() - started) / 1000,
  };
  writeBenchJson(a.out!, a.name!, result);
  console.log(`| variant | new-item recall@${k} | × scratch (95 % CI) | all recall@${k} |`);
  console.log('| :--- | ---: | ---: | ---: |');
  console.log(`| retrained from scratch (${num(a.epochs)} epochs) | ${pct(scratchRecall.added.recall)} | 1.00 | ${pct(scratchRecall.all.recall)} |`);
  console.log(`| day-0 model, items not added | ${pct(before.added.recall)} | 0.00 | ${pct(before.all.recall)} |`);
  for (const r of rows) console.log(`| add-items ${r.name} | ${pct(r.added.recall)} | ${ci(r.ofScratchInterval)} | ${pct(r.all.recall)} |`);
  for (const w of warm) console.log(`| add-items + warm start ${w.epochs} epoch(s) | ${pct(w.added.recall)} | ${ci(w.ofScratchInterval)} | ${pct(w.all.recall)} |`);
  console.log('');
  console.log('| first-embedding sources | ratio of new-item recall (95 % CI) |');
  console.log('| :--- | ---: |');
  for (const c of comparisons) console.log(`| ${c.name} | ${ci(c)} |`);
  console.log(`new-item recall rests on ${scratchRecall.added.users} test users (${scratchRecall.added.truthItems} truth items); vector noise ${vectorNoise}; category noise ${categoryNoise}: ${sc.mislabelled.items} labels not the planted ones (${sc.mislabelled.newItems} of the ${sc.newIds.size} new items)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

function ci(r: PairedRatio): string {
  return `${r.ratio.toFixed(2)} (${r.low.toFixed(2)}-${r.high.toFixed(2)})`;
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)} %`;
}
