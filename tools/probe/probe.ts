/**
 * The probe's case recorder and its shared fixtures: a small synthetic
 * store (split) and a trained model, made once and copied by destructive
 * cases. `cli()` runs one CLI case and judges it; `run()` records any
 * other case.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { arbor, clip, describe, judgeError, judgeOk, type CaseResult, type Run } from './harness.js';

/** What a CLI case should end with. */
export interface Expect {
  /** Exit code: 0, 1 (runtime) or 2 (usage). */
  code: 0 | 1 | 2;
  /** The one error line must match this (failing cases). */
  pattern?: RegExp;
  /** How the expectation reads in the report. */
  text: string;
  /** Further checks after the run (store unchanged, ...): '' when they hold, else why not. */
  after?: (r: Run) => string;
}

/** Options of one CLI case. */
export interface CliOptions {
  cwd?: string;
  input?: string | Buffer;
  env?: Record<string, string>;
  unprivileged?: boolean;
  /** The command as shown in the report (default: `arbor ARGS`). */
  shown?: string;
}

/** Collects case outcomes. */
export class Probe {
  readonly results: CaseResult[] = [];
  private n = 0;

  constructor(
    /** Scratch folder of this probe run. */
    readonly base: string,
    /** Store with a split, ingested from `csv`. */
    readonly store: string,
    /** A trained model over `store`. */
    readonly model: string,
    /** The Taobao CSV the store was made from. */
    readonly csv: string,
  ) {}

  /** A fresh scratch folder. */
  dir(label: string): string {
    const d = join(this.base, `c${++this.n}-${label.replace(/[^a-z0-9]+/gi, '-').slice(0, 30)}`);
    mkdirSync(d, { recursive: true });
    return d;
  }

  /** Writes `data` to a new file in a fresh folder; returns its path. */
  file(label: string, name: string, data: string | Buffer): string {
    const d = this.dir(label);
    const f = join(d, name);
    writeFileSync(f, data);
    return f;
  }

  /** Records one case. */
  record(r: CaseResult): void {
    this.results.push(r);
    const mark = r.skipped ? 'skip' : r.pass ? 'ok  ' : 'FAIL';
    process.stderr.write(`${mark} ${r.id} ${r.what}${r.pass || r.skipped ? '' : `\n      expected: ${r.expected}\n      observed: ${r.observed}`}\n`);
  }

  /** Runs `fn` as case `id`; it returns what was observed and '' (pass) or why it failed. */
  async run(id: string, area: string, what: string, command: string, expected: string, fn: () => Promise<[string, string]> | [string, string]): Promise<void> {
    try {
      const [observed, failure] = await fn();
      this.record({ id, area, what, command, expected, observed: failure ? `${observed} [${failure}]` : observed, pass: failure === '' });
    } catch (e) {
      this.record({ id, area, what, command, expected, observed: `probe error: ${clip((e as Error).message, 200)}`, pass: false });
    }
  }

  /** Records a case that cannot run here. */
  skip(id: string, area: string, what: string, command: string, expected: string, why: string): void {
    this.record({ id, area, what, command, expected, observed: `not run: ${why}`, pass: true, skipped: why });
  }

  /** Runs one CLI case and judges it against `e`. */
  async cli(id: string, area: string, what: string, args: string[], e: Expect, o: CliOptions = {}): Promise<void> {
    await this.run(id, area, what, o.shown ?? `arbor ${args.map(quote).join(' ')}`, e.text, () => {
      const r = arbor(args, { cwd: o.cwd ?? this.base, input: o.input, env: o.env, unprivileged: o.unprivileged });
      let failure = e.code === 0 ? judgeOk(r) : judgeError(r, e.code, e.pattern);
      if (!failure && e.after) failure = e.after(r);
      return [describe(r), failure];
    });
  }
}

/** Shell-style quoting for the report. */
export function quote(a: string): string {
  return /^[\w./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`;
}
