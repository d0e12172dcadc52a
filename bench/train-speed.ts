/**
 * Training speed of one worker at two catalogue sizes, side by side
 * (`npm run bench -- --only train-speed`, or `node dist/bench/train-speed.js`).
 *
 * Two generated sets (arbor's synthetic generator, seed 42, the same number
 * of users) of 20k and 1M items, each with its category tree (branching 2).
 * A fresh default scorer (hierarchical user preference, the same seed every
 * time) trains one epoch capped at `--samples` samples with one worker
 * thread (`trainParallel`, what `arbor train --workers 1` runs); the sizes
 * take turns (20k, 1M, 20k, 1M, ...) for `--reps` repetitions, so both see
 * the same machine load. Reported per run: samples/s and (user, node)
 * pairs/s (wall time of the epoch's steps), pairs per thread-CPU second
 * (the speed had the worker had a core to itself), the machine's load
 * average before and after, and where a step's time went (StepTiming). The
 * goals: pairs/s at 20k items ≥ 100k, and pairs/s at 1M items ≥ 0.85× those
 * at 20k (median of the per-repetition ratios).
 *
 * It then profiles the forward/backward pass of a few steps of each size on
 * this thread (`tf.profile`): time per tfjs kernel, grouped by kind, and
 * the time outside the kernels (uploads, read-outs, the loss in JS).
 *
 * Writes docs/bench/train-speed.json; `trainSpeedSection` renders it for
 * docs/BENCHMARKS.md.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { stderrLogger, type Logger } from '../src/core/log.js';
import { Rng } from '../src/core/rng.js';
import { generateSynthetic } from '../src/data/index.js';
import { trainParallel } from '../src/runtime/train-pool.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { negativesPerLevel } from '../src/trainer/negatives.js';
import { makeProducer, type ProducerName } from '../src/trainer/producer.js';
import { RowGradients, rowCapacity } from '../src/trainer/row-gradients.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { ShardStep, emptyTiming } from '../src/trainer/shard-step.js';
import { DEFAULT_TRAIN_OPTIONS, producerContext, type StepProfile } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import type { Tree } from '../src/tree/tree.js';
import { writeBenchJson } from './bench-json.js';

/** Settings of the run. */
export interface TrainSpeedOptions {
  outDir: string;
  reps: number;
  /** Training samples per run (one epoch capped at this). */
  samples: number;
  /** Catalogue sizes compared (the first is the baseline of the ratio). */
  sizes: number[];
  users: number;
  command: string;
}

/** One training run. */
interface RunRecord {
  rep: number;
  items: number;
  samplesPerSecond: number;
  pairsPerSecond: number;
  /** Pairs per second of the worker thread's CPU time. */
  cpuPairsPerSecond: number;
  loss: number;
  loadBefore: number;
  loadAfter: number;
  /** The worker's ms per step by phase (steps: their count). */
  profile: StepProfile;
}

/** Time of one step's forward/backward by tfjs kernel (tf.profile). */
interface KernelProfile {
  items: number;
  pairs: number;
  /** Wall ms of the profiled forward/backward (one step). */
  totalMs: number;
  /** ms per kernel kind, largest first. */
  kernels: { name: string; calls: number; ms: number }[];
}

/** One catalogue size. */
interface SizeRecord {
  items: number;
  depth: number;
  pairsPerSample: number;
  trainSequences: number;
}

/** The whole report (docs/bench/train-speed.json). */
export interface TrainSpeedReport {
  date: string;
  cpu: string;
  cores: number;
  node: string;
  backend: string;
  command: string;
  scorer: string;
  batchSize: number;
  samples: number;
  reps: number;
  users: number;
  sizes: SizeRecord[];
  loadStart: number[];
  loadEnd: number[];
  runs: RunRecord[];
  /** Pairs/s of the second size over the first, per repetition, and their median. */
  ratios: number[];
  medianRatio: number;
  /** The same from thread-CPU pairs/s. */
  cpuRatios: number[];
  kernelProfiles: KernelProfile[];
}

const SEED = 42;
/** Steps profiled by kernel per size (the table gives their mean). */
const PROFILED_STEPS = 4;
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A generated set of `items` items: its category tree and training sequences (item indices, time order). */
function makeSet(items: number, users: number): { tree: Tree; sequences: Int32Array[] } {
  const ds = generateSynthetic({ items, users, seed: SEED });
  const index = new Map(ds.items.map((it, i) => [it.id, i]));
  const cats: string[] = [];
  const catIndex = new Map<string, number>();
  const itemCategory = Int32Array.from(ds.items, (it) => {
    let c = catIndex.get(it.category);
    if (c === undefined) {
      c = cats.length;
      catIndex.set(it.category, c);
      cats.push(it.category);
    }
    return c;
  });
  const tree = buildCategoryTree({ itemIds: ds.items.map((i) => i.id), itemCategory, categoryIds: cats }, { branching: 2, seed: SEED });
  const byUser = new Map<string, number[]>();
  for (const e of ds.events) {
    let a = byUser.get(e.user);
    if (!a) byUser.set(e.user, (a = []));
    a.push(index.get(e.item)!);
  }
  return { tree, sequences: [...byUser.values()].map((a) => Int32Array.from(a)) };
}

/** ms per step of a profile in seconds. */
function perStep(p: StepProfile): StepProfile {
  const out = {} as StepProfile;
  for (const k of Object.keys(p) as (keyof StepProfile)[]) out[k] = k === 'steps' ? p[k] : (1000 * p[k]) / Math.max(1, p.steps);
  return out;
}

/** Profiles one step's forward/backward on this thread by tfjs kernel. */
async function kernelProfile(tree: Tree, sequences: Int32Array[], items: number): Promise<KernelProfile> {
  const net = ScorerNetwork.init(DEFAULT_SCORER_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(SEED ^ 0x51ed));
  try {
    const o = { ...DEFAULT_TRAIN_OPTIONS, seed: SEED };
    const samples = slidingWindowSamples(sequences);
    const producer = makeProducer(o.objective as ProducerName, producerContext(tree, net, samples, negativesPerLevel(tree, o.negatives), o));
    const cap = producer.capacity(o.batchSize);
    const step = new ShardStep(tree, net, cap);
    const rows = RowGradients.local(rowCapacity(cap, net.numRows), net.config.embDim, net.numRows);
    const mlp = new Float32Array(step.mlpSize);
    const batchAt = (s: number) => producer.produce(Int32Array.from({ length: o.batchSize }, (_, i) => (s * o.batchSize + i) % samples.seq.length), 0, s * o.batchSize);
    step.run(batchAt(0), mlp, rows); // warm-up
    const timing = emptyTiming();
    const by = new Map<string, { calls: number; ms: number }>();
    let pairs = 0;
    for (let s = 1; s <= PROFILED_STEPS; s++) {
      const batch = batchAt(s);
      pairs += batch.pairs;
      const info = await tf.profile(() => {
        step.run(batch, mlp, rows, timing);
      });
      for (const k of info.kernels) {
        // "…__op" entries are ops made of other kernels (custom gradients): their time is already in those
        if (k.name.endsWith('__op')) continue;
        const e = by.get(k.name) ?? { calls: 0, ms: 0 };
        e.calls++;
        e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
        by.set(k.name, e);
      }
    }
    const n = PROFILED_STEPS;
    return {
      items,
      pairs: Math.round(pairs / n),
      totalMs: timing.forwardBackward / 1e6 / n,
      kernels: [...by].map(([name, e]) => ({ name, calls: e.calls / n, ms: e.ms / n })).sort((a, b) => b.ms - a.ms),
    };
  } finally {
    net.dispose();
  }
}

/** Runs the comparison and writes docs/bench/train-speed.json; returns the report. */
export async function runTrainSpeed(o: TrainSpeedOptions, log: Logger = stderrLogger()): Promise<TrainSpeedReport> {
  const backend = await initBackend();
  const sets = o.sizes.map((items) => {
    log.info(`train-speed: generating ${items} items, ${o.users} users`);
    return { items, ...makeSet(items, o.users) };
  });
  const report: TrainSpeedReport = {
    date: new Date().toISOString(),
    cpu: cpus()[0]?.model ?? 'unknown CPU',
    cores: cpus().length,
    node: process.version,
    backend,
    command: o.command,
    scorer: 'pooling, hierarchical user preference (the default)',
    batchSize: DEFAULT_TRAIN_OPTIONS.batchSize,
    samples: o.samples,
    reps: o.reps,
    users: o.users,
    sizes: [],
    loadStart: loadavg(),
    loadEnd: [],
    runs: [],
    ratios: [],
    medianRatio: NaN,
    cpuRatios: [],
    kernelProfiles: [],
  };
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const set of sets) {
      const net = ScorerNetwork.init(DEFAULT_SCORER_CONFIG, set.tree.layout.numInternal, set.tree.numItems, new Rng(SEED ^ 0x51ed));
      try {
        const loadBefore = loadavg()[0];
        const s = await trainParallel(set.tree, net, { sequences: set.sequences }, { epochs: 1, maxSamplesPerEpoch: o.samples, seed: SEED, workers: 1 });
        const loadAfter = loadavg()[0];
        const p = s.profile![0];
        const pairs = s.pairsPerSample * s.samplesPerEpoch;
        if (rep === 1) report.sizes.push({ items: set.items, depth: set.tree.layout.depth, pairsPerSample: s.pairsPerSample, trainSequences: s.trainSequences });
        report.runs.push({
          rep,
          items: set.items,
          samplesPerSecond: s.samplesPerSecond,
          pairsPerSecond: s.pairsPerSecond,
          cpuPairsPerSecond: p.cpu > 0 ? pairs / p.cpu : NaN,
          loss: s.epochs[0].loss,
          loadBefore,
          loadAfter,
          profile: perStep(p),
        });
        log.info(`train-speed: rep ${rep}, ${set.items} items: ${Math.round(s.samplesPerSecond)} samples/s, ${Math.round(s.pairsPerSecond)} pairs/s (load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)})`);
      } finally {
        net.dispose();
      }
    }
  }
  const [a, b] = o.sizes;
  const at = (rep: number, items: number) => report.runs.find((r) => r.rep === rep && r.items === items)!;
  for (let rep = 1; rep <= o.reps; rep++) {
    report.ratios.push(at(rep, b).pairsPerSecond / at(rep, a).pairsPerSecond);
    report.cpuRatios.push(at(rep, b).cpuPairsPerSecond / at(rep, a).cpuPairsPerSecond);
  }
  report.medianRatio = median(report.ratios);
  for (const set of sets) report.kernelProfiles.push(await kernelProfile(set.tree, set.sequences, set.items));
  report.loadEnd = loadavg();
  writeBenchJson(o.outDir, 'train-speed', report);
  return report;
}

const PHASES: [keyof StepProfile, string][] = [
  ['produce', 'batch producer (pairs, user map)'],
  ['pool', 'pool (user vectors, node rows from the table)'],
  ['forwardBackward', 'forward/backward (tfjs kernels, uploads, read-outs, loss)'],
  ['scatter', 'scatter (input gradients onto table rows)'],
  ['wait', 'wait at barriers'],
  ['reduce', 'reduce (sum the shards\' gradients)'],
  ['adam', 'Adam (MLP in tfjs + sparse table rows)'],
];

/** What the phase table says, in one paragraph computed from it: the share of forward/backward, and the cost per pair of the compute and of the phases that touch the table. */
function profileSummary(r: TrainSpeedReport, mean: (items: number, f: (p: StepProfile) => number) => number): string {
  const us = (s: SizeRecord, f: (p: StepProfile) => number) => (1000 * mean(s.items, f)) / (r.batchSize * s.pairsPerSample);
  const table = (p: StepProfile) => p.produce + p.pool + p.scatter + p.reduce + p.adam;
  const parts = r.sizes.map(
    (s) =>
      `at ${s.items} items forward/backward is ${((100 * mean(s.items, (p) => p.forwardBackward)) / mean(s.items, (p) => p.wall)).toFixed(0)} % of the step and costs ` +
      `${us(s, (p) => p.forwardBackward).toFixed(2)} µs a pair, the phases that read or write the embedding table (producer, pool, scatter, reduce, Adam) ${us(s, table).toFixed(2)} µs`,
  );
  return `Per (user, node) pair of wall time: ${parts.join('; ')}. The tfjs compute per pair hardly depends on the catalogue; the table work per pair does ` +
    '(a larger table: more distinct rows a step, each a cache miss in the table and in the Adam moments).';
}

/** The BENCHMARKS.md section from docs/bench/train-speed.json (empty when absent). */
export function trainSpeedSection(file: string): string {
  if (!existsSync(file)) return '';
  const r = JSON.parse(readFileSync(file, 'utf8')) as TrainSpeedReport;
  const [a, b] = r.sizes;
  const f0 = (x: number) => Math.round(x).toString();
  const f1 = (x: number) => x.toFixed(1);
  const k = (x: number) => `${(x / 1000).toFixed(1)}k`;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const runsOf = (items: number) => r.runs.filter((x) => x.items === items);
  const med = (items: number, key: 'samplesPerSecond' | 'pairsPerSecond' | 'cpuPairsPerSecond') => median(runsOf(items).map((x) => x[key]));
  const mean = (items: number, f: (p: StepProfile) => number) => runsOf(items).reduce((s, x) => s + f(x.profile), 0) / runsOf(items).length;
  const out = [
    '',
    `## Training speed on one worker: ${a.items} against ${b.items} items`,
    '',
    `Generated sets (arbor's synthetic generator, seed 42, ${r.users} users), category trees (branching 2). Each run trains a fresh default scorer ` +
      `(${r.scorer}; the same initial weights) for one epoch of ${r.samples} samples, ${r.batchSize} a step, with one worker thread ` +
      `(\`trainParallel\`, what \`arbor train --workers 1\` runs); the sizes take turns, ${r.reps} repetitions. ` +
      `Run ${r.date} on ${r.cores} × ${r.cpu}, Node ${r.node}, backend \`${r.backend}\` (\`${r.command}\`). ` +
      `Load average (1, 5, 15 min) ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end: the machine is shared, so other work competes for the cores; ` +
      'pairs per thread-CPU second is the speed the worker had while it ran.',
    '',
    `Pairs/s at ${b.items} items over pairs/s at ${a.items}, per repetition: ${r.ratios.map((x) => x.toFixed(2)).join(', ')}; **median ${r.medianRatio.toFixed(2)}** ` +
      `(goal ≥ 0.85: ${r.medianRatio >= 0.85 ? 'met' : 'not met'}); from thread-CPU time: ${r.cpuRatios.map((x) => x.toFixed(2)).join(', ')}. ` +
      `Pairs/s at ${a.items} items, median **${k(med(a.items, 'pairsPerSecond'))}** (goal ≥ 100k: ${med(a.items, 'pairsPerSecond') >= 100000 ? 'met' : 'not met'}).`,
    '',
    '| items | tree depth | pairs a sample | samples/s (median) | pairs/s (median) | pairs per thread-CPU s (median) | runs: pairs/s (load before → after) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | :--- |',
    ...r.sizes.map(
      (s) =>
        `| ${s.items} | ${s.depth} | ${s.pairsPerSample} | ${f0(med(s.items, 'samplesPerSecond'))} | ${f0(med(s.items, 'pairsPerSecond'))} | ${f0(med(s.items, 'cpuPairsPerSecond'))} | ` +
        `${runsOf(s.items).map((x) => `${k(x.pairsPerSecond)} (${x.loadBefore.toFixed(1)} → ${x.loadAfter.toFixed(1)})`).join(', ')} |`,
    ),
    '',
    `Where a step's time goes on the worker, ms per step (mean over the repetitions; one step = ${r.batchSize} samples). ${profileSummary(r, mean)}`,
    '',
    `| phase | ${r.sizes.map((s) => `${s.items} items`).join(' | ')} |`,
    `| :--- | ${r.sizes.map(() => '---:').join(' | ')} |`,
    ...PHASES.filter(([key]) => key !== 'wait').map(([key, label]) => `| ${label} | ${r.sizes.map((s) => f1(mean(s.items, (p) => p[key]))).join(' | ')} |`),
    `| **wall time per step** | ${r.sizes.map((s) => f1(mean(s.items, (p) => p.wall))).join(' | ')} |`,
    `| thread CPU time / wall time | ${r.sizes.map((s) => (mean(s.items, (p) => p.cpu) / mean(s.items, (p) => p.wall)).toFixed(2)).join(' | ')} |`,
    '',
    `Inside forward/backward: ${PROFILED_STEPS} steps profiled on the calling thread with \`tf.profile\`, per step (their mean): calls and ms by tfjs kernel (all calls of a kind summed); ` +
      '"outside the kernels" is the rest of the pass: tensor uploads, gradient read-outs and the loss, computed in JS.',
    '',
    `| kernel | ${r.kernelProfiles.map((p) => `${p.items} items (${p.pairs} pairs): calls | ms`).join(' | ')} |`,
    `| :--- | ${r.kernelProfiles.map(() => '---: | ---:').join(' | ')} |`,
  ];
  const names = [...new Set(r.kernelProfiles.flatMap((p) => p.kernels.map((x) => x.name)))];
  const first = r.kernelProfiles[0];
  names.sort((x, y) => (first.kernels.find((e) => e.name === y)?.ms ?? 0) - (first.kernels.find((e) => e.name === x)?.ms ?? 0));
  for (const name of names) {
    out.push(`| ${name} | ${r.kernelProfiles.map((p) => {
      const e = p.kernels.find((x) => x.name === name);
      return e ? `${f0(e.calls)} | ${f1(e.ms)}` : '0 | 0';
    }).join(' | ')} |`);
  }
  const inKernels = (p: KernelProfile) => p.kernels.reduce((s, x) => s + x.ms, 0);
  out.push(
    `| outside the kernels | ${r.kernelProfiles.map((p) => ` | ${f1(Math.max(0, p.totalMs - inKernels(p)))}`).join(' | ')} |`,
    `| **forward/backward, total** | ${r.kernelProfiles.map((p) => ` | ${f1(p.totalMs)}`).join(' | ')} |`,
    '',
  );
  return out.join('\n');
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(resolve(here, '..', '..'), 'docs') },
      reps: { type: 'string', default: '3' },
      samples: { type: 'string', default: '8192' },
      users: { type: 'string', default: '3000' },
      small: { type: 'string', default: '20000' },
      large: { type: 'string', default: '1000000' },
    },
  });
  await runTrainSpeed({
    outDir: values.out!,
    reps: Number(values.reps),
    samples: Number(values.samples),
    sizes: [Number(values.small), Number(values.large)],
    users: Number(values.users),
    command: 'node dist/bench/train-speed.js' + (process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''),
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
