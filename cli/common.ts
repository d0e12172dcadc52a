/**
 * Helpers every command file of the CLI shares: output, logging, required
 * options and the store named by --db.
 */
import { UsageError } from '../src/core/errors.js';
import { stderrLogger, type Logger } from '../src/core/log.js';
import { Store } from '../src/data/index.js';
import type { Resolved } from './program.js';

/** Writes one line of data to standard output. */
export const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

/** The logger commands use (stderr). */
export const logger = (): Logger => stderrLogger();

/** Runs `fn` with the existing store named by --db, closing it afterwards. */
export async function withStore<T>(o: Resolved, fn: (store: Store) => Promise<T> | T): Promise<T> {
  const store = Store.open(o.db as string, { mustExist: true });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

/** The value of a required option; a UsageError naming `--flag` when it is missing. */
export function need(o: Resolved, key: string, flag: string): string {
  const v = o[key];
  if (v === undefined || v === '') throw new UsageError(`missing required option --${flag}`);
  return v as string;
}
