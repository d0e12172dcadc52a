/**
 * The attention scorer through the CLI: train --scorer attention with item
 * vectors (warnings counted), retrieve --explain (JSON and text), the usage
 * error for --explain on a pooling model, and a bad vectors file stopping
 * training with file:line and the model folder untouched.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'arbor.js');

function arbor(args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('attention scorer, item vectors and --explain through the CLI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'arbor-cli-att-'));
  const db = join(dir, 'a.db');
  const model = join(dir, 'att');
  const pooling = join(dir, 'pool');
  try {
    assert.equal(arbor(['synth', '--out', join(dir, 's.csv'), '--items', '300', '--users', '80', '--seed', '5']).code, 0);
    assert.equal(arbor(['ingest', join(dir, 's.csv'), '--format', 'userbehavior', '--db', db]).code, 0);
    assert.equal(arbor(['split', '--db', db, '--test-users', '10', '--seed', '1']).code, 0);
    assert.equal(arbor(['build-tree', '--db', db, '--out', model]).code, 0);
    assert.equal(arbor(['build-tree', '--db', db, '--out', pooling]).code, 0);

    await t.test('a bad vectors file stops training: file:line, exit 1, folder untouched', () => {
      const bad = join(dir, 'bad.jsonl');
      writeFileSync(bad, '{"item": "i1", "vector": [1, 2]}\n{"item": "i2", "vector": [1]}\n');
      const before = readFileSync(join(model, 'manifest.json'), 'utf8');
      const r = arbor(['train', '--db', db, '--model', model, '--scorer', 'attention', '--item-vectors', bad, '--epochs', '1']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /bad\.jsonl:2: vector of item i2 has 1 values, the first line's has 2/);
      assert.equal(readFileSync(join(model, 'manifest.json'), 'utf8'), before);
    });

    await t.test('train --scorer attention --item-vectors: counted warnings, features recorded', () => {
      const vec = join(dir, 'v.jsonl');
      const lines = ['{"item": "nope1", "vector": [0, 1, 0]}', '{"item": "nope2", "vector": [1, 0, 0]}'];
      for (let i = 0; i < 300; i += 2) lines.push(JSON.stringify({ item: `i${i}`, vector: [i % 3, (i % 7) / 7, 1] }));
      writeFileSync(vec, lines.join('\n') + '\n');
      const r = arbor(['train', '--db', db, '--model', model, '--scorer', 'attention', '--item-vectors', vec, '--epochs', '1', '--max-samples', '256', '--emb-dim', '8', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /skipped \d+ line\(s\) whose item id is not in the catalogue \(e\.g\. "nope1", "nope2"/);
      assert.match(r.stderr, /catalogue items have no vector and get the learned default/);
      const manifest = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8'));
      assert.equal(manifest.config.scorer.kind, 'attention');
      assert.equal(manifest.config.scorer.itemFeatures.category, true);
      assert.equal(manifest.config.scorer.itemFeatures.vectorDim, 3);
    });

    await t.test('retrieve --explain: top attended behaviours per item', () => {
      const r = arbor(['retrieve', '--model', model, '--db', db, '--user', 'u1', '-k', '4', '--explain', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const q = JSON.parse(r.stdout);
      assert.equal(q.items.length, 4);
      for (const it of q.items) {
        assert.ok(it.attention.length >= 1 && it.attention.length <= 3);
        for (let i = 1; i < it.attention.length; i++) assert.ok(it.attention[i - 1].weight >= it.attention[i].weight);
        for (const b of it.attention) assert.ok(typeof b.item === 'string' && Number.isInteger(b.historyIndex));
      }
      const text = arbor(['retrieve', '--model', model, '--history', 'i1,i2,i3', '-k', '2', '--explain']);
      assert.equal(text.code, 0, text.stderr);
      assert.match(text.stdout, /^1\t\S+\t[\d.]+\ti\d+@\d /m);
    });

    await t.test('--explain with a pooling model is a usage error', () => {
      assert.equal(arbor(['train', '--db', db, '--model', pooling, '--epochs', '1', '--max-samples', '256', '--emb-dim', '8']).code, 0);
      const r = arbor(['retrieve', '--model', pooling, '--history', 'i1', '-k', '2', '--explain']);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--explain needs a model trained with --scorer attention/);
      assert.equal(r.stdout, '');
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
