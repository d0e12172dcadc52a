/**
 * The commands that only read and write data (ingest, split, synth). They
 * import the data layer alone, so they start in a fraction of the time of
 * the commands that load tfjs (commands.ts).
 */
import { readFileSync } from 'node:fs';
import { fileError } from '../src/core/fs-errors.js';
import { Store, parseItemsFile, writeSyntheticUserBehaviorCsv, type InputFormat } from '../src/data/index.js';
import { logger, need, out, withStore } from './common.js';
import type { Resolved } from './program.js';

/** `arbor ingest FILE --format F [--items FILE] [--db FILE] [--min-rating R]`; FILE `-` is standard input. */
export async function ingestCommand(o: Resolved, [file]: string[]): Promise<void> {
  const format = need(o, 'format', 'format') as InputFormat;
  const store = Store.open(o.db as string);
  try {
    const r = await store.ingest(file, format, { items: o.items as string | undefined, minRating: o.minRating as number | undefined, logger: logger() });
    const what = file === '-' ? 'this content (standard input)' : file;
    if (r.alreadyIngested) process.stderr.write(`arbor: ${what} was already ingested into ${o.db}: nothing changed\n`);
    out(JSON.stringify(r));
  } finally {
    store.close();
  }
}

/** `arbor ingest-items FILE [--db FILE]`: items (ITEM or ITEM,CATEGORY a line) join the store, with or without events. */
export async function ingestItemsCommand(o: Resolved, [file]: string[]): Promise<void> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e, 'cannot read items file');
  }
  const rows = parseItemsFile(file, bytes);
  const store = Store.open(o.db as string);
  try {
    out(JSON.stringify(store.insertItems(rows, file)));
  } finally {
    store.close();
  }
}

/** `arbor split --test-users N --valid-users N --seed S` */
export async function splitCommand(o: Resolved): Promise<void> {
  await withStore(o, async (store) => {
    const r = store.split({ testUsers: o.testUsers as number, validUsers: o.validUsers as number, seed: o.seed as number });
    out(o.json ? JSON.stringify(r) : `split ${o.db}: ${r.trainUsers} train, ${r.validUsers} validation, ${r.testUsers} test users (seed ${r.seed})`);
  });
}

/** `arbor synth --out FILE [--items N --users N --category-noise P --seed S]` */
export async function synthCommand(o: Resolved): Promise<void> {
  const file = need(o, 'out', 'out');
  const events = writeSyntheticUserBehaviorCsv({ items: o.items as number, users: o.users as number, seed: o.seed as number, categoryNoise: o.categoryNoise as number }, file);
  out(`wrote ${file}: ${events} events, ${o.users} users, ${o.items} items (Taobao UserBehavior CSV; ingest with --format userbehavior)`);
}
