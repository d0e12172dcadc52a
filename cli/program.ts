/**
 * Builds the commander program from the command table (options.ts). Each
 * action receives the resolved options (flags > ARBOR_* env > --config file
 * > defaults; see src/core/options.ts) as an `Options` object.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { resolveOptions, type OptionSpec } from '../src/core/options.js';
import { UsageError } from '../src/core/errors.js';
import { COMMAND_OPTIONS } from './options.js';

/**
 * One command's resolved options, read by camelCase key with their type:
 * the value was already converted and checked against its spec, so a
 * getter that finds another type names the key (a mistake in the CLI, not
 * the user's).
 */
export class Options {
  constructor(private readonly values: Readonly<Record<string, unknown>>) {}

  /** Whether the option has a value (given, or a default). */
  has(key: string): boolean {
    return this.values[key] !== undefined;
  }

  /** Every resolved value, by key (for echoing the configuration). */
  all(): Readonly<Record<string, unknown>> {
    return this.values;
  }

  private typed<T>(key: string, ok: (v: unknown) => boolean, what: string): T | undefined {
    const v = this.values[key];
    if (v !== undefined && !ok(v)) throw new Error(`option ${key} holds ${JSON.stringify(v)}, not ${what}`);
    return v as T | undefined;
  }

  private present<T>(key: string, v: T | undefined): T {
    if (v === undefined) throw new Error(`option ${key} has no value and no default`);
    return v;
  }

  /** A number option without a default: its value or undefined. */
  optNum(key: string): number | undefined {
    return this.typed<number>(key, (v) => typeof v === 'number', 'a number');
  }

  /** A number option with a default (or required). */
  num(key: string): number {
    return this.present(key, this.optNum(key));
  }

  /** A string option without a default: its value or undefined. */
  optStr(key: string): string | undefined {
    return this.typed<string>(key, (v) => typeof v === 'string', 'a string');
  }

  /** A string option with a default (or required). */
  str(key: string): string {
    return this.present(key, this.optStr(key));
  }

  /** A flag (false when not given and without a default). */
  bool(key: string): boolean {
    return this.typed<boolean>(key, (v) => typeof v === 'boolean', 'true or false') ?? false;
  }

  /** A list of numbers without a default: its value or undefined. */
  optNums(key: string): number[] | undefined {
    return this.typed<number[]>(key, (v) => Array.isArray(v) && v.every((x) => typeof x === 'number'), 'a list of numbers');
  }

  /** A list of numbers with a default. */
  nums(key: string): number[] {
    return this.present(key, this.optNums(key));
  }

  /** A list of strings without a default: its value or undefined. */
  optStrs(key: string): string[] | undefined {
    return this.typed<string[]>(key, (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), 'a list of strings');
  }

  /** A list of strings with a default. */
  strs(key: string): string[] {
    return this.present(key, this.optStrs(key));
  }

  /** A string option with choices (the spec's choices, checked when resolving), typed as one of `choices`. */
  choice<T extends string>(key: string, choices: readonly T[]): T {
    return this.present(key, this.optChoice(key, choices));
  }

  /** As `choice`, for an option without a default. */
  optChoice<T extends string>(key: string, choices: readonly T[]): T | undefined {
    return this.typed<T>(key, (v) => typeof v === 'string' && (choices as readonly string[]).includes(v), `one of ${choices.join(', ')}`);
  }
}

/** Adds a command whose options come from COMMAND_OPTIONS[name]. */
export function addCommand(
  program: Command,
  name: string,
  args: string,
  description: string,
  action: (opts: Options, positional: string[]) => Promise<void>,
  extraHelp = '',
): Command {
  const specs = COMMAND_OPTIONS[name];
  const cmd = program
    .command(`${name}${args ? ' ' + args : ''}`)
    .description(description)
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(usageLine(s, `arbor ${name} --help`)) });
  for (const spec of specs) cmd.addOption(toOption(spec));
  for (const spec of specs) if (spec.type === 'bool' && spec.default === true) cmd.addOption(new Option(`--no-${spec.name}`, `turn --${spec.name} off`));
  if (extraHelp) cmd.addHelpText('after', '\n' + extraHelp);
  cmd.action(async (...a: unknown[]) => {
    const command = a[a.length - 1] as Command;
    const flags = command.opts();
    const positional = command.args;
    const cfg = flags.config ? readConfigFile(flags.config as string) : {};
    const resolved = resolveOptions(specs, flags, process.env, cfg, flags.config as string | undefined);
    await action(new Options(resolved), positional);
  });
  return cmd;
}

/**
 * A commander error ("error: unknown option '--x'\n(Did you mean --y?)\n")
 * as one arbor line: `arbor: unknown option '--x' (Did you mean --y?): run HELP for usage`.
 */
export function usageLine(text: string, help: string): string {
  const what = text
    .trim()
    .replace(/^error: /, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
    .replace(/\.$/, '');
  return `arbor: ${what}: run ${help} for usage\n`;
}

function toOption(spec: OptionSpec): Option {
  const flag = `${spec.short ? `-${spec.short}, ` : ''}--${spec.name}${spec.type === 'bool' ? '' : ` <${spec.arg ?? 'value'}>`}`;
  const def = spec.default === undefined ? '' : ` (default: ${Array.isArray(spec.default) ? spec.default.join(',') || 'none' : String(spec.default)})`;
  const opt = new Option(flag, spec.help + def);
  if (spec.choices) opt.choices(spec.choices);
  return opt;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read config file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const doc = JSON.parse(text);
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('expected a JSON object');
    return doc as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`config file ${file}: ${(e as Error).message}`);
  }
}
