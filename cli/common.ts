/**
 * Helpers every command file of the CLI shares: output, logging and the
 * store named by --db.
 */
import { stderrLogger, type Logger } from '../src/core/log.js';
import { Store } from '../src/data/index.js';
import type { Options } from './program.js';

/** Writes one line of data to standard output. */
export const out = (s: string): void => {
  process.stdout.write(s + '\n');
};

/** The logger commands use (stderr). */
export const logger = (): Logger => stderrLogger();

/** Runs `fn` with the existing store named by --db, closing it afterwards. */
export async function withStore<T>(o: Options, fn: (store: Store) => Promise<T> | T): Promise<T> {
  const store = Store.open(o.str('db'), { mustExist: true });
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}
