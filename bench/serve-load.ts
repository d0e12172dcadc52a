/**
 * Load test of `arbor serve` over loopback: spawns the built CLI on a free
 * port, drives `POST /v1/retrieve` with autocannon (every connection cycles
 * through real user histories), and records throughput, p50/p99 latency,
 * errors and non-2xx answers (both must be 0) and the server's resident
 * memory (from /proc) after a warm-up and after every measured phase, so
 * growth under sustained load shows.
 *
 * The model is a synthetic catalogue trained briefly (cost does not depend
 * on how well it is trained), or `--dataset movielens|amazon|taobao` from
 * ../shared/datasets, or any trained folder given with `--model`.
 *
 * `node dist/bench/serve-load.js [--items N] [--dataset NAME] [--model DIR]
 * [--connections 1,8] [--duration S] [--repeats R] [--k K] [--beam B]`
 * writes docs/bench/serve-load-<name>.json; `npm run bench` runs it on the
 * synthetic model after the data sets (`--only serve` runs only it) and
 * docs/BENCHMARKS.md gets a table from every serve-load-*.json.
 *
 * On this 2-core machine autocannon and the server share the cores: the
 * figures are for client and server on one box.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { stderrLogger } from '../src/core/log.js';
import { Store, generateSynthetic, type InputFormat } from '../src/data/index.js';
import { readModel } from '../src/model/folder.js';
import { createModelFolder, trainModelFolder } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import { writeBenchJson } from './bench-json.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const bin = join(root, 'bin', 'arbor.js');

/** What to load-test and how hard. */
export interface ServeLoadOptions {
  /** Name used in the output file and the table. */
  name: string;
  /** A trained model folder; when absent one is built (synthetic or `dataset`). */
  model?: string;
  /** Synthetic catalogue size when building a model. */
  items: number;
  /** Real data set to build the model from (movielens, amazon, taobao). */
  dataset?: string;
  datasetsDir: string;
  /** Concurrent connections, one phase each (the last is repeated `repeats` times). */
  connections: number[];
  /** Seconds per measured phase. */
  duration: number;
  repeats: number;
  k: number;
  beam: number;
  outDir: string;
}

/** One measured phase. */
export interface LoadPhase {
  connections: number;
  seconds: number;
  requests: number;
  requestsPerSecond: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMaxMs: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  rssAfterMB: number;
}

/** The JSON written to docs/bench/serve-load-<name>.json. */
export interface ServeLoadReport {
  name: string;
  date: string;
  cpu: string;
  cores: number;
  node: string;
  /** 1-minute load average of the machine before and after the run (other processes included). */
  loadAverage: { start: number; end: number };
  command: string;
  model: { source: string; items: number; depth: number; scorer: unknown };
  request: { k: number; beam: number; histories: number; meanHistory: number };
  server: { args: string[]; rssStartMB: number; rssAfterWarmupMB: number; rssEndMB: number; peakRssMB: number };
  warmupSeconds: number;
  phases: LoadPhase[];
  totals: { requests: number; errors: number; non2xx: number };
}

const DATASET_FILES: Record<string, { file: string; format: InputFormat; items?: string; minRating?: number }> = {
  movielens: { file: 'movielens-1m-part/ratings.dat', format: 'movielens', items: 'movielens-1m-part/movies.dat', minRating: 4 },
  amazon: { file: 'amazon-beauty/Beauty.txt', format: 'sequence', items: 'amazon-beauty/Beauty_item2attributes.json' },
  taobao: { file: 'taobao-userbehavior/UserBehavior_prefix_814users.csv', format: 'userbehavior' },
};

/** /proc/PID/status fields in MB (Linux). */
function memoryMB(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (f: string) => Number(new RegExp(`^${f}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, peak: kb('VmHWM') / 1024 };
}

/** Builds and briefly trains a model; returns it with the store's user histories (external ids). */
async function buildModel(o: ServeLoadOptions, dir: string): Promise<{ model: string; histories: string[][]; source: string }> {
  const log = stderrLogger({ quiet: true });
  const store = Store.open(join(dir, 'store.db'));
  try {
    let source: string;
    if (o.dataset) {
      const spec = DATASET_FILES[o.dataset];
      if (!spec) throw new Error(`unknown --dataset ${o.dataset} (movielens, amazon, taobao)`);
      const file = join(o.datasetsDir, spec.file);
      if (!existsSync(file)) throw new Error(`${file} not found`);
      await store.ingest(file, spec.format, { items: spec.items && join(o.datasetsDir, spec.items), minRating: spec.minRating, logger: log });
      source = `${o.dataset} (${spec.file})`;
    } else {
      store.insertDataset(generateSynthetic({ items: o.items, users: Math.max(1000, Math.round(o.items / 10)), seed: 42 }), 'synthetic');
      source = `synthetic, ${o.items} items requested (seed 42)`;
    }
    const model = join(dir, 'model');
    await createModelFolder(store, model, { init: 'category', branching: 2, seed: 42 }, log);
    // briefly trained: serving cost depends on the network's shape, not its weights
    await trainModelFolder(store, model, { train: { epochs: 1, maxSamplesPerEpoch: 20000 }, embDim: 24, seed: 42, hierarchical: true }, log);
    const cat = store.catalogue();
    const histories = store
      .sequences()
      .slice(0, 500)
      .map((s) => Array.from(s.items, (i) => cat.itemIds[i]).slice(-69));
    return { model, histories, source };
  } finally {
    store.close();
  }
}

/** Spawns `arbor serve` on a free loopback port; resolves with its URL once it listens. */
function startServer(model: string, args: string[]): Promise<{ proc: ChildProcess; url: string; logLines: () => number; exit: Promise<number | null> }> {
  const proc = spawn(process.execPath, [bin, 'serve', '--model', model, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let lines = 0;
  let tail = '';
  proc.stderr!.on('data', (d: Buffer) => {
    for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) lines++;
    tail = (tail + d.toString()).slice(-2000);
  });
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolveStart, reject) => {
    let out = '';
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolveStart({ proc, url: JSON.parse(out.slice(0, nl)).url, logLines: () => lines, exit });
    });
    exit.then((code) => reject(new Error(`arbor serve exited ${code} before listening: ${tail}`)));
  });
}

/** One autocannon run; every connection cycles through the request bodies. */
async function blast(url: string, bodies: string[], connections: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({
    url: `${url}/v1/retrieve`,
    connections,
    duration: seconds,
    timeout: 30,
    requests: bodies.map((body) => ({ method: 'POST' as const, path: '/v1/retrieve', headers: { 'content-type': 'application/json' }, body })),
  });
}

/** Runs the load test and writes docs/bench/serve-load-<name>.json. */
export async function runServeLoad(o: ServeLoadOptions): Promise<ServeLoadReport> {
  const tmp = mkdtempSync(join(tmpdir(), 'arbor-serve-load-'));
  const say = (m: string) => process.stderr.write(`serve-load ${o.name}: ${m}\n`);
  try {
    let model = o.model;
    let histories: string[][];
    let source: string;
    if (model) {
      const tree = readModel(model).tree;
      // without a store, histories are runs of consecutive catalogue items (leaf order keeps categories together)
      histories = Array.from({ length: 500 }, (_, i) => tree.items.itemIds.slice((i * 37) % tree.numItems, ((i * 37) % tree.numItems) + 20));
      source = model;
    } else {
      say('building and briefly training the model');
      await initBackend();
      ({ model, histories, source } = await buildModel(o, tmp));
    }
    histories = histories.filter((h) => h.length > 0);
    const m = readModel(model);
    const bodies = histories.map((history) => JSON.stringify({ history, k: o.k, beam: o.beam }));
    const args = ['--log-level', 'info', '-k', String(o.k), '--workers', String(availableParallelism())];
    const loadStart = loadavg()[0];
    const server = await startServer(model, args);
    const pid = server.proc.pid!;
    try {
      const rssStart = memoryMB(pid).rss;
      const warmupSeconds = 3;
      say(`warm-up ${warmupSeconds} s`);
      await blast(server.url, bodies, 2, warmupSeconds);
      const rssAfterWarmup = memoryMB(pid).rss;
      const plan = [...o.connections.slice(0, -1), ...Array.from({ length: o.repeats }, () => o.connections[o.connections.length - 1])];
      const phases: LoadPhase[] = [];
      for (const c of plan) {
        const r = await blast(server.url, bodies, c, o.duration);
        const phase: LoadPhase = {
          connections: c,
          seconds: r.duration,
          requests: r['2xx'],
          requestsPerSecond: r['2xx'] / r.duration,
          latencyP50Ms: r.latency.p50,
          latencyP99Ms: r.latency.p99,
          latencyMaxMs: r.latency.max,
          errors: r.errors,
          timeouts: r.timeouts,
          non2xx: r.non2xx,
          rssAfterMB: memoryMB(pid).rss,
        };
        phases.push(phase);
        say(
          `${c} connections: ${phase.requestsPerSecond.toFixed(1)} req/s, p50 ${phase.latencyP50Ms} ms, p99 ${phase.latencyP99Ms} ms, ` +
            `errors ${phase.errors}, non-2xx ${phase.non2xx}, RSS ${phase.rssAfterMB.toFixed(0)} MB`,
        );
      }
      const mem = memoryMB(pid);
      server.proc.kill('SIGTERM');
      const code = await server.exit;
      if (code !== 0) throw new Error(`arbor serve exited ${code} after SIGTERM`);
      const report: ServeLoadReport = {
        name: o.name,
        date: new Date().toISOString(),
        cpu: cpus()[0]?.model ?? 'unknown CPU',
        cores: cpus().length,
        node: process.version,
        loadAverage: { start: loadStart, end: loadavg()[0] },
        command: `node dist/bench/serve-load.js --name ${o.name}${o.dataset ? ` --dataset ${o.dataset}` : o.model ? ` --model ${o.model}` : ` --items ${o.items}`} --connections ${o.connections.join(',')} --duration ${o.duration} --repeats ${o.repeats} --k ${o.k} --beam ${o.beam}`,
        model: { source, items: m.tree.numItems, depth: m.tree.layout.depth, scorer: (m.manifest.config as { scorer?: unknown }).scorer ?? null },
        request: { k: o.k, beam: o.beam, histories: bodies.length, meanHistory: histories.reduce((a, h) => a + h.length, 0) / histories.length },
        server: { args, rssStartMB: rssStart, rssAfterWarmupMB: rssAfterWarmup, rssEndMB: mem.rss, peakRssMB: mem.peak },
        warmupSeconds,
        phases,
        totals: {
          requests: phases.reduce((a, p) => a + p.requests, 0),
          errors: phases.reduce((a, p) => a + p.errors, 0),
          non2xx: phases.reduce((a, p) => a + p.non2xx, 0),
        },
      };
      writeBenchJson(o.outDir, `serve-load-${o.name}`, report);
      say(`wrote ${join(o.outDir, 'bench', `serve-load-${o.name}.json`)} (${server.logLines()} log lines from the server)`);
      return report;
    } finally {
      if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** One sentence on memory over the repeated (sustained-load) phases. */
function flatness(r: ServeLoadReport): string {
  const last = r.phases[r.phases.length - 1].connections;
  const rep = r.phases.filter((p) => p.connections === last);
  const rss = rep.map((p) => p.rssAfterMB);
  const n = rep.reduce((a, p) => a + p.requests, 0);
  return (
    `Sustained load (${rep.length} phases at ${last} connections, ${n} requests): server RSS between ${Math.min(...rss).toFixed(0)} and ${Math.max(...rss).toFixed(0)} MB, ` +
    `${rss[0].toFixed(0)} MB after the first phase and ${rss[rss.length - 1].toFixed(0)} MB after the last.`
  );
}

/** The BENCHMARKS.md section built from every docs/bench/serve-load-*.json. */
export function serveLoadSection(benchDir: string): string {
  if (!existsSync(benchDir)) return '';
  const reports = readdirSync(benchDir)
    .filter((f) => f.startsWith('serve-load-') && f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(benchDir, f), 'utf8')) as ServeLoadReport);
  if (reports.length === 0) return '';
  const out = [
    '',
    '## `arbor serve` under load',
    '',
    'autocannon against a spawned `arbor serve` on loopback, `POST /v1/retrieve` with real user histories (each connection cycles through up to 500), ' +
      'after a 3 s warm-up; the last concurrency level is repeated to show whether memory grows under sustained load. ' +
      'Client and server share the machine\'s cores. Latency is measured by the client (queueing included). ' +
      'Retrieval runs on the server\'s worker pool (`--workers`, one per core) when the server arguments say so; earlier reports without `--workers` ran it on the server thread.',
    '',
  ];
  for (const r of reports) {
    out.push(
      `### ${r.name}: ${r.model.items} items (depth ${r.model.depth}), k ${r.request.k}, beam ${r.request.beam}`,
      '',
      `Model: ${r.model.source}. ${r.request.histories} histories, mean length ${r.request.meanHistory.toFixed(1)}. ` +
        `Run ${r.date} on ${r.cores} × ${r.cpu}, Node ${r.node} (\`${r.command}\`); server arguments \`${r.server.args.join(' ')}\`.`,
      '',
      '| connections | seconds | requests | req/s | p50 ms | p99 ms | max ms | errors | timeouts | non-2xx | server RSS after, MB |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      ...r.phases.map(
        (p) =>
          `| ${p.connections} | ${p.seconds.toFixed(0)} | ${p.requests} | ${p.requestsPerSecond.toFixed(1)} | ${p.latencyP50Ms} | ${p.latencyP99Ms} | ${p.latencyMaxMs} | ${p.errors} | ${p.timeouts} | ${p.non2xx} | ${p.rssAfterMB.toFixed(0)} |`,
      ),
      '',
      `${flatness(r)} Server RSS: ${r.server.rssStartMB.toFixed(0)} MB at start, ${r.server.rssAfterWarmupMB.toFixed(0)} MB after warm-up, ${r.server.rssEndMB.toFixed(0)} MB at the end ` +
        `(peak ${r.server.peakRssMB.toFixed(0)} MB); ${r.totals.requests} requests, ${r.totals.errors} errors, ${r.totals.non2xx} non-2xx. ` +
        (r.loadAverage ? `Machine load average ${r.loadAverage.start.toFixed(1)} before, ${r.loadAverage.end.toFixed(1)} after (all processes on the machine).` : ''),
      '',
    );
  }
  return out.join('\n');
}

/** Command-line options of the standalone script, also accepted by `npm run bench` as defaults. */
export function serveLoadDefaults(outDir: string, datasetsDir: string): ServeLoadOptions {
  return { name: 'synthetic-30k', items: 30000, datasetsDir, connections: [1, 8], duration: 10, repeats: 12, k: 200, beam: 400, outDir };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      name: { type: 'string' },
      model: { type: 'string' },
      items: { type: 'string' },
      dataset: { type: 'string' },
      datasets: { type: 'string', default: resolve(root, '..', 'shared', 'datasets') },
      connections: { type: 'string' },
      duration: { type: 'string' },
      repeats: { type: 'string' },
      k: { type: 'string' },
      beam: { type: 'string' },
      out: { type: 'string', default: join(root, 'docs') },
    },
  });
  const d = serveLoadDefaults(values.out!, values.datasets!);
  const num = (v: string | undefined, dflt: number) => (v === undefined ? dflt : Number(v));
  const items = num(values.items, d.items);
  const o: ServeLoadOptions = {
    ...d,
    name: values.name ?? values.dataset ?? (values.model ? 'model' : `synthetic-${items >= 1000 ? `${Math.round(items / 1000)}k` : items}`),
    model: values.model,
    dataset: values.dataset,
    items,
    connections: values.connections ? values.connections.split(',').map(Number) : d.connections,
    duration: num(values.duration, d.duration),
    repeats: num(values.repeats, d.repeats),
    k: num(values.k, d.k),
    beam: num(values.beam, d.beam),
  };
  await runServeLoad(o);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();
