/**
 * Builds the commander program from the option specs in src/core/options.ts.
 * Each action receives the resolved options (flags > ARBOR_* env > --config
 * file > defaults) as camelCase keys.
 */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { COMMAND_OPTIONS, resolveOptions, type OptionSpec } from '../src/core/options.js';
import { UsageError } from '../src/core/errors.js';

/** Resolved options of one command. */
export type Resolved = Record<string, unknown>;

/** Adds a command whose options come from COMMAND_OPTIONS[name]. */
export function addCommand(
  program: Command,
  name: string,
  args: string,
  description: string,
  action: (opts: Resolved, positional: string[]) => Promise<void>,
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
    await action(resolved, positional);
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
