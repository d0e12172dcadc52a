/**
 * Data-parallel training, 1 against 2 worker threads, side by side
 * (`npm run bench -- --only train-workers`, or `node dist/bench/train-workers.js`).
 *
 * On the bench's synthetic set (30k items, 3k users, seed 42, category tree,
 * 300 test and 150 validation users) a fresh scorer (the same initial
 * weights every time) trains one epoch capped at `--samples` samples with
 * 1 and with 2 workers, taking turns (1, 2, 1, 2, ...) for `--reps`
 * repetitions, for the default scorer (hierarchical user preference) and
 * the plain one. Reported per scorer: samples/s and (user, node) pairs/s of
 * every run, the median of the per-repetition ratios 2 workers / 1 worker
 * (the goal is >= 1.7), the validation recall after the epoch and the test
 * users' recall@50 under beam search (beam 100) of each worker count with
 * the paired difference (bootstrap over the test users), whether repeated
 * runs gave identical weights (they must), and where a step's time goes on
 * each thread (StepTiming, ms per step). The machine's load average before
 * and after every run is recorded: on a shared machine it says how far the
 * ratio can be trusted.
 *
 * Writes docs/bench/train-workers.json; `trainWorkersSection` renders it
 * for docs/BENCHMARKS.md.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stderrLogger, type Logger } from '../src/core/log.js';
import { Rng } from '../src/core/rng.js';
import { Store, generateSynthetic } from '../src/data/index.js';
import type { EvalCase } from '../src/data/types.js';
import { evaluate } from '../src/eval/evaluate.js';
import { pairedDifference, type PairedDifference } from '../src/eval/paired.js';
import { buildTreeFromStore } from '../src/pipeline/ops.js';
import { TreeDataset } from '../src/model/dataset.js';
import { trainParallel } from '../src/runtime/train-pool.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import type { StepProfile } from '../src/trainer/train.js';
import type { Tree } from '../src/tree/tree.js';
import { writeBenchJson } from './bench-json.js';
import { networkSearch } from '../src/beam/network-search.js';

/** Settings of the run. */
export interface TrainWorkersOptions {
  outDir: string;
  reps: number;
  /** Training samples per run (one epoch capped at this). */
  samples: number;
  items: number;
  users: number;
  /** Worker counts compared (the first is the baseline of the ratio). */
  workers: number[];
  command: string;
}

/** One training run. */
interface RunRecord {
  rep: number;
  workers: number;
  samplesPerSecond: number;
  pairsPerSecond: number;
  seconds: number;
  loss: number;
  validRecall: number;
  /** sha256 of every weight after training. */
  weights: string;
  loadBefore: number;
  loadAfter: number;
  /** Per thread: ms per step by phase (steps: their count). */
  profile: StepProfile[];
}

/** One scorer's comparison. */
interface ScorerResult {
  scorer: string;
  hierarchical: boolean;
  pairsPerSample: number;
  batchSize: number;
  runs: RunRecord[];
  /** Samples/s of the second worker count over the first, per repetition. */
  ratios: number[];
  medianRatio: number;
  /**
   * Per repetition: CPU time per step of the single worker over that of the
   * busiest thread with two: the speed-up if every thread had a core to
   * itself (an estimate that leaves out waiting for a core, not the goal's
   * measurement).
   */
  cpuRatios: number[];
  /** Per worker count: test recall@50 (beam 100) of the trained weights, and whether every repetition gave the same weights. */
  recall: { workers: number; validRecall: number; testRecall: number; identicalAcrossReps: boolean }[];
  /** Test recall of the second worker count minus the first's, paired over the test users. */
  testRecallDifference: PairedDifference;
}

/** The whole report (docs/bench/train-workers.json). */
export interface TrainWorkersReport {
  date: string;
  cpu: string;
  cores: number;
  node: string;
  backend: string;
  command: string;
  data: { items: number; users: number; trainSequences: number; validUsers: number; testUsers: number; depth: number };
  samples: number;
  reps: number;
  workers: number[];
  /** `uptime`-style load averages (1, 5, 15 min) at the start and the end. */
  loadStart: number[];
  loadEnd: number[];
  scorers: ScorerResult[];
}

const K = 50;
const BEAM = 100;
const SEED = 42;
const median = (xs: number[]) => {
  const s = xs.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function weightsHash(net: ScorerNetwork): string {
  const h = createHash('sha256');
  for (const [name, a] of net.toArrays()) h.update(name).update(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
  return h.digest('hex').slice(0, 16);
}

/** Per-user recall@K of beam search with the network. */
function testRecall(tree: Tree, net: ScorerNetwork, cases: EvalCase[]): number[] {
  const r = evaluate([{ retriever: networkSearch(tree, net), beam: BEAM }], cases, [K], { perUser: true });
  return r.methods[0].userRecall![0];
}

/** ms per step of a profile in seconds. */
function perStep(p: StepProfile): StepProfile {
  const out = {} as StepProfile;
  for (const k of Object.keys(p) as (keyof StepProfile)[]) out[k] = k === 'steps' ? p[k] : (1000 * p[k]) / Math.max(1, p.steps);
  return out;
}

/** Runs the comparison and writes docs/bench/train-workers.json; returns the report. */
export async function runTrainWorkers(o: TrainWorkersOptions, log: Logger = stderrLogger()): Promise<TrainWorkersReport> {
  const backend = await initBackend();
  const work = mkdtempSync(join(tmpdir(), 'arbor-bench-train-workers-'));
  const store = Store.open(join(work, 'store.db'));
  try {
    store.insertDataset(generateSynthetic({ items: o.items, users: o.users, seed: SEED }), 'synthetic');
    store.split({ testUsers: 300, validUsers: 150, seed: SEED });
    const tree = buildTreeFromStore(store, { init: 'category', branching: 2, seed: SEED });
    const data = TreeDataset.of(store, tree);
    const sequences = data.trainSequences();
    const valid = data.cases('valid').cases;
    const test = data.cases('test').cases.filter((c) => c.truth.length > 0 && c.history.length > 0);
    const report: TrainWorkersReport = {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: cpus().length,
      node: process.version,
      backend,
      command: o.command,
      data: { items: tree.numItems, users: o.users, trainSequences: sequences.length, validUsers: valid.length, testUsers: test.length, depth: tree.layout.depth },
      samples: o.samples,
      reps: o.reps,
      workers: o.workers,
      loadStart: loadavg(),
      loadEnd: [],
      scorers: [],
    };
    for (const hierarchical of [true, false]) {
      const scorer = hierarchical ? 'pooling, hierarchical user preference (default)' : 'pooling, plain';
      const config = { ...DEFAULT_SCORER_CONFIG, hierarchical };
      const runs: RunRecord[] = [];
      const userRecall = new Map<number, number[]>();
      let pairsPerSample = 0;
      let batchSize = 0;
      for (let rep = 1; rep <= o.reps; rep++) {
        for (const workers of o.workers) {
          const net = ScorerNetwork.init(config, tree.layout.numInternal, tree.numItems, new Rng(SEED ^ 0x51ed));
          try {
            const loadBefore = loadavg()[0];
            const s = await trainParallel(tree, net, { sequences, valid }, { epochs: 1, maxSamplesPerEpoch: o.samples, seed: SEED, workers });
            const loadAfter = loadavg()[0];
            pairsPerSample = s.pairsPerSample;
            batchSize = s.options.batchSize;
            runs.push({
              rep,
              workers,
              samplesPerSecond: s.samplesPerSecond,
              pairsPerSecond: s.pairsPerSecond,
              seconds: s.epochs[0].seconds,
              loss: s.epochs[0].loss,
              validRecall: s.epochs[0].validRecall ?? NaN,
              weights: weightsHash(net),
              loadBefore,
              loadAfter,
              profile: (s.profile ?? []).map(perStep),
            });
            if (!userRecall.has(workers)) userRecall.set(workers, testRecall(tree, net, test));
            log.info(`train-workers: ${scorer}, rep ${rep}, ${workers} worker(s): ${Math.round(s.samplesPerSecond)} samples/s, ${Math.round(s.pairsPerSecond)} pairs/s (load ${loadBefore.toFixed(2)} → ${loadAfter.toFixed(2)})`);
          } finally {
            net.dispose();
          }
        }
      }
      const [w1, w2] = o.workers;
      const ratios = Array.from({ length: o.reps }, (_, i) => {
        const at = (w: number) => runs.find((r) => r.rep === i + 1 && r.workers === w)!.samplesPerSecond;
        return at(w2) / at(w1);
      });
      const cpuRatios = Array.from({ length: o.reps }, (_, i) => {
        const busiest = (w: number) => Math.max(...runs.find((r) => r.rep === i + 1 && r.workers === w)!.profile.map((p) => p.cpu));
        return busiest(w1) / busiest(w2);
      });
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      report.scorers.push({
        scorer,
        hierarchical,
        pairsPerSample,
        batchSize,
        runs,
        ratios,
        medianRatio: median(ratios),
        cpuRatios,
        recall: o.workers.map((w) => {
          const mine = runs.filter((r) => r.workers === w);
          return { workers: w, validRecall: mine[0].validRecall, testRecall: mean(userRecall.get(w)!), identicalAcrossReps: mine.every((r) => r.weights === mine[0].weights) };
        }),
        testRecallDifference: pairedDifference(userRecall.get(w2)!, userRecall.get(w1)!, { seed: SEED }),
      });
    }
    report.loadEnd = loadavg();
    writeBenchJson(o.outDir, 'train-workers', report);
    return report;
  } finally {
    store.close();
    rmSync(work, { recursive: true, force: true });
  }
}

const PHASES: [keyof StepProfile, string][] = [
  ['produce', 'batch producer (pairs, user map)'],
  ['pool', 'pool (user vectors, node rows from the table)'],
  ['forwardBackward', 'forward/backward (tfjs, gradients read out)'],
  ['scatter', 'scatter (input gradients onto table rows)'],
  ['wait', 'wait at barriers'],
  ['reduce', 'reduce (sum the shards\' gradients)'],
  ['adam', 'Adam (MLP in tfjs + sparse table rows)'],
];

/** The BENCHMARKS.md section from docs/bench/train-workers.json (empty when absent). */
export function trainWorkersSection(file: string): string {
  if (!existsSync(file)) return '';
  const r = JSON.parse(readFileSync(file, 'utf8')) as TrainWorkersReport;
  const [w1, w2] = r.workers;
  const f0 = (x: number) => Math.round(x).toString();
  const f1 = (x: number) => x.toFixed(1);
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const out = [
    '',
    `## Data-parallel training: ${w1} against ${w2} worker threads`,
    '',
    `Synthetic set (${r.data.items} items, ${r.data.users} users, seed 42; category tree, depth ${r.data.depth}; ${r.data.trainSequences} training users, ` +
      `${r.data.validUsers} validation and ${r.data.testUsers} test users). Each run trains a fresh scorer (the same initial weights) for one epoch of ` +
      `${r.samples} samples (seed 42) with \`trainParallel\` (what \`arbor train --workers N\` runs); the worker counts take turns, ${r.reps} repetitions. ` +
      `Run ${r.date} on ${r.cores} × ${r.cpu}, Node ${r.node}, backend \`${r.backend}\` (\`${r.command}\`). ` +
      `Load average (1, 5, 15 min) ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end; the machine is shared, so other work competes for the cores.`,
    '',
  ];
  for (const s of r.scorers) {
    const runsOf = (w: number) => s.runs.filter((x) => x.workers === w);
    const med = (w: number, key: 'samplesPerSecond' | 'pairsPerSecond') => median(runsOf(w).map((x) => x[key]));
    const rec = (w: number) => s.recall.find((x) => x.workers === w)!;
    const d = s.testRecallDifference;
    /** A figure of thread t's profile, averaged over the runs with w workers. */
    const avg = (w: number, t: number, f: (p: StepProfile) => string) => {
      const ps = runsOf(w).map((x) => x.profile[t]);
      const mean = {} as StepProfile;
      for (const k of Object.keys(ps[0]) as (keyof StepProfile)[]) mean[k] = ps.reduce((a, p) => a + p[k], 0) / ps.length;
      return f(mean);
    };
    out.push(
      `### ${s.scorer}`,
      '',
      `${s.pairsPerSample} (user, node) pairs a sample, ${s.batchSize} samples a step. Samples/s ${w2} workers / ${w1} worker per repetition: ${s.ratios.map((x) => x.toFixed(2)).join(', ')}; ` +
        `**median ${s.medianRatio.toFixed(2)}** (goal ≥ 1.7: ${s.medianRatio >= 1.7 ? 'met' : 'not met'}). ` +
        `CPU time per step, ${w1} worker over the busiest of ${w2}: ${s.cpuRatios.map((x) => x.toFixed(2)).join(', ')} (median ${median(s.cpuRatios).toFixed(2)}): ` +
        'the speed-up if each thread had a core to itself, an estimate that leaves out waiting for a core (see the CPU / wall row below).',
      '',
      '| workers | samples/s (median) | pairs/s (median) | runs: samples/s (load before → after) | validation recall@50 | test recall@50 (beam 100) | same weights every repetition |',
      '| ---: | ---: | ---: | :--- | ---: | ---: | :--- |',
      ...r.workers.map(
        (w) =>
          `| ${w} | ${f0(med(w, 'samplesPerSecond'))} | ${f0(med(w, 'pairsPerSecond'))} | ${runsOf(w).map((x) => `${f0(x.samplesPerSecond)} (${x.loadBefore.toFixed(1)} → ${x.loadAfter.toFixed(1)})`).join(', ')} | ` +
          `${pct(rec(w).validRecall)} | ${pct(rec(w).testRecall)} | ${rec(w).identicalAcrossReps ? 'yes' : 'NO'} |`,
      ),
      '',
      `Test recall@50, ${w2} workers − ${w1} worker: ${(d.mean * 100).toFixed(2)} points (95 % paired bootstrap interval ${(d.low * 100).toFixed(2)} to ${(d.high * 100).toFixed(2)}). ` +
        'Both draw the same pairs (every draw comes from the sample\'s own seeded stream); only the float rounding of the summed gradients differs.',
      '',
      `Where a step's time goes, ms per step on each thread (mean over the repetitions; one step = ${s.batchSize} samples over all threads):`,
      '',
      `| phase | ${w1} worker | ${Array.from({ length: w2 }, (_, i) => `${w2} workers: thread ${i}`).join(' | ')} |`,
      `| :--- | ---: | ${Array.from({ length: w2 }, () => '---:').join(' | ')} |`,
      ...PHASES.map(([key, label]) => `| ${label} | ${avg(w1, 0, (p) => f1(p[key]))} | ${Array.from({ length: w2 }, (_, t) => avg(w2, t, (p) => f1(p[key]))).join(' | ')} |`),
      `| **wall time per step** | ${avg(w1, 0, (p) => f1(p.wall))} | ${Array.from({ length: w2 }, (_, t) => avg(w2, t, (p) => f1(p.wall))).join(' | ')} |`,
      `| thread CPU time / wall time (1: the thread had a core to itself) | ${avg(w1, 0, (p) => (p.cpu / p.wall).toFixed(2))} | ${Array.from({ length: w2 }, (_, t) => avg(w2, t, (p) => (p.cpu / p.wall).toFixed(2))).join(' | ')} |`,
      '',
    );
  }
  return out.join('\n');
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: join(resolve(here, '..', '..'), 'docs') },
      reps: { type: 'string', default: '3' },
      samples: { type: 'string', default: '65536' },
      items: { type: 'string', default: '30000' },
      users: { type: 'string', default: '3000' },
    },
  });
  await runTrainWorkers({
    outDir: values.out!,
    reps: Number(values.reps),
    samples: Number(values.samples),
    items: Number(values.items),
    users: Number(values.users),
    workers: [1, 2],
    command: 'node dist/bench/train-workers.js' + (process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : ''),
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
