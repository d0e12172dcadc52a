/**
 * `arbor train --resume` end to end: a training process on 2 worker threads
 * is killed (SIGKILL) once its first checkpoint is on disk; the resumed run
 * writes exactly the weights of an uninterrupted run and removes the
 * checkpoint. Around it, the refusals: a fresh run over an interrupted one,
 * a resume with other options, a corrupt checkpoint, no checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arbor, killAtCheckpoint } from './helpers/spawn.js';
import { tempDir } from './helpers/training.js';

const { dir, cleanup } = tempDir('cli-resume');
const db = join(dir, 'a.db');
const TRAIN = ['--db', db, '--epochs', '2', '--batch-size', '100', '--max-samples', '800', '--checkpoint-every', '1', '--workers', '2', '--emb-dim', '8', '--seed', '4'];
const weights = (model: string) => readFileSync(join(model, 'scorer', 'weights.bin'));


test('train --resume after a kill -9 ends with the uninterrupted weights', async (t) => {
  t.after(cleanup);
  const csv = join(dir, 's.csv');
  for (const args of [
    ['synth', '--out', csv, '--items', '300', '--users', '150', '--seed', '3'],
    ['ingest', csv, '--format', 'userbehavior', '--db', db],
    ['split', '--db', db, '--test-users', '20', '--valid-users', '15', '--seed', '1'],
    ['build-tree', '--db', db, '--out', join(dir, 'full')],
  ]) {
    const r = arbor(args);
    assert.equal(r.code, 0, r.stderr);
  }
  for (const m of ['crash', 'corrupt']) cpSync(join(dir, 'full'), join(dir, m), { recursive: true });

  const full = arbor(['train', '--model', join(dir, 'full'), ...TRAIN, '--json']);
  assert.equal(full.code, 0, full.stderr);
  assert.equal(existsSync(join(dir, 'full', 'checkpoint')), false, 'a finished training removes its checkpoint');

  const crash = join(dir, 'crash');
  const killed = await killAtCheckpoint(crash, ['train', '--model', crash, ...TRAIN]);
  assert.ok(killed.killed, `the run was killed before it finished: ${killed.stderr}`);
  assert.ok(existsSync(join(crash, 'checkpoint')));
  assert.equal(existsSync(join(crash, 'scorer', 'weights.bin')), false, 'the killed run wrote no scorer');
  cpSync(join(crash, 'checkpoint'), join(dir, 'corrupt', 'checkpoint'), { recursive: true });

  await t.test('a fresh run over the checkpoint is refused (it would discard the interrupted run)', () => {
    const r = arbor(['train', '--model', crash, ...TRAIN.filter((a) => a !== '--resume')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /an interrupted training run left a checkpoint in .*crash\/checkpoint: continue it with --resume/);
  });

  await t.test('resuming with another seed or worker count names the difference', () => {
    const seed = arbor(['train', '--model', crash, ...TRAIN, '--seed', '5', '--resume']);
    assert.equal(seed.code, 2);
    assert.match(seed.stderr, /the training checkpoint .*crash\/checkpoint is from another run: seed: checkpoint 4, this run 5/);
    const w = arbor(['train', '--model', crash, ...TRAIN, '--workers', '1', '--lr', '0.02', '--resume']);
    assert.equal(w.code, 2);
    assert.match(w.stderr, /workers: checkpoint 2, this run 1/);
    assert.match(w.stderr, /lr: checkpoint 0\.01, this run 0\.02/);
    assert.doesNotMatch(seed.stderr + w.stderr, /\n\s+at /, 'no stack');
  });

  await t.test('a corrupt checkpoint: exit 1, naming it', () => {
    const bin = join(dir, 'corrupt', 'checkpoint', 'arrays.bin');
    const b = readFileSync(bin);
    b[7] ^= 0x40;
    writeFileSync(bin, b);
    const r = arbor(['train', '--model', join(dir, 'corrupt'), ...TRAIN, '--resume']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /the training checkpoint .*corrupt\/checkpoint is corrupt: arrays\.bin fails its checksum/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  await t.test('--resume continues: the weights of the uninterrupted run, bit for bit; the checkpoint is removed', () => {
    const r = arbor(['train', '--model', crash, ...TRAIN, '--resume', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /resuming from .*crash\/checkpoint: epoch 1, step \d+/);
    assert.match(r.stderr, /eta=/);
    assert.ok(weights(crash).equals(weights(join(dir, 'full'))), 'resumed weights differ from the uninterrupted run');
    const a = JSON.parse(full.stdout);
    const b = JSON.parse(r.stdout);
    assert.deepEqual(b.epochs.map((e: { loss: number; validRecall: number }) => [e.loss, e.validRecall]), a.epochs.map((e: { loss: number; validRecall: number }) => [e.loss, e.validRecall]));
    assert.equal(existsSync(join(crash, 'checkpoint')), false);
  });

  await t.test('--resume without a checkpoint: exit 2, naming the folder', () => {
    const r = arbor(['train', '--model', crash, ...TRAIN, '--resume']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no training checkpoint in .*crash\/checkpoint/);
  });
});
