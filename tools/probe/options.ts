/**
 * Probe cases for command lines: every numeric option of every command
 * given a word and a value below its range (generated from the option
 * specs), environment variables and config files of the wrong shape,
 * missing and conflicting options, malformed --input and --item-vectors
 * files, absurd sizes, and standard output that is closed or full.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_OPTIONS } from '../../cli/options.js';
import { arbor, copy, describe, judgeError, sh } from './harness.js';
import type { Probe } from './probe.js';

/** Runs the command-line cases. */
export async function optionCases(p: Probe): Promise<void> {
  const area = 'options';
  const d = p.dir('O');
  let n = 0;
  let g = 0;
  // generated cases (one per option spec) are N…, so that adding an option does not renumber the O… cases
  const gen = () => `N${String(++g).padStart(3, '0')}`;
  const id = () => `O${String(++n).padStart(2, '0')}`;
  // every numeric option: a word, and (when it has a lower bound) a value below it
  for (const [command, specs] of Object.entries(COMMAND_OPTIONS)) {
    for (const spec of specs) {
      if (spec.type !== 'int' && spec.type !== 'number' && spec.type !== 'ints') continue;
      const flag = `--${spec.name}`;
      const cmd = command === 'ingest' ? ['ingest', 'data.csv'] : [command];
      await p.cli(gen(), area, `${command} ${flag} abc`, [...cmd, flag, 'abc'], {
        code: 2,
        pattern: new RegExp(`^arbor: command line: ${flag} must be (an integer|a number)`),
        text: `exit 2, "${flag} must be …, got \\"abc\\""`,
      }, { cwd: d });
      if (typeof spec.min === 'number') {
        const below = String(spec.min - 1);
        await p.cli(gen(), area, `${command} ${flag} ${below} (below its minimum ${spec.min})`, [...cmd, flag, below], {
          code: 2,
          pattern: new RegExp(`^arbor: command line: ${flag} must be (>= ${spec.min}|between ${spec.min} and \\d+)( \\(.*\\))?, got ${below}$`),
          text: `exit 2, "${flag} must be >= ${spec.min}, got ${below}"`,
        }, { cwd: d });
      }
    }
  }
  const e = (what: string, args: string[], code: 1 | 2, says: RegExp, o: { env?: Record<string, string>; input?: string } = {}) =>
    p.cli(id(), area, what, args, { code, pattern: says, text: `exit ${code}: ${says.source.replace(/\\/g, '')}` }, { cwd: d, ...o });
  await e('ARBOR_SEED=abc', ['split', '--db', p.store], 2, /ARBOR_SEED: --seed must be an integer, got "abc"/, { env: { ARBOR_SEED: 'abc' } });
  await e('ARBOR_K=-3 for retrieve', ['retrieve', '--model', p.model, '--history', 'i1'], 2, /ARBOR_K: --k must be >= 1, got -3/, { env: { ARBOR_K: '-3' } });
  writeFileSync(join(d, 'bad.json'), '{"seed": ');
  writeFileSync(join(d, 'array.json'), '[1, 2]');
  writeFileSync(join(d, 'unknown.json'), '{"sede": 3}');
  writeFileSync(join(d, 'deep.json'), `{"seed": ${'['.repeat(50_000)}${']'.repeat(50_000)}}`);
  writeFileSync(join(d, 'type.json'), '{"test-users": "many"}');
  await e('--config file missing', ['split', '--db', p.store, '--config', 'none.json'], 2, /cannot read config file none\.json/);
  await e('--config file not JSON', ['split', '--db', p.store, '--config', 'bad.json'], 2, /config file bad\.json: /);
  await e('--config file a JSON array', ['split', '--db', p.store, '--config', 'array.json'], 2, /expected a JSON object/);
  await e('--config file with a misspelt key', ['split', '--db', p.store, '--config', 'unknown.json'], 2, /unknown option "sede"/);
  await e('--config file value nested 50,000 levels', ['split', '--db', p.store, '--config', 'deep.json'], 2, /--seed must be an integer, got \[… nested too deeply/);
  await e('--config file value of the wrong type', ['split', '--db', p.store, '--config', 'type.json'], 2, /--test-users must be an integer, got "many"/);
  await e('an unknown option', ['split', '--db', p.store, '--tets-users', '3'], 2, /unknown option '--tets-users'/);
  await e('ingest without --format', ['ingest', p.csv], 2, /missing required option --format/);
  await e('ingest without a file', ['ingest', '--format', 'userbehavior'], 2, /missing required argument/);
  await e('ingest --format csv', ['ingest', p.csv, '--format', 'csv'], 2, /argument 'csv' is invalid\. Allowed choices are userbehavior, movielens, sequence/);
  await e('train without --model', ['train', '--db', p.store], 2, /missing required option --model/);
  await e('build-tree without --out', ['build-tree', '--db', p.store], 2, /missing required option --out/);
  await e('retrieve with --user and --history', ['retrieve', '--model', p.model, '--user', 'u1', '--history', 'i1'], 2, /give exactly one of --user/);
  await e('retrieve --beam below -k', ['retrieve', '--model', p.model, '--history', 'i1', '-k', '10', '--beam', '5'], 2, /beam must be >= k \(beam 5, k 10\)/);
  await e('retrieve --categories unknown', ['retrieve', '--model', p.model, '--history', 'i1', '--categories', 'zz'], 2, /--categories: unknown category "zz"/);
  await e('retrieve --workers 1000', ['retrieve', '--model', p.model, '--history', 'i1', '--workers', '1000'], 2, /--workers must be between 0 and \d+/);
  await e('train --workers 1000', ['train', '--db', p.store, '--model', p.model, '--workers', '1000'], 2, /--workers must be between 0 and \d+/);
  await e('eval --baselines foo', ['eval', '--db', p.store, '--model', p.model, '-k', '5', '--baselines', 'foo'], 2, /unknown baseline "foo"/);
  await e('train --negatives abc', ['train', '--db', p.store, '--model', p.model, '--negatives', 'abc'], 2, /negatives/);
  await e('train --negatives -1', ['train', '--db', p.store, '--model', p.model, '--negatives', '-1'], 2, /negatives/);
  await p.run(id(), area, 'retrieve -k 1000000000 (more than the catalogue)', 'arbor retrieve --model m --history i1 -k 1000000000 --json', 'exit 0 with the whole catalogue (k is capped by it), or exit 2 naming k; never a crash', () => {
    const r = arbor(['retrieve', '--model', p.model, '--history', 'i1', '-k', '1000000000', '--json'], { cwd: d });
    const n = r.code === 0 ? (JSON.parse(r.stdout) as { items: unknown[] }).items.length : -1;
    return [`${describe(r).slice(0, 40)}… (${n} items)`, r.code === 0 ? (n > 0 ? '' : 'no items') : judgeError(r, 2, /k/)];
  });
  copy(p.model, join(d, 'm-emb'));
  await p.cli(id(), area, 'train --emb-dim 1000000000', ['train', '--db', p.store, '--model', 'm-emb', '--emb-dim', '1000000000', '--workers', '0'], {
    code: 2, pattern: /--emb-dim must be between 1 and 4096, got 1000000000/, text: 'exit 2, "--emb-dim must be between 1 and 4096" (before any memory is taken)',
  }, { cwd: d });
  // --input files of retrieve
  const inputs: [string, string | Buffer, 0 | 1, RegExp | undefined][] = [
    ['retrieve --input: a line that is not JSON', '{"history": ["i1"]}\n{"history": [\n', 1, /q\.jsonl:2: not valid JSON/],
    ['retrieve --input: history not a list', '{"history": "i1"}\n', 1, /q\.jsonl:1: expected \{"user"/],
    ['retrieve --input: a line nested 50,000 levels', `{"history": ${'['.repeat(50_000)}${']'.repeat(50_000)}}\n`, 1, /q\.jsonl:1: /],
    ['retrieve --input: not UTF-8', Buffer.concat([Buffer.from('{"history": ["i'), Buffer.from([0xe8]), Buffer.from('"]}\n')]), 1, /q\.jsonl:1: not valid UTF-8/],
    ['retrieve --input: an empty file', '', 0, undefined],
  ];
  for (const [what, data, code, says] of inputs) {
    writeFileSync(join(d, 'q.jsonl'), data);
    await p.cli(id(), area, what, ['retrieve', '--model', p.model, '--input', 'q.jsonl', '-k', '2', '--json'], { code, pattern: says, text: code ? `exit 1: ${says!.source.replace(/\\/g, '')}` : 'exit 0, no output' }, { cwd: d });
  }
  await e('retrieve --input a missing file', ['retrieve', '--model', p.model, '--input', 'none.jsonl'], 1, /cannot read none\.jsonl: no such file/);
  // --item-vectors files of train
  const vectors: [string, string | Buffer, RegExp][] = [
    ['train --item-vectors: a NaN', '{"item": "i1", "vector": [1, NaN]}\n', /v\.jsonl:1: not valid JSON/],
    ['train --item-vectors: lengths differ', '{"item": "i1", "vector": [1, 2]}\n{"item": "i2", "vector": [1]}\n', /v\.jsonl:2: vector of item i2 has 1 values/],
    ['train --item-vectors: a value nested deeply', `{"item": "i1", "vector": [${'['.repeat(50_000)}${']'.repeat(50_000)}]}\n`, /v\.jsonl:1: vector value 0 is not a finite number/],
    ['train --item-vectors: not UTF-8', Buffer.concat([Buffer.from('{"item": "i'), Buffer.from([0xe8]), Buffer.from('", "vector": [1]}\n')]), /v\.jsonl:1: not valid UTF-8/],
    ['train --item-vectors: no id of the catalogue', '{"item": "zz", "vector": [1]}\n', /none of its 1 item ids is in the model's catalogue/],
    ['train --item-vectors: empty file', '', /holds no vectors/],
  ];
  for (const [what, data, says] of vectors) {
    writeFileSync(join(d, 'v.jsonl'), data);
    await e(what, ['train', '--db', p.store, '--model', p.model, '--item-vectors', 'v.jsonl', '--epochs', '1', '--workers', '0'], 1, says);
  }
  // standard output that goes away or fills up
  writeFileSync(join(d, 'many.jsonl'), Array.from({ length: 3000 }, (_, i) => `{"history": ["i${i % 300}"]}`).join('\n') + '\n');
  await p.run(id(), area, 'standard output closed early (| head -1)', 'arbor retrieve --input many.jsonl --json | head -1', 'one line printed, no error and no stack on stderr', () => {
    const r = sh('set -o pipefail; $ARBOR retrieve --model ' + p.model + ' --input many.jsonl -k 2 --json --workers 0 | head -1; echo "exit ${PIPESTATUS[0]}" >&2', d);
    const lines = r.stdout.trim().split('\n').length;
    const errs = r.stderr.split('\n').filter((l) => l.startsWith('arbor: ') && !/tfjs backend|skipped \d+ history/.test(l));
    return [`${lines} line; stderr: ${errs.join(' / ') || '(nothing)'}; ${/exit \d+/.exec(r.stderr)?.[0]}`, lines === 1 && errs.length === 0 && !/\n\s+at /.test(r.stderr) ? '' : 'noisy'];
  });
  await p.run(id(), area, 'standard output on a full device (/dev/full)', 'arbor retrieve --input many.jsonl --json > /dev/full', 'exit 1, one line "cannot write standard output: the disk is full"', () => {
    const r = sh('$ARBOR retrieve --model ' + p.model + ' --input many.jsonl -k 2 --json --workers 0 > /dev/full', d);
    return [describe(r), judgeError(r, 1, /standard output.*disk is full/)];
  });
  await p.run(id(), area, 'arbor --help | head -1', 'arbor --help | head -1', 'one line, nothing on stderr', () => {
    const r = sh('$ARBOR --help | head -1', d);
    return [`${r.stdout.trim()} / stderr: ${r.stderr.trim() || '(nothing)'}`, r.stderr.trim() === '' ? '' : 'noisy'];
  });
  await p.run(id(), area, 'synth --out a symbolic link to a file', 'ln -s real.csv link.csv; arbor synth --out link.csv', 'exit 0; the link is kept and the file it points to written', () => {
    const r = sh('echo old > real.csv; ln -sf real.csv link.csv; $ARBOR synth --out link.csv --items 30 --users 5 && [ -L link.csv ] && head -c 2 real.csv', d);
    return [describe(r), r.code === 0 && /^u\d/.test(r.stdout.trim().split('\n').pop() ?? '') ? '' : 'the link was replaced or not followed'];
  });
  await p.run(id(), area, 'synth --out a FIFO (a reader on the other end)', 'mkfifo f; cat f > got & arbor synth --out f', 'exit 0; the FIFO stays a FIFO and the reader gets the CSV', () => {
    const r = sh('rm -f f; mkfifo f; cat f > got.csv & $ARBOR synth --out f --items 30 --users 5; wait; [ -p f ] && wc -l < got.csv', d);
    return [describe(r), r.code === 0 && Number(r.stdout.trim().split('\n').pop()) > 0 ? '' : 'the FIFO was replaced'];
  });
}
