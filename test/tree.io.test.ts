import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { ModelFormatError } from '../src/core/errors.js';
import { TREE_FORMAT, TREE_VERSION, buildCategoryTree, buildRandomTree, decodeTree, encodeTree, readTree, type Tree } from '../src/tree/index.js';
import { tempDir } from './helpers/training.js';
import { assertSameTree, assertTreeInvariants, makeItems } from './helpers/trees.js';

// The file's documented encoding, to craft wrong documents from a real one.
const packr = new Packr({ moreTypes: true, useRecords: false });
type Doc = { header: Record<string, unknown>; [field: string]: unknown };

const FILE = '/models/m1/tree.msgpack';
const sample = (): Tree => buildCategoryTree(makeItems(37, 5, 4), { branching: 3, seed: 77 });

/** Asserts `fn` throws a ModelFormatError naming `file` whose message matches `pattern`. */
function assertFormatError(fn: () => unknown, file: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ModelFormatError, `expected a ModelFormatError, got ${String(e)}`);
    assert.equal(e.file, file);
    assert.ok(e.message.startsWith(`${file}: `), `message does not name the file: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Decodes a real encoding, lets `edit` change the document, re-encodes it. */
function edited(tree: Tree, edit: (doc: Doc) => void): Buffer {
  const doc = packr.unpack(encodeTree(tree)) as Doc;
  edit(doc);
  return packr.pack(doc);
}

const temp = tempDir('tree-io');
after(temp.cleanup);

describe('tree file round trip', () => {
  it('decode(encode(tree)) equals the tree, for random and category trees (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 5 }),
        fc.integer({ min: 2, max: 700 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 0x7fffffff }),
        fc.boolean(),
        (branching, n, cats, seed, category) => {
          const items = makeItems(n, cats, seed);
          const tree = (category ? buildCategoryTree : buildRandomTree)(items, { branching, seed });
          const back = decodeTree(encodeTree(tree), FILE);
          assertSameTree(back, tree);
          assert.equal(back.meta.init, category ? 'category' : 'random');
        },
      ),
      { numRuns: 50 },
    );
  });

  it('keeps arrays typed and writes the documented header', () => {
    const tree = sample();
    const doc = packr.unpack(encodeTree(tree)) as Doc;
    assert.deepEqual(doc.header, { format: TREE_FORMAT, version: TREE_VERSION, branching: 3, depth: 4, numItems: 37, seed: 77, init: 'category' });
    assert.ok(doc.itemLeaf instanceof Int32Array);
    assert.ok(doc.itemCategory instanceof Int32Array);
  });

  it('readTree reads what was written to a file', () => {
    const tree = sample();
    const file = join(temp.dir, 'tree.msgpack');
    writeFileSync(file, encodeTree(tree));
    assertSameTree(readTree(file), tree);
  });
});

describe('bad tree files give a ModelFormatError naming the file', () => {
  it('random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (bytes) => {
        assertFormatError(() => decodeTree(bytes, FILE), FILE, /./);
      }),
      { numRuns: 300 },
    );
  });

  it('every truncation of a valid file', () => {
    const bytes = encodeTree(sample());
    for (let len = 0; len < bytes.length; len++) {
      assertFormatError(() => decodeTree(bytes.subarray(0, len), FILE), FILE, /./);
    }
  });

  it('any single flipped byte: an error naming the file, or a tree that is still consistent', () => {
    const tree = sample();
    const bytes = encodeTree(tree);
    let errors = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = Buffer.from(bytes);
        bad[i] ^= mask;
        let decoded: Tree | undefined;
        try {
          decoded = decodeTree(bad, FILE);
        } catch (e) {
          assert.ok(e instanceof ModelFormatError, `byte ${i} ^ ${mask}: ${String(e)}`);
          assert.equal(e.file, FILE);
          errors++;
          continue;
        }
        assertTreeInvariants(decoded);
      }
    }
    assert.ok(errors > 0);
  });

  it('wrong format', () => {
    assertFormatError(() => decodeTree(edited(sample(), (d) => (d.header.format = 'arbor-model')), FILE), FILE, /not an arbor tree file.*arbor-model/);
    assertFormatError(() => decodeTree(edited(sample(), (d) => delete (d as Partial<Doc>).header), FILE), FILE, /not an arbor tree file/);
    assertFormatError(() => decodeTree(packr.pack([1, 2, 3]), FILE), FILE, /not an arbor tree file/);
    assertFormatError(() => decodeTree(packr.pack(null), FILE), FILE, /not an arbor tree file/);
    assertFormatError(() => decodeTree(Buffer.from('{"header":{"format":"arbor-tree"}}'), FILE), FILE, /./);
  });

  it('wrong version', () => {
    assertFormatError(() => decodeTree(edited(sample(), (d) => (d.header.version = 2)), FILE), FILE, /version 2 is not supported \(expected 1\)/);
    assertFormatError(() => decodeTree(edited(sample(), (d) => (d.header.version = '1')), FILE), FILE, /version "1" is not supported/);
    assertFormatError(() => decodeTree(edited(sample(), (d) => delete d.header.version), FILE), FILE, /version/);
  });

  it('sizes that disagree with the header', () => {
    const t = sample();
    const cases: [string, (d: Doc) => void, RegExp][] = [
      ['numItems too large', (d) => (d.header.numItems = 38), /itemLeaf must be 38 int32 values/],
      ['itemLeaf as a plain list', (d) => (d.itemLeaf = Array.from(d.itemLeaf as Int32Array)), /itemLeaf must be/],
      ['itemLeaf as floats', (d) => (d.itemLeaf = Float32Array.from(d.itemLeaf as Int32Array)), /itemLeaf must be/],
      ['itemCategory short', (d) => (d.itemCategory = (d.itemCategory as Int32Array).slice(1)), /itemCategory must be 37/],
      ['itemIds short', (d) => (d.itemIds = (d.itemIds as string[]).slice(1)), /itemIds must list 37/],
      ['categoryIds not a list', (d) => (d.categoryIds = 'c0'), /categoryIds must be a list/],
      ['category out of range', (d) => ((d.itemCategory as Int32Array)[3] = 5), /item category 5 outside 0\.\.4/],
      ['category below -1', (d) => ((d.itemCategory as Int32Array)[0] = -2), /item category -2/],
      ['two items in one leaf', (d) => ((d.itemLeaf as Int32Array)[1] = (d.itemLeaf as Int32Array)[0]), /inconsistent tree: .*share leaf slot/],
      ['leaf slot past the last level', (d) => ((d.itemLeaf as Int32Array)[2] = 81), /inconsistent tree: .*leaf slot 81 outside 0\.\.80/],
      ['negative leaf slot', (d) => ((d.itemLeaf as Int32Array)[2] = -1), /inconsistent tree/],
      ['depth too small for the items', (d) => (d.header.depth = 3), /inconsistent tree: 37 items do not fit in 27 leaves/],
      ['branching 1', (d) => (d.header.branching = 1), /inconsistent tree: branching must be/],
      ['depth 0', (d) => (d.header.depth = 0), /inconsistent tree: tree depth/],
      ['branching missing', (d) => delete d.header.branching, /inconsistent tree/],
    ];
    for (const [what, edit, pattern] of cases) {
      assert.doesNotThrow(() => decodeTree(edited(t, () => {}), FILE), 'the unedited document decodes');
      try {
        assertFormatError(() => decodeTree(edited(t, edit), FILE), FILE, pattern);
      } catch (e) {
        throw new Error(`${what}: ${(e as Error).message}`);
      }
    }
  });

  it('readTree: a missing file or a folder', () => {
    const missing = join(temp.dir, 'nope', 'tree.msgpack');
    assertFormatError(() => readTree(missing), missing, /cannot read tree file \(ENOENT\)/);
    const folder = join(temp.dir, 'a-folder');
    mkdirSync(folder);
    assertFormatError(() => readTree(folder), folder, /cannot read tree file \(EISDIR\)/);
    const garbage = join(temp.dir, 'garbage.msgpack');
    writeFileSync(garbage, 'this is not msgpack at all');
    assertFormatError(() => readTree(garbage), garbage, /./);
  });
});
