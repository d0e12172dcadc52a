/**
 * The pipeline at the scale of the real data sets (`npm run bench -- --only
 * scale`, or `node dist/bench/scale.js [--events N]`).
 *
 * A seeded synthetic set in Taobao UserBehavior format (default 10M events
 * over 1M items; users make 20-180 events, about 100 on average as in the
 * real set, so 100k users) is written as a CSV, then run through the
 * pipeline step by step, each step in a process of its own
 * (bench/scale-step.ts) so that its time and peak RSS are its own: ingest,
 * split (500 test and 200 validation users), build-tree (category tree,
 * branching 2), a training slice (one epoch capped at 300k samples, the
 * default scorer with the hierarchical user preference, default workers)
 * and eval (recall@200 at beam 400 and the popularity baseline on the 500
 * test users; no brute force, which scores every item for every user).
 *
 * The same pipeline first runs on a set a tenth of the size (a smaller
 * training slice), so that memory can be extrapolated along a line. The
 * figures are extrapolated to the full UserBehavior set (100,150,807
 * events, 987,994 users, 4,162,024 items) under the assumptions stated in
 * {@link extrapolate} and written into the report. Writes docs/bench/scale.json; {@link scaleBenchSection}
 * renders it for docs/BENCHMARKS.md.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeSyntheticUserBehaviorCsv } from '../src/data/index.js';
import { measureProcess } from './measure-process.js';
import type { StepArgs, StepResult } from './scale-step.js';
import { writeBenchJson } from './bench-json.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** The full Taobao UserBehavior set (the TDM paper's). */
export const USER_BEHAVIOR = { events: 100_150_807, users: 987_994, items: 4_162_024 };

/** Peak RSS every step must stay within, MiB. */
export const RSS_LIMIT_MIB = 8 * 1024;

const STEPS = ['ingest', 'split', 'build-tree', 'train', 'eval'] as const;
const MIN_EVENTS = 20;
const MAX_EVENTS = 180;

/** Settings of the run. */
export interface ScaleBenchOptions {
  outDir: string;
  events: number;
  /** Catalogue size (default events / 10). */
  items?: number;
  trainSamples: number;
  evalUsers: number;
  validUsers: number;
  seed: number;
  command: string;
}

/** One step as measured, and as extrapolated. */
interface StepRecord extends StepResult {
  step: (typeof STEPS)[number];
  /** Wall time of the whole process (start-up and module loading included). */
  processSeconds: number;
  loadBefore: number;
  extrapolated: { seconds: number; peakRssMiB: number; how: string };
}

/** The JSON written to docs/bench/scale.json. */
export interface ScaleBenchReport {
  date: string;
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  command: string;
  loadStart: number[];
  loadEnd: number[];
  data: { events: number; users: number; items: number; minEvents: number; maxEvents: number; seed: number; csvBytes: number; storeBytes: number; generateSeconds: number };
  settings: { trainSamples: number; evalUsers: number; validUsers: number; k: number; beam: number };
  /** The pass at a tenth of the size: its sizes and each step's peak RSS. */
  small: { events: number; users: number; items: number; peakRssMiB: number[] };
  steps: StepRecord[];
  maxPeakRssMiB: number;
  withinRssLimit: boolean;
  target: typeof USER_BEHAVIOR & { depth: number };
  /** Extrapolated time of one full training epoch over the target set, and of the pipeline with it. */
  fullEpochHours: number;
  assumptions: string[];
}

/** Depth of the branching-2 tree over `items` items, as measured `depth` relates to `measuredItems`. */
function depthFor(items: number, measuredItems: number, depth: number): number {
  return depth + Math.ceil(Math.log2(items)) - Math.ceil(Math.log2(measuredItems));
}

/**
 * Extrapolates one step to the target set (the assumptions are written into
 * the report): time by the rule of the step (events, items or tree depth),
 * peak RSS along the line through the small pass's and this pass's.
 */
function extrapolate(step: StepRecord, small: StepRecord, smallData: ScaleBenchReport['data'], r: Pick<ScaleBenchReport, 'data' | 'target' | 'settings'>, measuredDepth: number): StepRecord['extrapolated'] {
  const e = r.target.events / r.data.events;
  const i = r.target.items / r.data.items;
  const d = r.target.depth / measuredDepth;
  const span = r.data.events - smallData.events;
  const slope = span > 0 ? (step.peakRssMiB - small.peakRssMiB) / span : 0;
  const peakRssMiB = step.peakRssMiB + Math.max(0, slope) * (r.target.events - r.data.events);
  const mem = `memory + ${(Math.max(0, slope) * 1e6).toFixed(1)} MiB per million events`;
  const det = step.details as Record<string, number>;
  switch (step.step) {
    case 'ingest':
    case 'split':
      return { seconds: step.seconds * e, peakRssMiB, how: `time × ${e.toFixed(1)} (events); ${mem}` };
    case 'build-tree':
      return { seconds: step.seconds * i, peakRssMiB, how: `time × ${i.toFixed(2)} (items); ${mem}` };
    case 'train': {
      const load = Math.max(0, step.seconds - det.trainSeconds);
      return { seconds: load * e + det.trainSeconds * d, peakRssMiB, how: `the same ${r.settings.trainSamples} samples: training × ${d.toFixed(2)} (depth), the rest × ${e.toFixed(1)}; ${mem}` };
    }
    case 'eval': {
      const methods = (step.details.methods as { msPerQuery: number }[]) ?? [];
      const queries = methods.reduce((a, m) => a + m.msPerQuery, 0) * (step.details.users as number) / 1000;
      const load = Math.max(0, step.seconds - queries);
      return { seconds: load * e + queries * d, peakRssMiB, how: `the same ${r.settings.evalUsers} users: queries × ${d.toFixed(2)} (depth), the rest × ${e.toFixed(1)}; ${mem}` };
    }
  }
}

/** The generated set and the steps of one pass of the pipeline over it. */
interface Pass {
  data: ScaleBenchReport['data'];
  steps: StepRecord[];
}

/** Generates the set of `events` events and runs every step on it in `work`. */
async function runPass(work: string, o: ScaleBenchOptions, events: number, trainSamples: number, evalUsers: number, validUsers: number): Promise<Pass> {
  const log = (s: string) => process.stderr.write(`scale bench: ${s}\n`);
  const users = Math.max(1, Math.round(events / ((MIN_EVENTS + MAX_EVENTS) / 2)));
  const items = o.items === undefined ? Math.max(100, Math.round(events / 10)) : Math.round(o.items * events / o.events);
  const csv = join(work, 'userbehavior.csv');
  log(`writing ${events} events (${users} users, ${items} items) to ${csv}`);
  let t = performance.now();
  const written = writeSyntheticUserBehaviorCsv({ items, users, seed: o.seed, minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS }, csv);
  const generateSeconds = (performance.now() - t) / 1000;
  const args: StepArgs = {
    csv, db: join(work, 'store.db'), model: join(work, 'model'), seed: o.seed,
    testUsers: evalUsers, validUsers, trainSamples, evalUsers, k: 200, beam: 400,
  };
  const steps: StepRecord[] = [];
  for (const step of STEPS) {
    const loadBefore = loadavg()[0];
    log(`${step} (load ${loadBefore.toFixed(1)})`);
    const p = await measureProcess(process.execPath, [join(here, 'scale-step.js'), step, JSON.stringify(args)], { echoStderr: true });
    if (p.code !== 0) throw new Error(`step ${step} failed (exit ${p.code})`);
    const result = JSON.parse(p.stdout.trim().split('\n').pop()!) as StepResult;
    steps.push({ step, ...result, processSeconds: p.seconds, loadBefore, extrapolated: { seconds: 0, peakRssMiB: 0, how: '' } });
    log(`${step}: ${result.seconds.toFixed(1)} s, peak RSS ${result.peakRssMiB.toFixed(0)} MiB, ${JSON.stringify(result.details)}`);
  }
  const data = { events: written, users, items, minEvents: MIN_EVENTS, maxEvents: MAX_EVENTS, seed: o.seed, csvBytes: statSync(csv).size, storeBytes: statSync(args.db).size, generateSeconds };
  rmSync(csv, { force: true });
  return { data, steps };
}

/** Runs the bench and writes docs/bench/scale.json. */
export async function runScaleBench(o: ScaleBenchOptions): Promise<ScaleBenchReport> {
  const log = (s: string) => process.stderr.write(`scale bench: ${s}\n`);
  const loadStart = loadavg();
  // a pass at a tenth of the size first: memory is extrapolated along the line through both passes
  const smallEvents = Math.max(1000, Math.round(o.events / 10));
  /** Test and validation users for a set of `events` events: as asked, or scaled down to half the users of a small set. */
  const heldOutFor = (events: number) => {
    const users = Math.round(events / ((MIN_EVENTS + MAX_EVENTS) / 2));
    const f = Math.min(1, (users * 0.5) / (o.evalUsers + o.validUsers));
    return { evalUsers: Math.max(1, Math.floor(o.evalUsers * f)), validUsers: Math.max(1, Math.floor(o.validUsers * f)) };
  };
  const smallHeld = heldOutFor(smallEvents);
  const held = heldOutFor(o.events);
  const smallWork = mkdtempSync(join(tmpdir(), 'arbor-bench-scale-'));
  let small: Pass;
  try {
    log(`pass at a tenth of the size (${smallEvents} events)`);
    small = await runPass(smallWork, o, smallEvents, Math.min(o.trainSamples, 20_000), smallHeld.evalUsers, smallHeld.validUsers);
  } finally {
    rmSync(smallWork, { recursive: true, force: true });
  }
  const work = mkdtempSync(join(tmpdir(), 'arbor-bench-scale-'));
  try {
    log(`full pass (${o.events} events)`);
    const { data, steps } = await runPass(work, o, o.events, o.trainSamples, held.evalUsers, held.validUsers);
    const measuredDepth = (steps.find((s) => s.step === 'build-tree')!.details.depth as number);
    const target = { ...USER_BEHAVIOR, depth: depthFor(USER_BEHAVIOR.items, data.items, measuredDepth) };
    const partial = {
      data,
      target,
      settings: { trainSamples: o.trainSamples, evalUsers: held.evalUsers, validUsers: held.validUsers, k: 200, beam: 400 },
    };
    for (const [k, s] of steps.entries()) s.extrapolated = extrapolate(s, small.steps[k], small.data, partial, measuredDepth);
    const train = steps.find((s) => s.step === 'train')!.details as { samplesPerSecond: number };
    const heldShare = (held.evalUsers + held.validUsers) / data.users;
    const trainUsers = target.users * (1 - heldShare);
    const epochSamples = target.events * (1 - heldShare) - trainUsers;
    const fullEpochHours = epochSamples / (train.samplesPerSecond / (target.depth / measuredDepth)) / 3600;
    const maxPeakRssMiB = Math.max(...steps.map((s) => s.peakRssMiB));
    const report: ScaleBenchReport = {
      date: new Date().toISOString(),
      cpu: cpus()[0]?.model ?? 'unknown CPU',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      command: o.command,
      loadStart,
      loadEnd: loadavg(),
      ...partial,
      small: { events: small.data.events, users: small.data.users, items: small.data.items, peakRssMiB: small.steps.map((s) => s.peakRssMiB) },
      steps,
      maxPeakRssMiB,
      withinRssLimit: maxPeakRssMiB <= RSS_LIMIT_MIB,
      fullEpochHours,
      assumptions: [
        `the target is the full Taobao UserBehavior set: ${USER_BEHAVIOR.events} events, ${USER_BEHAVIOR.users} users, ${USER_BEHAVIOR.items} items; its file, like the generated one, is grouped by user and in time order within a user`,
        'ingest and split take time in proportion to events (index inserts stay appends because rows come grouped by user; SQLite\'s page cache is capped at 128 MiB); build-tree in proportion to items',
        `training and eval: pairs scored per sample or query grow with the tree depth (${measuredDepth} here, ${target.depth} for ${USER_BEHAVIOR.items} items at branching 2), so the time per sample or query does; the rest of the step (loading sequences, building the baseline) grows with events`,
        `memory: each step's peak RSS is extended along the straight line through its peak at ${small.data.events} events and at ${data.events} (users and items in the same proportion as events; the real set has about 4 items per user where the generated one has 10, so item tables are over-counted by the line)`,
        `a full training epoch is one sample per training event after each user's first (${Math.round(epochSamples / 1e6)}M samples) at the slice's samples/s divided by the depth ratio, on this machine under the same load`,
      ],
    };
    writeBenchJson(o.outDir, 'scale', report);
    log(`peak RSS at most ${maxPeakRssMiB.toFixed(0)} MiB (limit ${RSS_LIMIT_MIB}); a full epoch on UserBehavior ≈ ${fullEpochHours.toFixed(1)} h`);
    return report;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The BENCHMARKS.md section of docs/bench/scale.json ('' when absent). */
export function scaleBenchSection(file: string): string {
  if (!existsSync(file)) return '';
  const r = JSON.parse(readFileSync(file, 'utf8')) as ScaleBenchReport;
  const mib = (x: number) => (x >= 1024 ? `${(x / 1024).toFixed(2)} GiB` : `${x.toFixed(0)} MiB`);
  const dur = (s: number) => (s >= 5400 ? `${(s / 3600).toFixed(1)} h` : s >= 90 ? `${(s / 60).toFixed(1)} min` : `${s.toFixed(1)} s`);
  const load = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(', ');
  const what = (s: StepRecord): string => {
    const d = s.details as Record<string, unknown>;
    const n = (x: unknown) => Math.round(x as number).toLocaleString('en-US');
    switch (s.step) {
      case 'ingest': return `${n(d.rowsRead)} rows, ${n(d.rowsRead as number / s.seconds)} rows/s; ${n(d.users)} users, ${n(d.items)} items, ${n(d.categories)} categories`;
      case 'split': return `${d.testUsers} test, ${d.validUsers} validation users`;
      case 'build-tree': return `${n(d.items)} items, depth ${d.depth}`;
      case 'train': return `${n(d.samplesPerEpoch)} samples at ${n(d.samplesPerSecond)} samples/s (${n(d.pairsPerSecond)} pairs/s, ${d.pairsPerSample} pairs a sample) on ${d.workers} worker(s), backend ${d.backend}; validation recall@50 ${(((d.validRecall as number) ?? NaN) * 100).toFixed(2)} %`;
      case 'eval': return ((d.methods as { name: string; beam?: number; recall: number; msPerQuery: number }[]) ?? []).map((m) => `${m.name}${m.beam ? ` (beam ${m.beam})` : ''} recall@${d.k} ${(m.recall * 100).toFixed(2)} %, ${m.msPerQuery.toFixed(1)} ms a query`).join('; ') + ` (${d.users} users)`;
    }
  };
  return [
    '',
    '## Scale: the pipeline on a UserBehavior-sized set',
    '',
    `A seeded synthetic set in Taobao UserBehavior format: ${r.data.events.toLocaleString('en-US')} events, ${r.data.users.toLocaleString('en-US')} users (${r.data.minEvents}-${r.data.maxEvents} events each), ` +
      `${r.data.items.toLocaleString('en-US')} items, seed ${r.data.seed} (CSV ${mib(r.data.csvBytes / 2 ** 20)}, written in ${dur(r.data.generateSeconds)}; store ${mib(r.data.storeBytes / 2 ** 20)}). ` +
      `The same steps first ran on a set a tenth of the size (${r.small.events.toLocaleString('en-US')} events; peak RSS ${r.small.peakRssMiB.map((x) => mib(x)).join(', ')}), for the memory line. ` +
      'Each step runs in a process of its own through the library\'s pipeline functions (what the `arbor` command of the same name runs); seconds are the call\'s, peak RSS the process\'s (getrusage). ' +
      `Training is a slice: one epoch capped at ${r.settings.trainSamples.toLocaleString('en-US')} samples with the defaults (hierarchical user preference, default workers); eval is beam search (k ${r.settings.k}, beam ${r.settings.beam}) and popularity on ${r.settings.evalUsers} test users. ` +
      `Run ${r.date} on ${r.cores} × ${r.cpu}, ${r.memoryGiB} GiB, Node ${r.node} (\`${r.command}\`); load average ${load(r.loadStart)} at the start, ${load(r.loadEnd)} at the end (a shared machine).`,
    '',
    '| step | seconds | peak RSS | what it did | extrapolated to UserBehavior: time | peak RSS | how |',
    '| :--- | ---: | ---: | :--- | ---: | ---: | :--- |',
    ...r.steps.map((s) => `| ${s.step} | ${s.seconds.toFixed(1)} | ${mib(s.peakRssMiB)} | ${what(s)} | ${dur(s.extrapolated.seconds)} | ${mib(s.extrapolated.peakRssMiB)} | ${s.extrapolated.how} |`),
    '',
    `Largest peak RSS of a step: **${mib(r.maxPeakRssMiB)}** (limit 8 GiB: ${r.withinRssLimit ? 'within' : 'EXCEEDED'}). ` +
      `Extrapolated to the full UserBehavior set (${r.target.events.toLocaleString('en-US')} events, ${r.target.items.toLocaleString('en-US')} items, tree depth ${r.target.depth}): ` +
      `one full training epoch would take about **${r.fullEpochHours.toFixed(1)} h** on this machine at the slice's speed. Assumptions:`,
    '',
    ...r.assumptions.map((a) => `- ${a}`),
    '',
  ].join('\n');
}

const USAGE = `node dist/bench/scale.js [options]   (or: npm run bench -- --only scale [--scale-events N])

  --events N          events in the generated set (default 10000000; users = N / 100, items = N / 10)
  --items N           catalogue size (default N / 10)
  --train-samples N   training samples of the slice (default 300000)
  --eval-users N      test users evaluated (default 500)
  --valid-users N     validation users (default 200)
  --seed S            (default 42)
  --out DIR           where bench/scale.json goes (default docs)
`;

/** Parses the positive integer option `name`. */
function positive(values: Record<string, unknown>, name: string): number {
  const v = Number(values[name]);
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`scale bench: --${name} must be a positive integer, got ${String(values[name])}\n\n${USAGE}`);
    process.exit(2);
  }
  return v;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '10000000' },
      items: { type: 'string' },
      'train-samples': { type: 'string', default: '300000' },
      'eval-users': { type: 'string', default: '500' },
      'valid-users': { type: 'string', default: '200' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string', default: join(root, 'docs') },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  await runScaleBench({
    outDir: values.out!,
    events: positive(values, 'events'),
    ...(values.items !== undefined ? { items: positive(values, 'items') } : {}),
    trainSamples: positive(values, 'train-samples'),
    evalUsers: positive(values, 'eval-users'),
    validUsers: positive(values, 'valid-users'),
    seed: positive(values, 'seed'),
    command: ['node dist/bench/scale.js', ...process.argv.slice(2)].join(' '),
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
