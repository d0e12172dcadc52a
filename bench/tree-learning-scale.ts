/**
 * How tree learning (JTM) grows with the catalogue: synthetic catalogues of
 * 10k, 100k and 1M items, an untrained pooling scorer (the cost does not
 * depend on the weights), at most one training pair per item, gap 4. Each
 * size runs in its own process so that its peak memory (max RSS) is its own.
 *
 *   node dist/bench/tree-learning-scale.js [--sizes 10000,100000,1000000] [--out docs]
 */
import { spawnSync } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.js';
import { generateSynthetic } from '../src/data/synthetic.js';
import { initBackend } from '../src/scorer/backend.js';
import { DEFAULT_SCORER_CONFIG } from '../src/scorer/config.js';
import { ScorerNetwork } from '../src/scorer/network.js';
import { pairScoring } from '../src/trainer/pair-scorer.js';
import { slidingWindowSamples } from '../src/trainer/samples.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { learnTree } from '../src/tree/learn.js';
import { writeBenchJson } from './bench-json.js';

const GAP = 4;
const PAIRS_PER_ITEM = 1;

/** One measurement. */
export interface ScaleRow {
  items: number;
  pairs: number;
  depth: number;
  gap: number;
  rowsScored: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMB: number;
  moved: number;
}

async function measure(items: number): Promise<ScaleRow> {
  await initBackend();
  const ds = generateSynthetic({ items, users: Math.max(50, Math.round(items / 25)), seed: 42 });
  const index = new Map<string, number>();
  ds.items.forEach((it, i) => index.set(it.id, i));
  const cats = new Map<string, number>();
  const itemCategory = Int32Array.from(ds.items, (it) => {
    if (!cats.has(it.category)) cats.set(it.category, cats.size);
    return cats.get(it.category)!;
  });
  const byUser = new Map<string, number[]>();
  for (const e of ds.events) {
    let s = byUser.get(e.user);
    if (!s) byUser.set(e.user, (s = []));
    s.push(index.get(e.item)!);
  }
  const sequences = [...byUser.values()].map((s) => Int32Array.from(s));
  const tree = buildCategoryTree({ itemIds: ds.items.map((x) => x.id), itemCategory, categoryIds: [...cats.keys()] }, { branching: 2, seed: 42 });
  const net = ScorerNetwork.init(DEFAULT_SCORER_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(42));
  const started = performance.now();
  const scoring = pairScoring(net, tree, slidingWindowSamples(sequences));
  const learned = learnTree(tree, scoring.data, scoring.score, { gap: GAP, maxPairsPerItem: PAIRS_PER_ITEM, seed: 42 });
  const seconds = (performance.now() - started) / 1000;
  const pairsUsed = Math.min(scoring.data.numPairs, new Set(scoring.data.target).size * PAIRS_PER_ITEM);
  return {
    items,
    pairs: pairsUsed,
    depth: tree.layout.depth,
    gap: GAP,
    rowsScored: learned.scoredNodes,
    seconds,
    rowsPerSecond: learned.scoredNodes / seconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
    moved: learned.moved,
  };
}

async function main(): Promise<void> {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '10000,100000,1000000' },
      one: { type: 'string' },
      out: { type: 'string', default: resolve(here, '..', '..', 'docs') },
    },
  });
  if (values.one) {
    process.stdout.write(JSON.stringify(await measure(Number(values.one))) + '\n');
    return;
  }
  const rows: ScaleRow[] = [];
  for (const n of values.sizes!.split(',').map(Number)) {
    process.stderr.write(`tree learning at ${n} items...\n`);
    const r = spawnSync(process.execPath, ['--max-old-space-size=16000', fileURLToPath(import.meta.url), '--one', String(n)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.status !== 0) throw new Error(`size ${n} failed with exit code ${r.status}`);
    const row = JSON.parse(r.stdout.trim().split('\n').pop()!) as ScaleRow;
    process.stderr.write(`  ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  writeBenchJson(values.out!, 'tree-learning-scale', { date: new Date().toISOString(), rows });
}

await main();
