import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelFormatError } from '../src/core/errors.js';
import { Rng } from '../src/core/rng.js';
import { BeamSearch, BruteForce, type Retriever } from '../src/beam/index.js';
import { Store, generateSynthetic } from '../src/data/index.js';
import { readModel, writeModel, type Model } from '../src/model/index.js';
import { NetworkScorer, ScorerNetwork, initBackend } from '../src/scorer/index.js';
import { trainScorer } from '../src/trainer/index.js';
import { buildCategoryTree, buildRandomTree, encodeTree, type Tree } from '../src/tree/index.js';
import { TINY_CONFIG, bytesOf, differingWeights, tempDir } from './helpers/training.js';
import { assertSameTree, makeItems } from './helpers/trees.js';

const temp = tempDir('model-folder');
let tree: Tree;
let network: ScorerNetwork;
let histories: Int32Array[];
const CONFIG = { scorer: TINY_CONFIG, branching: 2 };

/** Asserts `fn` throws a ModelFormatError for `file` whose message matches `pattern`. */
function assertFormatError(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.includes(file), `message does not name ${file}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Retrievers over a tree and network. */
function retrievers(t: Tree, net: ScorerNetwork): Retriever[] {
  const scorer = new NetworkScorer(net, t);
  return [new BeamSearch(t, scorer), new BruteForce(t, scorer)];
}

/** Writes the trained model into a fresh folder under the temp dir. */
async function writeTrained(name: string): Promise<string> {
  const dir = join(temp.dir, name);
  await writeModel(dir, { tree, network, seed: 5, config: CONFIG, training: { note: 'tiny' } });
  return dir;
}

/** Flips every bit of one byte of a file. */
function flipByte(file: string, at: (length: number) => number): void {
  const bytes = readFileSync(file);
  bytes[at(bytes.length)] ^= 0xff;
  writeFileSync(file, bytes);
}

before(async () => {
  await initBackend();
  // a tiny synthetic data set through the store, as the CLI does it
  const store = Store.open(join(temp.dir, 'store.sqlite'));
  try {
    store.insertDataset(generateSynthetic({ items: 80, users: 60, seed: 5, minEvents: 8, maxEvents: 16 }), 'synthetic');
    const catalogue = store.catalogue();
    const sequences = store.sequences().map((s) => s.items);
    tree = buildCategoryTree(catalogue, { branching: 2, seed: 5 });
    network = ScorerNetwork.init(TINY_CONFIG, tree.layout.numInternal, tree.numItems, new Rng(5));
    trainScorer(tree, network, { sequences }, { epochs: 1, batchSize: 64, seed: 5 });
    histories = sequences.slice(0, 6).map((s) => s.subarray(0, Math.ceil(s.length / 2)));
    histories.push(new Int32Array(0), Int32Array.from([0, 0, 0]));
  } finally {
    store.close();
  }
});

after(() => {
  network?.dispose();
  temp.cleanup();
});

describe('model folder round trip', () => {
  it('writeModel → readModel gives the same tree, weights and retrieval (items and scores)', async () => {
    const dir = await writeTrained('round-trip');
    const loaded: Model = readModel(dir, { requireScorer: true });
    try {
      assert.ok(loaded.network);
      assertSameTree(loaded.tree, tree);
      assert.deepEqual(differingWeights(loaded.network.toArrays(), network.toArrays()), []);
      assert.deepEqual(loaded.network.config, TINY_CONFIG);
      assert.equal(loaded.manifest.seed, 5);
      assert.deepEqual(loaded.manifest.config, CONFIG);
      assert.deepEqual(loaded.manifest.training, { note: 'tiny' });
      assert.deepEqual(loaded.manifest.tree, { branching: 2, depth: tree.layout.depth, numItems: tree.numItems, init: 'category' });
      assert.deepEqual(Object.keys(loaded.manifest.files).sort(), ['scorer/model.json', 'scorer/weights.bin', 'tree.msgpack']);

      const before = retrievers(tree, network);
      const afterLoad = retrievers(loaded.tree, loaded.network);
      for (const h of histories) {
        for (let r = 0; r < before.length; r++) {
          const a = before[r].retrieve(h, { k: 10, beam: 12 });
          const b = afterLoad[r].retrieve(h, { k: 10, beam: 12 });
          assert.equal(a.items.length, 10);
          assert.deepEqual(Array.from(b.items), Array.from(a.items), `${before[r].name} items`);
          assert.ok(bytesOf(b.scores).equals(bytesOf(a.scores)), `${before[r].name} scores differ`);
        }
      }
    } finally {
      loaded.network?.dispose();
    }
  });

  it('a tree-only model reads back without a scorer, and requireScorer rejects it', async () => {
    const dir = join(temp.dir, 'tree-only');
    await writeModel(dir, { tree, seed: 5, config: CONFIG });
    const m = readModel(dir);
    assert.equal(m.network, undefined);
    assertSameTree(m.tree, tree);
    assertFormatError(() => readModel(dir, { requireScorer: true }), join(dir, 'scorer'), /no trained scorer/);
  });
});

describe('corrupt or missing model folders', () => {
  it('a flipped byte in scorer/weights.bin is a checksum error naming the file', async () => {
    const dir = await writeTrained('bad-weights');
    const file = join(dir, 'scorer/weights.bin');
    flipByte(file, (n) => Math.floor(n / 2));
    assertFormatError(() => readModel(dir), file, /checksum/);
  });

  it('a flipped byte in tree.msgpack is a checksum error naming the file', async () => {
    const dir = await writeTrained('bad-tree');
    const file = join(dir, 'tree.msgpack');
    flipByte(file, (n) => n - 1);
    assertFormatError(() => readModel(dir), file, /checksum/);
  });

  it('a changed scorer/model.json is a checksum error naming the file', async () => {
    const dir = await writeTrained('bad-json');
    const file = join(dir, 'scorer/model.json');
    writeFileSync(file, readFileSync(file, 'utf8').replace('"arbor-scorer"', '"arbor-scorex"'));
    assertFormatError(() => readModel(dir), file, /checksum/);
  });

  it('an emptied or deleted weights file, a missing folder, a folder that is not a model, a bad manifest', async () => {
    const dir = await writeTrained('missing-weights');
    const weights = join(dir, 'scorer/weights.bin');
    writeFileSync(weights, ''); // emptied: checksum
    assertFormatError(() => readModel(dir), weights, /checksum/);
    rmSync(weights);
    assertFormatError(() => readModel(dir), weights, /missing/);

    const gone = join(temp.dir, 'no-such-model');
    assertFormatError(() => readModel(gone), join(gone, 'manifest.json'), /model folder does not exist/);

    const empty = join(temp.dir, 'empty-folder');
    mkdirSync(empty);
    assertFormatError(() => readModel(empty), join(empty, 'manifest.json'), /not an arbor model folder/);

    const badManifest = await writeTrained('bad-manifest');
    const manifestFile = join(badManifest, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, version: 99 }));
    assertFormatError(() => readModel(badManifest), manifestFile, /model version 99 is not supported/);
    writeFileSync(manifestFile, '{ not json');
    assertFormatError(() => readModel(badManifest), manifestFile, /not valid JSON/);
  });
  it(
    'a manifest.json holding JSON null is a ModelFormatError, not a TypeError',
    async () => {
      const dir = await writeTrained('null-manifest');
      const manifestFile = join(dir, 'manifest.json');
      writeFileSync(manifestFile, 'null');
      assertFormatError(() => readModel(dir), manifestFile, /not an arbor model/);
    },
  );
});

describe('writeModel replaces a folder atomically', () => {
  it('overwrites an existing model completely and leaves no .tmp-/.old- siblings', async () => {
    const parent = join(temp.dir, 'replace');
    const dir = join(parent, 'model');
    // first: a different, tree-only model plus a stray file
    const other = buildRandomTree(makeItems(30, 3), { branching: 3, seed: 1 });
    await writeModel(dir, { tree: other, seed: 1, config: { first: true } });
    writeFileSync(join(dir, 'stray.txt'), 'left over');
    assert.equal(readModel(dir).manifest.seed, 1);

    // then the trained model over it
    await writeModel(dir, { tree, network, seed: 2, config: CONFIG });
    assert.deepEqual(readdirSync(parent), ['model']);
    assert.ok(!existsSync(join(dir, 'stray.txt')), 'the old folder content is gone');
    const m = readModel(dir, { requireScorer: true });
    try {
      assert.equal(m.manifest.seed, 2);
      assert.deepEqual(m.manifest.config, CONFIG);
      assert.ok(encodeTree(m.tree).equals(encodeTree(tree)));
    } finally {
      m.network?.dispose();
    }

    // and back to a tree-only model: the scorer files must not survive
    await writeModel(dir, { tree: other, seed: 3, config: {} });
    assert.deepEqual(readdirSync(parent), ['model']);
    assert.ok(!existsSync(join(dir, 'scorer/weights.bin')) && !existsSync(join(dir, 'scorer/model.json')), 'old scorer files survived');
    const back = readModel(dir);
    assert.equal(back.network, undefined);
    assert.equal(back.manifest.seed, 3);
    assertSameTree(back.tree, other);
  });

  it('writes into a parent folder that does not exist yet', async () => {
    const dir = join(temp.dir, 'deep', 'er', 'model');
    await writeModel(dir, { tree, seed: 4, config: {} });
    assert.equal(readModel(dir).manifest.seed, 4);
    assert.deepEqual(readdirSync(join(temp.dir, 'deep', 'er')), ['model']);
  });
});
