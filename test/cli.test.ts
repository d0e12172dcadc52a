/**
 * The CLI spawned as a user would: the whole pipeline on a small synthetic
 * set, `--json` outputs parsed, exit codes and error messages checked.
 * Each test makes what it needs in a folder of its own under one temporary
 * folder, removed when the file ends: the tests run alone or in any order.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, readdirSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { renderCliDocs } from '../tools/cli-docs.js';
import { readModel } from '../src/model/folder.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'arbor.js');

function arbor(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let scratch: string;
before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'arbor-cli-'));
});
after(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A new empty folder for one test, inside the file's temporary folder. */
function folder(name: string): string {
  const f = join(scratch, name);
  mkdirSync(f);
  return f;
}

/** A small synthetic store of the test's own: `synth` then `ingest` into `<dir>/a.db`. */
function smallStore(dir: string): string {
  const csv = join(dir, 'synth.csv');
  const db = join(dir, 'a.db');
  const s = arbor(['synth', '--out', csv, '--items', '100', '--users', '40', '--seed', '3']);
  assert.equal(s.code, 0, s.stderr);
  const r = arbor(['ingest', csv, '--format', 'userbehavior', '--db', db]);
  assert.equal(r.code, 0, r.stderr);
  return db;
}

test('full pipeline through the CLI with --json outputs', async (t) => {
  const dir = folder('pipeline');
  const db = join(dir, 'a.db');
  const model = join(dir, 'model');
  const csv = join(dir, 'synth.csv');
  await t.test('synth + ingest', () => {
    const s = arbor(['synth', '--out', csv, '--items', '400', '--users', '160', '--seed', '3']);
    assert.equal(s.code, 0, s.stderr);
    const r = arbor(['ingest', csv, '--format', 'userbehavior', '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.ok(rep.eventsInserted > 1000);
    const again = arbor(['ingest', csv, '--format', 'userbehavior', '--db', db]);
    assert.equal(again.code, 0);
    assert.equal(JSON.parse(again.stdout).alreadyIngested, true);
  });
  await t.test('split', () => {
    const r = arbor(['split', '--db', db, '--test-users', '30', '--valid-users', '10', '--seed', '1', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual({ t: JSON.parse(r.stdout).testUsers, v: JSON.parse(r.stdout).validUsers }, { t: 30, v: 10 });
  });
  await t.test('build-tree', () => {
    const r = arbor(['build-tree', '--db', db, '--out', model, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const m = JSON.parse(r.stdout);
    assert.equal(m.format, 'arbor-model');
    assert.equal(m.tree.branching, 2);
    assert.ok(existsSync(join(model, 'tree.msgpack')));
  });
  await t.test('train', () => {
    const r = arbor(['train', '--db', db, '--model', model, '--epochs', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /tfjs backend (wasm|cpu|tensorflow)/);
    // without a native backend, stderr gives the line that installs one
    if (!/tfjs backend tensorflow/.test(r.stderr)) assert.match(r.stderr, /install it with: npm install @tensorflow\/tfjs-node@/);
    const s = JSON.parse(r.stdout);
    assert.ok(s.epochs.length >= 1 && s.samplesPerSecond > 0);
    const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
    assert.ok(manifest.files['scorer/weights.bin']);
    assert.equal(manifest.config.train.epochs, 2);
    // default: one worker thread per core, recorded in the manifest
    assert.equal(manifest.config.train.workers, availableParallelism());
    assert.equal(manifest.training.profile.length, availableParallelism());
    // nothing half-written left beside the folder
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp-') || f.includes('.old-')), []);
  });
  await t.test('build-tree refuses to replace a trained model without --force', () => {
    const before = readFileSync(join(model, 'manifest.json'), 'utf8');
    const r = arbor(['build-tree', '--db', db, '--out', model, '--json']);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.includes(`${model} holds a trained model`), r.stderr);
    assert.match(r.stderr, /give --force to replace it/);
    assert.equal(r.stdout, '');
    assert.equal(readFileSync(join(model, 'manifest.json'), 'utf8'), before, 'the trained model is untouched');
  });
  await t.test('retrieve: --history, --user, --input', () => {
    const h = arbor(['retrieve', '--model', model, '--history', 'i1,i2,nope', '-k', '5', '--beam', '10', '--json']);
    assert.equal(h.code, 0, h.stderr);
    const line = JSON.parse(h.stdout.trim());
    assert.equal(line.items.length, 5);
    assert.ok(line.pairsScored > 0);
    assert.match(h.stderr, /skipped 1 history item/);
    assert.equal(line.skippedHistory, 1);
    // the resolved configuration, defaults included
    assert.deepEqual(
      { ...line.config, backend: undefined },
      { model, k: 5, beam: 10, rank: 'auto', excludeHistory: true, categories: null, explain: false, workers: 0, backend: undefined },
    );
    assert.match(line.config.backend, /^(wasm|cpu|tensorflow)$/);
    const d = JSON.parse(arbor(['retrieve', '--model', model, '--history', 'i1', '-k', '4', '--json']).stdout);
    assert.equal(d.config.beam, 8, 'beam defaults to 2 × k');
    const u = arbor(['retrieve', '--model', model, '--db', db, '--user', 'u0', '-k', '5', '--json']);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(JSON.parse(u.stdout).user, 'u0');
    assert.equal(JSON.parse(u.stdout).skippedHistory, 0);
    const input = join(dir, 'q.jsonl');
    writeFileSync(input, '{"user": "a", "history": ["i3", "i4", "nope"]}\n{"user": "b", "history": []}\n');
    const f = arbor(['retrieve', '--model', model, '--input', input, '-k', '3', '--json']);
    assert.equal(f.code, 0, f.stderr);
    const lines = f.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.user), ['a', 'b']);
    assert.deepEqual(lines.map((l) => l.skippedHistory), [1, 0]);
    assert.ok(lines.every((l) => l.items.length === 3));
    writeFileSync(input, '{"user": "a", "history": ["i3"]}\n{oops\n');
    const bad = arbor(['retrieve', '--model', model, '--input', input, '-k', '3']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /q\.jsonl:2: not valid JSON: "\{oops"/);
  });
  await t.test('retrieve: history excluded by default, --include-history, --categories, --workers', () => {
    const { tree } = readModel(model);
    const catOf = new Map(tree.items.itemIds.map((id, i) => [id, tree.items.categoryIds[tree.items.itemCategory[i]]]));
    // the best items for a history; that top 3 as a history brings none of its items back by default
    const base = arbor(['retrieve', '--model', model, '--history', 'i1,i2', '-k', '10', '--beam', '20', '--json']);
    assert.equal(base.code, 0, base.stderr);
    const hist = JSON.parse(base.stdout).items.slice(0, 3).map((x: { item: string }) => x.item);
    const ex = arbor(['retrieve', '--model', model, '--history', hist.join(','), '-k', '10', '--beam', '20', '--json']);
    assert.equal(ex.code, 0, ex.stderr);
    const exLine = JSON.parse(ex.stdout);
    const exItems = exLine.items.map((x: { item: string }) => x.item);
    assert.equal(exItems.length, 10);
    assert.ok(exItems.every((it: string) => !hist.includes(it)), `${exItems} overlaps ${hist}`);
    assert.equal(exLine.config.excludeHistory, true);
    const inc = arbor(['retrieve', '--model', model, '--history', hist.join(','), '-k', '10', '--beam', '20', '--include-history', '--json']);
    assert.equal(inc.code, 0, inc.stderr);
    const incLine = JSON.parse(inc.stdout);
    assert.ok(incLine.items.some((x: { item: string }) => hist.includes(x.item)), 'with --include-history the history items are among the results');
    assert.equal(incLine.config.excludeHistory, false);
    // the old opt-in flag is gone: a clear usage error, not a silent no-op
    const old = arbor(['retrieve', '--model', model, '--history', 'i1', '--exclude-history']);
    assert.equal(old.code, 2, old.stderr);
    // a category filter returns only items of those categories
    const cats = tree.items.categoryIds.slice(0, 2);
    const c = arbor(['retrieve', '--model', model, '--history', 'i1,i2', '-k', '5', '--categories', cats.join(','), '--json']);
    assert.equal(c.code, 0, c.stderr);
    const cItems = JSON.parse(c.stdout).items.map((x: { item: string }) => x.item);
    assert.equal(cItems.length, 5);
    assert.ok(cItems.every((it: string) => cats.includes(catOf.get(it)!)));
    const bad = arbor(['retrieve', '--model', model, '--history', 'i1', '--categories', `${cats[0]},nosuchcat`]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--categories: unknown category "nosuchcat"/);
    // --input over two workers prints what the main thread prints, in input order
    const input = join(dir, 'q2.jsonl');
    writeFileSync(input, Array.from({ length: 40 }, (_, i) => JSON.stringify({ user: `u${i}`, history: [`i${i}`, `i${i + 7}`] })).join('\n'));
    const w2 = arbor(['retrieve', '--model', model, '--input', input, '-k', '5', '--workers', '2', '--json']);
    const w0 = arbor(['retrieve', '--model', model, '--input', input, '-k', '5', '--workers', '0', '--json']);
    assert.equal(w2.code, 0, w2.stderr);
    assert.match(w2.stderr, /retrieval pool: 2 worker/);
    // the same answers; only the resolved config says how many workers ran
    const answers = (stdout: string) => stdout.trim().split('\n').map((l) => {
      const { config, ...rest } = JSON.parse(l);
      return { ...rest, workers: config.workers };
    });
    assert.deepEqual(answers(w2.stdout), answers(w0.stdout).map((a) => ({ ...a, workers: 2 })));
    assert.equal(JSON.parse(w0.stdout.split('\n')[0]).config.workers, 0);
    assert.equal(w2.stdout.trim().split('\n').length, 40);
  });
  await t.test('eval --json', () => {
    const r = arbor(['eval', '--db', db, '--model', model, '-k', '5,10', '--beam', '20', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(rep.ks, [5, 10]);
    assert.deepEqual(rep.methods.map((m: { name: string }) => m.name), ['beam', 'brute-force', 'popularity', 'itemcf']);
    assert.deepEqual(rep.config.beam, [20]);
    for (const m of rep.methods) for (const x of m.metrics) assert.ok(x.recall >= 0 && x.recall <= 1);
    // metrics beyond recall: a user with recall > 0 has a hit, so hit rate >= recall; the category tree gives diversity
    for (const m of rep.methods) {
      for (const x of m.metrics) {
        assert.ok(x.ndcg >= 0 && x.ndcg <= 1 && x.hitRate >= x.recall && x.hitRate <= 1, JSON.stringify(x));
        assert.ok(x.novelty > 0 && x.diversity >= 0 && x.diversity <= 1 && x.newCategoryUsers >= 0, JSON.stringify(x));
      }
    }
    // popularity gives everyone the same list: it covers exactly k items of the catalogue
    const pop = rep.methods.find((m: { name: string }) => m.name === 'popularity');
    const numItems = Math.round(pop.metrics[0].k / pop.metrics[0].coverage);
    assert.ok(Math.abs(pop.metrics[1].coverage * numItems - 10) < 1e-9, `${pop.metrics[1].coverage} × ${numItems}`);
    assert.equal(rep.tree.init, 'category');
    assert.equal(rep.tree.categoryPurityByLevel.length, rep.tree.depth - 1);
  });
  await t.test('usage and runtime errors that need a trained model', () => {
    const badBaseline = arbor(['eval', '--db', db, '--model', model, '--baselines', 'itemcf,nope']);
    assert.equal(badBaseline.code, 2);
    assert.match(badBaseline.stderr, /unknown baseline "nope" \(known: popularity, itemcf, ease/);
    const missing = arbor(['eval', '--db', join(dir, 'none.db'), '--model', model]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /store not found/);
  });
  await t.test('eval --beam with a list: one beam row per width, a width below some k evaluated at the ks it reaches', () => {
    const r = arbor(['eval', '--db', db, '--model', model, '-k', '5,10', '--beam', '5,20,40', '--baselines', 'ease', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const rep = JSON.parse(r.stdout);
    assert.deepEqual(rep.methods.map((m: { name: string; beam?: number }) => [m.name, m.beam]), [['beam', 5], ['beam', 20], ['beam', 40], ['brute-force', undefined], ['ease', undefined]]);
    assert.deepEqual(rep.methods.map((m: { metrics: { k: number }[] }) => m.metrics.map((x) => x.k)), [[5], [5, 10], [5, 10], [5, 10], [5, 10]]);
    // EASE: λ chosen on the 10 validation users, recorded with its build time
    const ease = rep.methods[4];
    assert.ok(ease.details.lambda > 0 && ease.details.trials.length >= 2 && ease.details.validUsers > 0, JSON.stringify(ease.details));
    assert.ok(ease.buildSeconds >= 0);
    assert.ok(ease.metrics[1].recall > 0);
    for (const m of rep.methods.slice(0, 3)) assert.ok(m.pairsPerQuery > 0 && m.msPerQuery.p50 > 0);
    // a wider beam scores more pairs
    assert.ok(rep.methods[0].pairsPerQuery < rep.methods[2].pairsPerQuery);
    const text = arbor(['eval', '--db', db, '--model', model, '-k', '5,10', '--beam', '5,20', '--baselines', '']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^beam \(beam=5\) .* – +– +– /m);
    assert.match(text.stdout, /^beam \(beam=20\) /m);
    assert.match(text.stdout, /not evaluated .*beam 5 at k 10/);
    assert.match(text.stdout, /^method +k +nDCG +hit rate +coverage +novelty bits +diversity +new-category recall$/m);
    assert.match(text.stdout, /^beam \(beam=20\) +10 +[\d.]+% +[\d.]+% +[\d.]+% +[\d.]+ +[\d.]+% +[\d.]+% \(\d+ users\)$/m);
  });
  await t.test('learn-tree, build-tree --init kmeans --from, train --joint', () => {
    const learned = join(dir, 'learned');
    const copy = arbor(['build-tree', '--db', db, '--out', learned]);
    assert.equal(copy.code, 0, copy.stderr);
    assert.equal(arbor(['train', '--db', db, '--model', learned, '--epochs', '1']).code, 0);
    const l = arbor(['learn-tree', '--model', learned, '--db', db, '--gap', '3', '--json']);
    assert.equal(l.code, 0, l.stderr);
    const lr = JSON.parse(l.stdout);
    assert.ok(lr.moved > 0 && lr.moved <= 1 && lr.scoredNodes > 0);
    // the objective before and after, on the training pairs and the 10 validation users' pairs
    for (const part of [lr.objective.train, lr.objective.heldOut]) {
      assert.ok(part.before < 0 && part.after < 0 && Number.isFinite(part.before) && Number.isFinite(part.after), JSON.stringify(part));
    }
    assert.ok(lr.objective.heldOut.pairs > 0);
    const lm = JSON.parse(readFileSync(join(learned, 'manifest.json'), 'utf8'));
    assert.equal(lm.tree.init, 'learned');
    assert.equal(lm.config.treeLearning.length, 1);
    assert.deepEqual(lm.config.treeLearning[0].objective, lr.objective);
    // --steps 1: only the first step (levels 1-3) is learned; recorded in the manifest
    const l1 = arbor(['learn-tree', '--model', learned, '--db', db, '--gap', '3', '--steps', '1', '--json']);
    assert.equal(l1.code, 0, l1.stderr);
    assert.equal(JSON.parse(l1.stdout).objective.topLevels, 3);
    assert.equal(JSON.parse(readFileSync(join(learned, 'manifest.json'), 'utf8')).config.treeLearning[1].steps, 1);
    const badSteps = arbor(['learn-tree', '--model', learned, '--db', db, '--steps', '-1']);
    assert.equal(badSteps.code, 2, badSteps.stderr);
    // --force replaces the trained folder with a new tree and no scorer
    const forced = arbor(['build-tree', '--db', db, '--out', learned, '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(JSON.parse(forced.stdout).tree.init, 'category');
    assert.equal(existsSync(join(learned, 'scorer', 'weights.bin')), false);
    assert.equal(readModel(learned).network, undefined);
    // an untrained folder is replaced without --force
    assert.equal(arbor(['build-tree', '--db', db, '--out', learned, '--init', 'random']).code, 0);

    const km = join(dir, 'km');
    const k = arbor(['build-tree', '--db', db, '--out', km, '--init', 'kmeans', '--from', model, '--json']);
    assert.equal(k.code, 0, k.stderr);
    assert.equal(JSON.parse(k.stdout).tree.init, 'kmeans');
    const noFrom = arbor(['build-tree', '--db', db, '--out', join(dir, 'km2'), '--init', 'kmeans']);
    assert.equal(noFrom.code, 2);
    assert.match(noFrom.stderr, /--init kmeans needs --from/);

    const jt = join(dir, 'jtm');
    assert.equal(arbor(['build-tree', '--db', db, '--out', jt, '--init', 'random']).code, 0);
    const j = arbor(['train', '--db', db, '--model', jt, '--epochs', '1', '--joint', '--rounds', '1', '--gap', '3']);
    assert.equal(j.code, 0, j.stderr);
    const jm = JSON.parse(readFileSync(join(jt, 'manifest.json'), 'utf8'));
    assert.equal(jm.training.joint.rounds.length, 2);
    assert.equal(jm.training.joint.rounds[0].moved, 0);
    assert.ok(jm.training.joint.rounds[1].moved > 0);
    assert.equal(jm.training.joint.rounds[0].objective, undefined);
    assert.ok(jm.training.joint.rounds[1].objective.heldOut.pairs > 0);
    const e = arbor(['eval', '--db', db, '--model', jt, '-k', '5', '--beam', '10', '--baselines', '', '--no-oracle', '--json']);
    assert.equal(e.code, 0, e.stderr);
    const er = JSON.parse(e.stdout);
    assert.deepEqual(er.methods.map((m: { name: string }) => m.name), ['beam']);
    assert.equal(er.tree.rounds.length, 2);
  });
});

test('usage errors exit 2, runtime errors exit 1, --help exits 0', () => {
  // none of these gets as far as opening the store or the model: neither exists
  const dir = folder('usage');
  const db = join(dir, 'none.db');
  const model = join(dir, 'nomodel');
  assert.equal(arbor(['--help']).code, 0);
  assert.equal(arbor(['train', '--help']).code, 0);
  const unknown = arbor(['train', '--bogus']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--bogus'/);
  const badBeam = arbor(['eval', '--db', db, '--model', model, '-k', '50', '--beam', '10']);
  assert.equal(badBeam.code, 2);
  assert.match(badBeam.stderr, /beam 10 is below every k \(50\)/);
  assert.doesNotMatch(badBeam.stderr, /at .*\.js/, 'no stack for a usage error');
  const badList = arbor(['eval', '--db', db, '--model', model, '-k', '5', '--beam', '20,x']);
  assert.equal(badList.code, 2);
  assert.match(badList.stderr, /--beam must be an integer, got "20,x"/);
  const badWorkers = arbor(['train', '--db', db, '--model', model, '--workers=-2']);
  assert.equal(badWorkers.code, 2);
  assert.match(badWorkers.stderr, /--workers must be between 0 and \d+ .*, got -2/);
  const badWeights = arbor(['train', '--db', db, '--model', model, '--behavior-weights', 'buy=4,pv=-1']);
  assert.equal(badWeights.code, 2);
  assert.match(badWeights.stderr, /--behavior-weights: the weight of "pv" must be a non-negative number, got "-1"/);
  const badInt = arbor(['split', '--db', db, '--test-users', 'ten']);
  assert.equal(badInt.code, 2);
  assert.match(badInt.stderr, /--test-users must be an integer, got "ten"/);
  const envBad = arbor(['split', '--db', db], { ARBOR_TEST_USERS: 'x' });
  assert.equal(envBad.code, 2);
  assert.match(envBad.stderr, /ARBOR_TEST_USERS/);
  const noModel = arbor(['retrieve', '--model', model, '--history', 'i1']);
  assert.equal(noModel.code, 1);
  assert.match(noModel.stderr, /model folder does not exist/);
  assert.deepEqual(readdirSync(dir), [], 'nothing was created');
});

test('train --behavior-weights: checked against the store, recorded in manifest.json, shown by eval', () => {
  const dir = folder('behavior-weights');
  const csv = join(dir, 'synth.csv');
  assert.equal(arbor(['synth', '--out', csv, '--items', '100', '--users', '40', '--seed', '3']).code, 0);
  // every fourth event a purchase
  const typed = join(dir, 'typed.csv');
  writeFileSync(typed, readFileSync(csv, 'utf8').trim().split('\n').map((l, i) => (i % 4 === 3 ? l.replace(',pv,', ',buy,') : l)).join('\n') + '\n');
  const db = join(dir, 'a.db');
  assert.equal(arbor(['ingest', typed, '--format', 'userbehavior', '--db', db]).code, 0);
  assert.equal(arbor(['split', '--db', db, '--test-users', '8', '--valid-users', '4']).code, 0);
  const model = join(dir, 'm');
  assert.equal(arbor(['build-tree', '--db', db, '--out', model]).code, 0);
  const unknown = arbor(['train', '--db', db, '--model', model, '--epochs', '1', '--behavior-weights', 'buy=4,fav=2']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown behaviour type "fav" \(the training events have "pv", "buy"\)/);
  assert.equal(JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')).training, undefined, 'the folder is untouched');
  const r = arbor(['train', '--db', db, '--model', model, '--epochs', '1', '--behavior-weights', 'buy=3', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).options.behaviorWeights, { buy: 3 });
  assert.deepEqual(JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')).training.options.behaviorWeights, { buy: 3 });
  const e = arbor(['eval', '--db', db, '--model', model, '-k', '5', '--baselines', '']);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /model trained with behaviour weights buy=3 \(types not listed: 1\)/);
});

test('a malformed row stops the ingest: file:line, exit 1, store unchanged', () => {
  const dir = folder('malformed');
  const db = smallStore(dir);
  const bad = join(dir, 'bad.csv');
  writeFileSync(bad, '1,10,5,pv,1500000000\n1,11,5,click,1500000001\n');
  const fresh = join(dir, 'fresh.db');
  const r = arbor(['ingest', bad, '--format', 'userbehavior', '--db', fresh]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /bad\.csv:2: .*"click"/);
  assert.equal(existsSync(fresh), false);
  const before = readFileSync(db);
  const r2 = arbor(['ingest', bad, '--format', 'userbehavior', '--db', db]);
  assert.equal(r2.code, 1);
  assert.deepEqual(readFileSync(db), before);
});

test('every format: a malformed row gives file:line and the value, exit 1, no store left behind', () => {
  const dir = folder('formats');
  const cases: { format: string; name: string; text: string; want: RegExp }[] = [
    { format: 'movielens', name: 'bad-ratings.dat', text: '1::10::4::978300760\n1::11::nine::978300761\n', want: /bad-ratings\.dat:2: .*nine/ },
    { format: 'movielens', name: 'bad-u.data', text: '1\t10\t4\t878542960\n2\t11\t4\n', want: /bad-u\.data:2: / },
    { format: 'movielens', name: 'bad-ratings.csv', text: 'userId,movieId,rating,timestamp\n1,10,4.0,964982703\n1,11,4.0,yesterday\n', want: /bad-ratings\.csv:3: .*yesterday/ },
    { format: 'sequence', name: 'bad-seq.txt', text: 'u1 i1 i2 i3\nu2\n', want: /bad-seq\.txt:2: / },
    { format: 'userbehavior', name: 'bad-ub.csv', text: '1,10,5,pv,1500000000\n1,11,5,pv\n', want: /bad-ub\.csv:2: / },
  ];
  for (const c of cases) {
    const file = join(dir, c.name);
    writeFileSync(file, c.text);
    const store = join(dir, `${c.name}.db`);
    const r = arbor(['ingest', file, '--format', c.format, '--db', store]);
    assert.equal(r.code, 1, `${c.name}: ${r.stderr}`);
    assert.match(r.stderr, c.want);
    assert.equal(existsSync(store), false, `${c.name}: a store was left behind`);
  }
});

test('a config file sets options; flags override it', () => {
  const dir = folder('config');
  const db = smallStore(dir);
  const cfg = join(dir, 'cfg.json');
  writeFileSync(cfg, JSON.stringify({ 'test-users': 12, 'valid-users': 3 }));
  const r = arbor(['split', '--db', db, '--config', cfg, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).testUsers, 12);
  const r2 = arbor(['split', '--db', db, '--config', cfg, '--test-users', '7', '--json']);
  assert.equal(JSON.parse(r2.stdout).testUsers, 7);
  writeFileSync(cfg, JSON.stringify({ 'test-userz': 1 }));
  const r3 = arbor(['split', '--db', db, '--config', cfg]);
  assert.equal(r3.code, 2);
  assert.match(r3.stderr, /unknown option "test-userz"/);
});

test('docs/CLI.md matches the option specs (run `npm run docs` after changing options)', () => {
  assert.equal(readFileSync(join(root, 'docs', 'CLI.md'), 'utf8'), renderCliDocs());
});
