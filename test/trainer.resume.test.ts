/**
 * Resumable training: a run that crashes right after writing a checkpoint
 * (mid-epoch or at an epoch end), resumed from the checkpoint file, ends
 * with the weights, epoch reports and kept epoch of the uninterrupted run,
 * bit for bit, in the calling thread and on 1 and 2 worker threads. The
 * checkpoint file round trip, its checksums and the run identity check.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { initBackend } from '../src/scorer/backend.js';
import { ScorerNetwork, type NamedArrays } from '../src/scorer/network.js';
import { trainParallel } from '../src/runtime/train-pool.js';
import { checkIdentity, checkpointFolder, hasCheckpoint, readCheckpoint, writeCheckpoint, type RunIdentity } from '../src/pipeline/checkpoint.js';
import type { Checkpoints, TrainState } from '../src/trainer/train-state.js';
import type { TrainOptions, TrainSummary } from '../src/trainer/train.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { ItemFeatures } from '../src/trainer/item-features.js';
import { TINY_CONFIG, differingWeights, plantedData, tempDir } from './helpers/training.js';

const data = plantedData({ groups: 8, groupSize: 8, users: 90, testUsers: 16, length: 12, seed: 41 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
// a high learning rate makes validation recall move, so the kept epoch is not always the last
const OPTS: Partial<TrainOptions> = { epochs: 3, batchSize: 40, lr: 0.05, seed: 5, validK: 8, patience: 3 };
const IDENTITY: RunIdentity = { data: 'd', store: '/s.db', tree: 't', seed: 5, workers: 2, backend: 'wasm', options: { epochs: 3 } };
const { dir: root, cleanup } = tempDir('resume');

before(async () => {
  await initBackend();
});
after(cleanup);

/** Thrown by the sink after a chosen checkpoint: the crash. */
class Crash extends Error {}

interface RunResult {
  weights: NamedArrays;
  summary: TrainSummary;
  /** For each checkpoint written: its epoch and step. */
  saves: [number, number][];
}

/**
 * Trains a fresh network (same initial weights every time) with `workers`
 * threads (0: the calling thread), writing checkpoints into `dir` every
 * `every` steps; crashes after checkpoint number `crashAfter` (1-based);
 * with `resume`, continues from the checkpoint in `dir`.
 */
async function run(dir: string, workers: number, o: { every?: number; crashAfter?: number; resume?: boolean; features?: boolean } = {}): Promise<RunResult> {
  const net = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(9));
  const saves: [number, number][] = [];
  try {
    const features = o.features ? new ItemFeatures(tree.layout.numInternal, tree.numItems, TINY_CONFIG.embDim, net.emb, { category: { itemCategory: tree.items.itemCategory, numCategories: tree.items.categoryIds.length } }, new Rng(3)) : undefined;
    const checkpoints: Checkpoints = {
      every: o.every ?? 3,
      ...(o.resume ? { resume: readCheckpoint(dir).state } : {}),
      save(state: TrainState) {
        writeCheckpoint(dir, IDENTITY, state);
        saves.push([state.epoch, state.step]);
        if (saves.length === o.crashAfter) throw new Crash(`crash after checkpoint ${saves.length}`);
      },
    };
    const summary = await trainParallel(tree, net, { sequences: data.sequences, valid: data.cases, ...(features ? { features } : {}) }, { ...OPTS, workers }, undefined, checkpoints);
    return { weights: net.toArrays(), summary, saves };
  } finally {
    net.dispose();
  }
}

const reports = (s: TrainSummary) => s.epochs.map((e) => [e.epoch, e.loss, e.samples, e.validRecall, e.pathWeight]);

/** Crashes after checkpoint `crashes[0]`, resumes and crashes after `crashes[1]` more, ..., then resumes to the end. */
async function crashAndResume(dir: string, workers: number, crashes: number[], features = false): Promise<RunResult> {
  for (let i = 0; i < crashes.length; i++) {
    await assert.rejects(run(dir, workers, { crashAfter: crashes[i], resume: i > 0, features }), Crash);
  }
  return run(dir, workers, { resume: true, features });
}

describe('resumable training', () => {
  for (const workers of [0, 1, 2]) {
    it(`${workers === 0 ? 'in the calling thread' : `on ${workers} worker thread${workers > 1 ? 's' : ''}`}: crashes mid-epoch and at an epoch end, resumed twice, end with the uninterrupted run's weights bit for bit`, async () => {
      mkdirSync(join(root, `full-${workers}`));
      const full = await run(join(root, `full-${workers}`), workers, { every: 3 });
      // the run wrote checkpoints mid-epoch and at every epoch end
      const epochEnd = full.saves.findIndex(([, step]) => step === 0) + 1;
      assert.ok(epochEnd > 2, `an epoch has several checkpoints: ${JSON.stringify(full.saves)}`);
      assert.equal(full.saves.filter(([, step]) => step === 0).length, 3);
      const dir = join(root, `crash-${workers}`);
      mkdirSync(dir);
      // first crash mid-epoch (checkpoint 2), the second right after the first epoch-end checkpoint
      const resumed = await crashAndResume(dir, workers, [2, epochEnd - 2]);
      assert.deepEqual(differingWeights(full.weights, resumed.weights), []);
      assert.deepEqual(reports(resumed.summary), reports(full.summary));
      assert.equal(resumed.summary.bestEpoch, full.summary.bestEpoch);
      assert.equal(resumed.summary.pathWeight, full.summary.pathWeight);
      assert.equal(resumed.summary.options.workers, workers);
      // the resumed run wrote the checkpoints the uninterrupted run wrote after that point
      assert.deepEqual(resumed.saves, full.saves.slice(epochEnd));
    });
  }

  it('in the calling thread with item side features (their parameters and optimisers are in the checkpoint)', async () => {
    const mk = (name: string) => {
      const d = join(root, name);
      mkdirSync(d);
      return d;
    };
    const full = await run(mk('feat-full'), 0, { features: true });
    const resumed = await crashAndResume(mk('feat-crash'), 0, [4], true);
    assert.deepEqual(differingWeights(full.weights, resumed.weights), []);
    assert.deepEqual(reports(resumed.summary), reports(full.summary));
  });

  it('a resumed run whose checkpoint marks the training finished only keeps the best epoch', async () => {
    const dir = join(root, 'finished');
    mkdirSync(dir);
    const full = await run(dir, 0, { every: 0 });
    assert.deepEqual(full.saves, [[2, 0], [3, 0], [4, 0]]);
    assert.equal(readCheckpoint(dir).state.finished, true);
    const again = await run(dir, 0, { every: 0, resume: true });
    assert.deepEqual(again.saves, []);
    assert.deepEqual(differingWeights(full.weights, again.weights), []);
    assert.equal(again.summary.bestEpoch, full.summary.bestEpoch);
  });
});

describe('checkpoint files', () => {
  /** A model folder holding the checkpoint of a short run. */
  async function withCheckpoint(name: string): Promise<string> {
    const dir = join(root, name);
    mkdirSync(dir);
    await assert.rejects(run(dir, 0, { crashAfter: 2 }), Crash);
    return dir;
  }

  it('no checkpoint: a CheckpointError naming the folder', () => {
    const dir = join(root, 'none');
    mkdirSync(dir);
    assert.equal(hasCheckpoint(dir), false);
    assert.throws(() => readCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && e.fault === 'missing' && e.exitCode === 2 && e.message.includes(checkpointFolder(dir)));
  });

  it('a changed byte in any file, a missing file or a manifest that is not JSON: corrupt, naming the folder and the file', async () => {
    const dir = await withCheckpoint('corrupt');
    const ck = checkpointFolder(dir);
    for (const file of ['arrays.bin', 'state.json']) {
      const path = join(ck, file);
      const good = readFileSync(path);
      const bad = Buffer.from(good);
      bad[bad.length >> 1] ^= 1;
      writeFileSync(path, bad);
      assert.throws(() => readCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && e.fault === 'corrupt' && e.exitCode === 1 && e.message.includes(ck) && e.message.includes(`${file} fails its checksum`));
      writeFileSync(path, good.subarray(0, good.length - 4));
      assert.throws(() => readCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && e.fault === 'corrupt');
      renameSync(path, path + '.x');
      assert.throws(() => readCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && e.fault === 'corrupt' && e.message.includes(`${file} is missing`));
      renameSync(path + '.x', path);
      writeFileSync(path, good);
    }
    assert.equal(readCheckpoint(dir).state.stepsDone, 6);
    writeFileSync(join(ck, 'manifest.json'), '{"format": "arbor-checkpoint", ');
    assert.throws(() => readCheckpoint(dir), (e: unknown) => e instanceof CheckpointError && e.fault === 'corrupt' && /manifest\.json is not valid JSON/.test(e.message));
  });

  it('a kill between the two renames of a checkpoint write: the previous checkpoint is moved back', async () => {
    const dir = await withCheckpoint('swap');
    const ck = checkpointFolder(dir);
    // the state a SIGKILL between `rename(checkpoint, .checkpoint.old-…)` and `rename(.checkpoint.tmp-…, checkpoint)` leaves (pid 2^22 + 1 is above Linux's pid_max: dead)
    const dead = 4194305;
    renameSync(ck, join(dir, `.checkpoint.old-${dead}-1`));
    mkdirSync(join(dir, `.checkpoint.tmp-${dead}-1`));
    assert.equal(hasCheckpoint(dir), true);
    assert.equal(readCheckpoint(dir).state.stepsDone, 6);
  });

  it('a checkpoint of another run: a CheckpointError naming the folder and every difference', () => {
    const now: RunIdentity = { ...IDENTITY, data: 'other', seed: 6, workers: 1, options: { epochs: 3, lr: 0.1 } };
    assert.throws(
      () => checkIdentity('/m', IDENTITY, now),
      (e: unknown) =>
        e instanceof CheckpointError &&
        e.fault === 'mismatch' &&
        e.message.startsWith('the training checkpoint /m/checkpoint is from another run: ') &&
        e.message.includes('training data: ') &&
        e.message.includes('seed: checkpoint 5, this run 6') &&
        e.message.includes('workers: checkpoint 2, this run 1') &&
        e.message.includes('lr: checkpoint unset, this run 0.1'),
    );
    assert.doesNotThrow(() => checkIdentity('/m', IDENTITY, { ...IDENTITY, store: '/a/copy.db' }));
  });
});
