/**
 * The living-catalogue commands spawned as a user would: ingest-items,
 * add-items (--json summary, atomic rewrite, one-line errors) and
 * train --warm-start, and retrieve accepting the added items.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { arbor, killAtCheckpoint } from './helpers/spawn.js';
import { tempDir } from './helpers/training.js';

const temp = tempDir('cli-living');

/** Runs `arbor ARGS` and asserts it succeeded. */
function ok(args: string[]) {
  const r = arbor(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  return r;
}
after(temp.cleanup);

/** No JavaScript stack, one line naming the problem. */
function oneLine(stderr: string, pattern: RegExp): void {
  const lines = stderr.split('\n').filter((l) => l.startsWith('arbor: ') && !l.includes('tfjs backend'));
  assert.equal(lines.length, 1, stderr);
  assert.match(lines[0], pattern);
  assert.ok(!/\n\s+at /.test(stderr), `a stack trace: ${stderr}`);
}

test('ingest-items, add-items, retrieve and train --warm-start through the CLI', () => {
  const dir = temp.dir;
  const csv = join(dir, 'synth.csv');
  const db = join(dir, 'a.db');
  const model = join(dir, 'm');
  ok(['synth', '--out', csv, '--items', '200', '--users', '80', '--seed', '3']);
  ok(['ingest', csv, '--format', 'userbehavior', '--db', db]);
  ok(['build-tree', '--db', db, '--out', model]);
  ok(['train', '--db', db, '--model', model, '--epochs', '1', '--workers', '0', '--emb-dim', '8']);

  // nothing to add yet: nothing is rewritten
  const manifest = readFileSync(join(model, 'manifest.json'), 'utf8');
  const none = JSON.parse(ok(['add-items', '--db', db, '--model', model, '--json']).stdout);
  assert.equal(none.added, 0);
  assert.equal(readFileSync(join(model, 'manifest.json'), 'utf8'), manifest);

  // a malformed items file changes nothing and names file and line
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, 'new1,cA\nnew2,cA,extra\n');
  const b = arbor(['ingest-items', bad, '--db', db]);
  assert.equal(b.code, 1);
  oneLine(b.stderr, new RegExp(`${bad}:2: expected ITEM or ITEM,CATEGORY`));

  // cold items: one with a known category, one with a new category, one with a vector only, one with nothing
  const itemsFile = join(dir, 'items.csv');
  const cat = readFileSync(csv, 'utf8').split('\n')[0].split(',')[2];
  writeFileSync(itemsFile, `# new items\nnew1,${cat}\nnew2,brand-new\nnew3\nnew4\n`);
  const ing = JSON.parse(ok(['ingest-items', itemsFile, '--db', db]).stdout);
  assert.equal(ing.itemsInserted, 4);
  assert.equal(ing.categoriesInserted, 1);
  const vectors = join(dir, 'v.jsonl');
  writeFileSync(vectors, '{"item": "new3", "vector": [1, 0]}\n{"item": "i1", "vector": [1, 0.1]}\n{"item": "i2", "vector": [0, 1]}\n');
  const sum = JSON.parse(ok(['add-items', '--db', db, '--model', model, '--item-vectors', vectors, '--json']).stdout);
  assert.equal(sum.added, 4);
  assert.equal(sum.withoutEvents, 4);
  assert.deepEqual(sum.bySource, { events: 0, vectors: 1, category: 1, mean: 2 });
  assert.equal(sum.newCategories, 1);
  assert.equal(typeof sum.seconds, 'number');
  assert.equal(sum.numItems, JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')).tree.numItems);

  // retrieve reads the new items in a history, and can return them
  const r = JSON.parse(ok(['retrieve', '--model', model, '--history', 'new1,new2', '-k', '300', '--json', '--workers', '0']).stdout);
  assert.equal(r.skippedHistory, 0);
  assert.ok(r.items.some((x: { item: string }) => x.item.startsWith('new')), 'added items can be retrieved');

  // warm start from the folder, on the same store
  const w = JSON.parse(ok(['train', '--db', db, '--model', model, '--warm-start', '--epochs', '1', '--workers', '0', '--json']).stdout);
  assert.equal(w.epochs.length, 1);

  // errors: one line, no stack, the folder unchanged
  const before = readFileSync(join(model, 'manifest.json'), 'utf8');
  const e1 = arbor(['add-items', '--db', db, '--model', join(dir, 'nope')]);
  assert.equal(e1.code, 1);
  oneLine(e1.stderr, /model folder does not exist/);
  const e2 = arbor(['add-items', '--db', db, '--model', model, '--embed-from', 'vectors']);
  assert.equal(e2.code, 2);
  oneLine(e2.stderr, /--embed-from vectors needs --item-vectors/);
  const badVec = join(dir, 'bad.jsonl');
  writeFileSync(badVec, '{"item": "i1", "vector": [1, "x"]}\n');
  const more = join(dir, 'more.csv');
  writeFileSync(more, 'new5\n');
  ok(['ingest-items', more, '--db', db]);
  const e3 = arbor(['add-items', '--db', db, '--model', model, '--item-vectors', badVec]);
  assert.equal(e3.code, 1);
  oneLine(e3.stderr, /bad\.jsonl:1: vector value 1 is not a finite number/);
  assert.equal(readFileSync(join(model, 'manifest.json'), 'utf8'), before);
  const e4 = arbor(['train', '--db', db, '--model', model, '--warm-start', '--item-vectors', vectors]);
  assert.equal(e4.code, 2);
  oneLine(e4.stderr, /--warm-start: .*--item-vectors/);
});


test('an interrupted warm-started training resumes with --warm-start --resume, to the uninterrupted weights', async () => {
  const dir = join(temp.dir, 'resume');
  mkdirSync(dir);
  const csv = join(dir, 's.csv');
  const db = join(dir, 'a.db');
  const base = join(dir, 'base');
  ok(['synth', '--out', csv, '--items', '300', '--users', '150', '--seed', '3']);
  ok(['ingest', csv, '--format', 'userbehavior', '--db', db]);
  ok(['split', '--db', db, '--test-users', '20', '--valid-users', '15', '--seed', '1']);
  ok(['build-tree', '--db', db, '--out', base]);
  const TRAIN = ['--db', db, '--epochs', '2', '--batch-size', '100', '--max-samples', '800', '--workers', '0', '--emb-dim', '8', '--seed', '4'];
  ok(['train', '--model', base, ...TRAIN]);
  const full = join(dir, 'full');
  const cut = join(dir, 'cut');
  cpSync(base, full, { recursive: true });
  cpSync(base, cut, { recursive: true });
  const WARM = [...TRAIN, '--warm-start', '--checkpoint-every', '1'];
  ok(['train', '--model', full, ...WARM]);
  assert.ok((await killAtCheckpoint(cut, ['train', '--model', cut, ...WARM])).killed, 'the warm-started run was killed at a checkpoint');
  // a plain --resume of a warm-started run names the difference
  const plain = arbor(['train', '--model', cut, ...TRAIN, '--checkpoint-every', '1', '--resume']);
  assert.equal(plain.code, 2, plain.stderr);
  oneLine(plain.stderr, /is from another run: .*warmStartFrom: checkpoint "[0-9a-f]+", this run unset/);
  ok(['train', '--model', cut, ...WARM, '--resume']);
  assert.ok(readFileSync(join(cut, 'scorer', 'weights.bin')).equals(readFileSync(join(full, 'scorer', 'weights.bin'))), 'same weights as the uninterrupted warm start');
  assert.ok(!existsSync(join(cut, 'checkpoint')));
});
