/**
 * Test helpers for the tfjs side: a tiny scorer config, a planted data set
 * (users browse one item group each), a tiny training run, recall of a
 * retriever, weight comparison and temporary folders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.js';
import type { Retriever } from '../../src/beam/retriever.js';
import type { EvalCase } from '../../src/data/types.js';
import type { ScorerConfig } from '../../src/scorer/config.js';
import { ScorerNetwork, type NamedArrays } from '../../src/scorer/network.js';
import { trainScorer, type TrainOptions, type TrainSummary } from '../../src/trainer/train.js';
import { buildCategoryTree } from '../../src/tree/build.js';
import type { Tree, TreeItems } from '../../src/tree/tree.js';

/** A network small enough for unit tests. */
export const TINY_CONFIG: ScorerConfig = { kind: 'pooling', embDim: 8, hidden: [16, 8], windows: [1, 2, 4] };

/** A catalogue of `groups` × `groupSize` items plus users who each browse one group. */
export interface PlantedData {
  items: TreeItems;
  groups: number;
  groupSize: number;
  /** Training sequences (item indices, time order). */
  sequences: Int32Array[];
  /** Held-out users: first half of a fresh sequence as history, distinct second-half items as truth. */
  cases: EvalCase[];
}

/**
 * Item i belongs to group ⌊i / groupSize⌋ (also its category). Every user
 * picks a group and draws `length` items uniformly from it.
 */
export function plantedData(opts: { groups: number; groupSize: number; users: number; testUsers: number; length: number; seed: number }): PlantedData {
  const { groups, groupSize, length } = opts;
  const n = groups * groupSize;
  const rng = new Rng(opts.seed);
  const draw = (): Int32Array => {
    const g = rng.int(groups);
    return Int32Array.from({ length }, () => g * groupSize + rng.int(groupSize));
  };
  const sequences = Array.from({ length: opts.users }, draw);
  const cases: EvalCase[] = Array.from({ length: opts.testUsers }, (_, u) => {
    const s = draw();
    const half = Math.floor(length / 2);
    return { user: `t${u}`, history: s.slice(0, half), truth: Int32Array.from(new Set(s.subarray(half))) };
  });
  return {
    items: {
      itemIds: Array.from({ length: n }, (_, i) => `i${i}`),
      itemCategory: Int32Array.from({ length: n }, (_, i) => Math.floor(i / groupSize)),
      categoryIds: Array.from({ length: groups }, (_, g) => `c${g}`),
    },
    groups,
    groupSize,
    sequences,
    cases,
  };
}

/** A tree, a fresh network and a training run, all from one seed. */
export function trainTiny(
  items: TreeItems,
  sequences: Int32Array[],
  seed: number,
  opts: Partial<TrainOptions> = {},
  treeSeed = seed,
): { tree: Tree; network: ScorerNetwork; summary: TrainSummary } {
  const tree = buildCategoryTree(items, { branching: 2, seed: treeSeed });
  const network = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(seed));
  const summary = trainScorer(tree, network, { sequences }, { epochs: 2, batchSize: 64, seed, ...opts });
  return { tree, network, summary };
}

/** Mean recall@k of a retriever over the cases. */
export function recallAt(retriever: Retriever, cases: EvalCase[], k: number, beam = k): number {
  let sum = 0;
  for (const c of cases) {
    const got = retriever.retrieve(c.history, { k, beam }).items;
    const truth = new Set(c.truth);
    let hits = 0;
    for (const it of got) if (truth.has(it)) hits++;
    sum += hits / truth.size;
  }
  return sum / cases.length;
}

/** The bytes of a float array, for exact (bitwise) comparison. */
export function bytesOf(a: Float32Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/** Names of the weights whose values differ bitwise (shape differences count too). */
export function differingWeights(a: NamedArrays, b: NamedArrays): string[] {
  const names = new Set([...a.keys(), ...b.keys()]);
  const out: string[] = [];
  for (const name of names) {
    const x = a.get(name);
    const y = b.get(name);
    if (!x || !y || x.shape.join() !== y.shape.join() || !bytesOf(x.data).equals(bytesOf(y.data))) out.push(name);
  }
  return out.sort();
}

/** A fresh temporary folder and a function removing it. */
export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `arbor-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
