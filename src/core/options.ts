/**
 * The generic option engine: an option is data (name, type, default,
 * range, help, environment variable), and resolving a command's options
 * from flags, the environment and a config file is one function for every
 * command. The commands' tables are the CLI's (cli/options.ts).
 *
 * Precedence, highest first: a command-line flag, then its ARBOR_*
 * environment variable, then the --config file, then the spec's default.
 * A model folder's own settings (the tree's branching, the scorer's path
 * weight) are not options: they apply where an option leaves the value
 * unset (`--rank auto` takes the model's own path weight).
 */
import { UsageError } from './errors.js';
import { preview } from './preview.js';

/** Value types an option can take. */
export type OptionType = 'int' | 'number' | 'string' | 'bool' | 'ints' | 'strings';

/**
 * A bound of a numeric option: a number; the name of another option of the
 * same command whose resolved value is the bound (checked when both have a
 * value); or a bound that depends on the machine (`of` computes it, `text`
 * describes it in the docs, e.g. "2 × cores").
 */
export type OptionBound = number | string | { of: () => number; text: string };

/** The number a bound stands for, given the command's resolved values (camelCase keys). */
function boundValue(b: OptionBound | undefined, values: Record<string, unknown>): number | undefined {
  if (b === undefined || typeof b === 'number') return b;
  if (typeof b === 'string') return values[camel(b)] as number | undefined;
  return b.of();
}

/** One option. */
export interface OptionSpec {
  /** Long name without dashes, e.g. "batch-size". */
  name: string;
  /** One-letter alias, e.g. "k". */
  short?: string;
  type: OptionType;
  /** Placeholder in help, e.g. "N" or "FILE". */
  arg?: string;
  default?: unknown;
  /** The command cannot run without it (given by flag, environment or config file). */
  required?: boolean;
  /** Allowed values (for string options). */
  choices?: readonly string[];
  /** Smallest allowed value (numeric options; every element of a list). */
  min?: OptionBound;
  /** Largest allowed value (numeric options; every element of a list). */
  max?: OptionBound;
  /** Why the range is what it is, added to an out-of-range error. */
  rangeWhy?: string;
  help: string;
  /** False to keep out of ARBOR_* environment lookup (e.g. per-call inputs). */
  env?: boolean;
}

/** camelCase key of an option name ("batch-size" → "batchSize"). */
export function camel(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Environment variable of an option ("batch-size" → ARBOR_BATCH_SIZE). */
export function envName(name: string): string {
  return 'ARBOR_' + name.toUpperCase().replace(/-/g, '_');
}

/** Converts a raw value (string from argv/env, or JSON from a config file) to the option's type. */
export function coerce(spec: OptionSpec, raw: unknown, source: string): unknown {
  const bad = (what: string) => new UsageError(`${source}: --${spec.name} ${what}, got ${preview(raw, 80)}`);
  const num = (v: unknown, int: boolean): number => {
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || (int && !Number.isInteger(n))) throw bad(int ? 'must be an integer' : 'must be a number');
    return n;
  };
  const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : typeof v === 'string' ? (v.trim() === '' ? [] : v.split(',').map((x) => x.trim())) : [v]);
  let value: unknown;
  switch (spec.type) {
    case 'int':
      value = num(raw, true);
      break;
    case 'number':
      value = num(raw, false);
      break;
    case 'bool':
      if (typeof raw === 'boolean') value = raw;
      else if (raw === 'true' || raw === '1') value = true;
      else if (raw === 'false' || raw === '0') value = false;
      else throw bad('must be true or false');
      break;
    case 'ints':
      value = list(raw).map((x) => num(x, true));
      break;
    case 'strings':
      value = list(raw).map(String);
      break;
    default:
      if (typeof raw !== 'string') throw bad('must be a string');
      value = raw;
  }
  if (spec.choices && !spec.choices.includes(value as string)) throw bad(`must be one of ${spec.choices.join(', ')}`);
  // a bound naming another option is checked once every option is resolved (resolveOptions)
  if (typeof spec.min !== 'string' && typeof spec.max !== 'string') checkRange(spec, value, source, boundValue(spec.min, {}), boundValue(spec.max, {}));
  return value;
}

/** Throws a UsageError when a number of `value` (or of its list) is outside [min, max]. */
function checkRange(spec: OptionSpec, value: unknown, source: string, min: number | undefined, max: number | undefined): void {
  for (const n of Array.isArray(value) ? value : [value]) {
    if (typeof n !== 'number') continue;
    if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
      const range = min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `>= ${min}` : `<= ${max}`;
      throw new UsageError(`${source}: --${spec.name} must be ${range}${spec.rangeWhy ? ` (${spec.rangeWhy})` : ''}, got ${n}`);
    }
  }
}

/**
 * Resolves a command's options: flags (already parsed, keyed by camelCase;
 * undefined when not given) > ARBOR_* environment > config file values >
 * defaults. Returns camelCase keys.
 */
export function resolveOptions(
  specs: OptionSpec[],
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  configFile: Record<string, unknown> = {},
  configSource = 'config file',
): Record<string, unknown> {
  const known = new Set(specs.map((s) => s.name));
  for (const key of Object.keys(configFile)) {
    if (!known.has(key) && !known.has(key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase()))) {
      throw new UsageError(`${configSource}: unknown option ${JSON.stringify(key)} for this command`);
    }
  }
  const out: Record<string, unknown> = {};
  const from = new Map<string, string>();
  for (const spec of specs) {
    if (spec.name === 'config') continue;
    const key = camel(spec.name);
    const ev = spec.env === false ? undefined : env[envName(spec.name)];
    const [raw, source] =
      flags[key] !== undefined
        ? [flags[key], 'command line']
        : ev !== undefined && ev !== ''
          ? [ev, envName(spec.name)]
          : configFile[spec.name] !== undefined
            ? [configFile[spec.name], configSource]
            : configFile[key] !== undefined
              ? [configFile[key], configSource]
              : [undefined, 'default'];
    if (raw !== undefined) {
      out[key] = coerce(spec, raw, source);
      from.set(key, source);
    } else if (spec.default !== undefined) out[key] = spec.default;
  }
  // after every value is checked: required options, then bounds that name another option of the command
  for (const spec of specs) {
    const v = out[camel(spec.name)];
    if (spec.required && (v === undefined || v === '')) throw new UsageError(`missing required option --${spec.name}`);
  }
  for (const spec of specs) {
    const key = camel(spec.name);
    if (out[key] === undefined || (typeof spec.min !== 'string' && typeof spec.max !== 'string')) continue;
    checkRange(spec, out[key], from.get(key) ?? 'default', boundValue(spec.min, out), boundValue(spec.max, out));
  }
  return out;
}

/** A markdown table of a command's options (for docs/CLI.md). */
export function optionsMarkdown(specs: OptionSpec[]): string {
  const rows = specs.map((s) => {
    const flag = `${s.short ? `-${s.short}, ` : ''}--${s.name}${s.arg ? ` ${s.arg}` : ''}`;
    const def = s.default === undefined ? '' : Array.isArray(s.default) ? s.default.join(',') : String(s.default);
    const env = s.env === false ? '' : envName(s.name);
    const b = (x: OptionBound) => (typeof x === 'string' ? `--${x}` : typeof x === 'number' ? String(x) : x.text);
    const range = s.min !== undefined && s.max !== undefined ? ` (${b(s.min)} to ${b(s.max)})` : s.min !== undefined ? ` (>= ${b(s.min)})` : s.max !== undefined ? ` (<= ${b(s.max)})` : '';
    const required = s.required ? ' (required)' : '';
    return `| \`${flag}\` | ${def} | ${env} | ${s.help.replace(/\|/g, '\\|')}${s.choices ? ` (${s.choices.join(', ')})` : ''}${range}${required} |`;
  });
  return ['| option | default | environment | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
