/**
 * Where a trained model's scores stop being comparable: for held-out users
 * (validation users by default, so nothing here is chosen on test users),
 * every non-empty node of every level is scored, and for each truth item we
 * ask whether its ancestor on each level ranks among the top B nodes of that
 * whole level, under the node rule (the node's own score) and under the path
 * rule (the sum of log σ from the root). A level where the node rule drops
 * far below the path rule is a level whose scores are not comparable across
 * subtrees. It also prints how often the items each method returns (and the
 * truth items) occur in training, which shows whether a method favours rare
 * items whose embeddings barely trained.
 *
 *   arbor demo --keep /tmp/d --epochs 2
 *   node dist/bench/diagnose.js --db /tmp/d/demo.db --model /tmp/d/model [--users 100] [--k 50] [--role valid] [--json]
 */
import { parseArgs } from 'node:util';
import { networkSearch } from '../src/beam/network-search.js';
import { logSigmoid } from '../src/beam/topk.js';
import { Store } from '../src/data/store.js';
import { readModel } from '../src/model/folder.js';
import { TreeDataset } from '../src/model/dataset.js';
import { initBackend } from '../src/scorer/backend.js';
import { NetworkScorer } from '../src/scorer/session.js';

const TOP = [50, 200];
const BUCKETS: [string, number][] = [
  ['0', 0],
  ['1-2', 2],
  ['3-10', 10],
  ['11-50', 50],
  ['>50', Infinity],
];

/** What the diagnosis finds. */
export interface Diagnosis {
  users: number;
  truthItems: number;
  /** Per level 1..depth: non-empty nodes and the share of truth items whose ancestor ranks in the top B (per TOP) under each rule. */
  levels: { level: number; nodes: number; node: number[]; path: number[] }[];
  /** Share of items per training-frequency bucket: the truth items and the top k of beam search (beam = k) and brute force under each rule. */
  frequency: Record<string, number[]>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      db: { type: 'string' },
      model: { type: 'string' },
      users: { type: 'string', default: '100' },
      k: { type: 'string', default: '50' },
      role: { type: 'string', default: 'valid' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.db || !values.model) throw new Error('usage: node dist/bench/diagnose.js --db FILE --model DIR [--users N] [--k K] [--role valid|test] [--json]');
  const role = values.role === 'test' ? 'test' : 'valid';
  const k = Number(values.k);
  await initBackend();
  const store = Store.open(values.db, { mustExist: true });
  const { tree, network } = readModel(values.model, { requireScorer: true });
  const data = TreeDataset.of(store, tree);
  const freq = new Int32Array(tree.numItems);
  for (const s of data.sequences(['train'])) for (const it of s.items) freq[it]++;
  const cases = data
      .cases(role)
    .cases.filter((c) => c.truth.length > 0 && c.history.length > 0)
    .slice(0, Number(values.users));
  store.close();
  const scorer = new NetworkScorer(network!, tree);
  const depth = tree.layout.depth;
  const inTop = { node: Array.from({ length: depth + 1 }, () => TOP.map(() => 0)), path: Array.from({ length: depth + 1 }, () => TOP.map(() => 0)) };
  const counts: Record<string, number[]> = {};
  const bucketOf = (f: number) => BUCKETS.findIndex(([, max]) => f <= max);
  const count = (name: string, items: Iterable<number>) => {
    const c = (counts[name] ??= BUCKETS.map(() => 0));
    for (const it of items) c[bucketOf(freq[it])]++;
  };
  const pathKey = new Float64Array(tree.layout.numNodes);
  let truthItems = 0;
  for (const c of cases) {
    const truth = Array.from(c.truth).filter((t) => t >= 0);
    truthItems += truth.length;
    count('truth', truth);
    const session = scorer.open(c.history);
    for (let l = 1; l <= depth; l++) {
      const nodes = tree.nonEmptyNodes(l);
      const scores = session.score(nodes, l);
      const keys = new Float64Array(nodes.length);
      const at = new Map<number, number>();
      nodes.forEach((n, j) => {
        at.set(n, j);
        keys[j] = pathKey[n] = pathKey[tree.layout.parent(n)] + logSigmoid(scores[j]);
      });
      for (const t of truth) {
        const j = at.get(tree.pathOf(t)[l])!;
        let rankNode = 0;
        let rankPath = 0;
        for (let q = 0; q < nodes.length; q++) {
          if (scores[q] > scores[j]) rankNode++;
          if (keys[q] > keys[j]) rankPath++;
        }
        TOP.forEach((b, bi) => {
          if (rankNode < b) inTop.node[l][bi]++;
          if (rankPath < b) inTop.path[l][bi]++;
        });
      }
    }
    session.close();
    for (const [rank, pathWeight] of [['node', 0], ['path', 1]] as [string, number][]) {
      count(`beam (${rank})`, networkSearch(tree, network!).retrieve(c.history, { k, beam: k, pathWeight }).items);
      count(`brute force (${rank})`, networkSearch(tree, network!, 'brute-force').retrieve(c.history, { k, pathWeight }).items);
    }
  }
  network!.dispose();
  const share = (x: number) => x / Math.max(1, truthItems);
  const d: Diagnosis = {
    users: cases.length,
    truthItems,
    levels: Array.from({ length: depth }, (_, i) => ({
      level: i + 1,
      nodes: tree.nonEmptyNodes(i + 1).length,
      node: inTop.node[i + 1].map(share),
      path: inTop.path[i + 1].map(share),
    })),
    frequency: Object.fromEntries(
      Object.entries(counts).map(([name, c]) => {
        const total = c.reduce((a, b) => a + b, 0);
        return [name, c.map((x) => x / Math.max(1, total))];
      }),
    ),
  };
  if (values.json) {
    process.stdout.write(JSON.stringify(d) + '\n');
    return;
  }
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const out: string[] = [];
  out.push(`${values.model}: ${d.users} ${role} users, ${d.truthItems} truth items`);
  out.push('');
  out.push(`Share of truth items whose ancestor ranks in the top B nodes of its whole level:`);
  out.push('');
  out.push(`| level | nodes | ${TOP.map((b) => `node rule, top ${b}`).join(' | ')} | ${TOP.map((b) => `path rule, top ${b}`).join(' | ')} |`);
  out.push(`| ---: | ---: | ${TOP.map(() => '---:').join(' | ')} | ${TOP.map(() => '---:').join(' | ')} |`);
  for (const r of d.levels) out.push(`| ${r.level} | ${r.nodes} | ${r.node.map(pct).join(' | ')} | ${r.path.map(pct).join(' | ')} |`);
  out.push('');
  out.push(`How often the items occur in training (share of each list; beam and brute force return their top ${k}):`);
  out.push('');
  out.push(`| items | ${BUCKETS.map(([b]) => `${b} times`).join(' | ')} |`);
  out.push(`| :--- | ${BUCKETS.map(() => '---:').join(' | ')} |`);
  for (const [name, s] of Object.entries(d.frequency)) out.push(`| ${name} | ${s.map(pct).join(' | ')} |`);
  process.stdout.write(out.join('\n') + '\n');
}

main().catch((e) => {
  process.stderr.write(`diagnose: ${(e as Error).message}\n`);
  process.exit(1);
});
