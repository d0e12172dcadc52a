/**
 * The option engine and the command table: precedence (flag > ARBOR_*
 * environment > --config file > default), required options, ranges (fixed,
 * naming another option, machine-dependent), and the table's defaults
 * coming from the modules that own them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Options } from '../cli/program.js';
import { COMMAND_OPTIONS } from '../cli/options.js';
import { UsageError } from '../src/core/errors.js';
import { coerce, optionsMarkdown, resolveOptions, type OptionSpec } from '../src/core/options.js';
import { DEFAULT_SCORER_CONFIG, SCORER_KIND_NAMES } from '../src/scorer/config.js';
import { CHECKPOINT_EVERY, DEFAULT_JOINT_ROUNDS, TRAIN_DEFAULTS } from '../src/trainer/defaults.js';
import { DEFAULT_LEARN_GAP } from '../src/tree/learn.js';

const specs: OptionSpec[] = [
  { name: 'batch-size', type: 'int', min: 1, default: 256, help: 'x' },
  { name: 'model', type: 'string', required: true, env: false, help: 'x' },
  { name: 'k', type: 'int', min: 1, default: 10, help: 'x' },
  { name: 'beam', type: 'int', min: 'k', max: 100, help: 'x' },
  { name: 'workers', type: 'int', min: 0, max: { of: () => 4, text: '2 × cores' }, rangeWhy: 'a reason', help: 'x' },
  { name: 'config', type: 'string', env: false, help: 'x' },
];
const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);

describe('option precedence', () => {
  const model = { model: 'm' };
  it('a flag beats the environment, which beats the config file, which beats the default', () => {
    const env = { ARBOR_BATCH_SIZE: '64' };
    const cfg = { 'batch-size': 32 };
    assert.equal(resolveOptions(specs, { ...model, batchSize: '128' }, env, cfg).batchSize, 128);
    assert.equal(resolveOptions(specs, model, env, cfg).batchSize, 64);
    assert.equal(resolveOptions(specs, model, {}, cfg).batchSize, 32);
    assert.equal(resolveOptions(specs, model, {}, { batchSize: 16 }).batchSize, 16, 'config keys may be camelCase');
    assert.equal(resolveOptions(specs, model, {}, {}).batchSize, 256);
    assert.equal(resolveOptions(specs, model, { ARBOR_BATCH_SIZE: '' }, cfg).batchSize, 32, 'an empty variable counts as unset');
  });

  it('keeps per-call options out of the environment and rejects unknown config keys', () => {
    assert.throws(() => resolveOptions(specs, {}, { ARBOR_MODEL: 'm' }, {}), usage(/^missing required option --model$/));
    assert.equal(resolveOptions(specs, {}, {}, { model: 'from-config' }).model, 'from-config');
    assert.throws(() => resolveOptions(specs, model, {}, { 'batch-sise': 3 }, 'c.json'), usage(/^c\.json: unknown option "batch-sise"/));
  });

  it('names the source of a bad value', () => {
    assert.throws(() => resolveOptions(specs, model, { ARBOR_BATCH_SIZE: 'ten' }, {}), usage(/^ARBOR_BATCH_SIZE: --batch-size must be an integer, got "ten"$/));
    assert.throws(() => resolveOptions(specs, model, {}, { 'batch-size': 0 }, 'c.json'), usage(/^c\.json: --batch-size must be >= 1, got 0$/));
  });
});

describe('option ranges and required options', () => {
  it('checks required options after every value, so a bad value is named first', () => {
    assert.throws(() => resolveOptions(specs, { k: '0' }, {}, {}), usage(/--k must be >= 1, got 0/));
    assert.throws(() => resolveOptions(specs, { k: '3' }, {}, {}), usage(/^missing required option --model$/));
  });

  it('checks a bound that names another option against its resolved value', () => {
    assert.equal(resolveOptions(specs, { model: 'm', k: '5', beam: '5' }, {}, {}).beam, 5);
    assert.throws(() => resolveOptions(specs, { model: 'm', k: '20', beam: '10' }, {}, {}), usage(/^command line: --beam must be between 20 and 100, got 10$/));
    assert.throws(() => resolveOptions(specs, { model: 'm', beam: '5' }, {}, { k: 6 }), usage(/--beam must be between 6 and 100, got 5/), 'k from the config file');
  });

  it('checks a machine-dependent bound and gives its reason', () => {
    assert.throws(() => resolveOptions(specs, { model: 'm', workers: '5' }, {}, {}), usage(/^command line: --workers must be between 0 and 4 \(a reason\), got 5$/));
    assert.match(optionsMarkdown(specs), /\(0 to 2 × cores\)/);
    assert.match(optionsMarkdown(specs), /\(--k to 100\)/);
    assert.match(optionsMarkdown(specs), /\(required\)/);
  });

  it('reads typed values and refuses the wrong type', () => {
    const o = new Options(resolveOptions(specs, { model: 'm' }, {}, {}));
    assert.equal(o.num('batchSize'), 256);
    assert.equal(o.str('model'), 'm');
    assert.equal(o.optNum('beam'), undefined);
    assert.equal(o.has('beam'), false);
    assert.throws(() => o.str('batchSize'), /option batchSize holds 256, not a string/);
    assert.throws(() => o.num('beam'), /option beam has no value/);
  });
});

describe('the command table', () => {
  it('takes its defaults from the modules that own them', () => {
    const train = COMMAND_OPTIONS.train;
    const get = (name: string) => train.find((s) => s.name === name)!;
    assert.equal(get('emb-dim').default, DEFAULT_SCORER_CONFIG.embDim);
    assert.equal(get('scorer').default, DEFAULT_SCORER_CONFIG.kind);
    assert.deepEqual(get('scorer').choices, SCORER_KIND_NAMES);
    assert.equal(get('gap').default, DEFAULT_LEARN_GAP);
    assert.equal(get('rounds').default, DEFAULT_JOINT_ROUNDS);
    assert.equal(get('checkpoint-every').default, CHECKPOINT_EVERY);
    assert.equal(get('epochs').default, TRAIN_DEFAULTS.epochs);
    assert.equal(get('batch-size').default, TRAIN_DEFAULTS.batchSize);
  });

  it('has every default inside its own range and choices', () => {
    for (const [command, list] of Object.entries(COMMAND_OPTIONS)) {
      const names = new Set<string>();
      for (const spec of list) {
        assert.ok(!names.has(spec.name), `${command}: --${spec.name} declared twice`);
        names.add(spec.name);
        assert.ok(!(spec.required && spec.default !== undefined), `${command}: --${spec.name} is required and has a default`);
        if (spec.default !== undefined && typeof spec.min !== 'string' && typeof spec.max !== 'string') {
          assert.doesNotThrow(() => coerce(spec, spec.default, 'default'), `${command}: --${spec.name}'s default ${JSON.stringify(spec.default)}`);
        }
        for (const b of [spec.min, spec.max]) if (typeof b === 'string') assert.ok(list.some((s) => s.name === b), `${command}: --${spec.name} is bounded by --${b}, which the command lacks`);
      }
    }
  });
});
