/**
 * The commands that only read and write data (ingest, split, synth). They
 * import the data layer alone, so they start in a fraction of the time of
 * the commands that load tfjs (commands.ts).
 */
import { Store, writeSyntheticUserBehaviorCsv } from '../src/data/index.js';
import { INPUT_FORMATS } from '../src/data/types.js';
import { logger, out, withStore } from './common.js';
import type { Options } from './program.js';
import { ingestItems } from '../src/api/stages.js';

/** `arbor ingest FILE --format F [--items FILE] [--db FILE] [--min-rating R]`; FILE `-` is standard input. */
export async function ingestCommand(o: Options, [file]: string[]): Promise<void> {
  const format = o.choice('format', INPUT_FORMATS);
  const store = Store.open(o.str('db'));
  try {
    const r = await store.ingest(file, format, { items: o.optStr('items'), minRating: o.optNum('minRating'), logger: logger() });
    const what = file === '-' ? 'this content (standard input)' : file;
    if (r.alreadyIngested) process.stderr.write(`arbor: ${what} was already ingested into ${o.str('db')}: nothing changed\n`);
    out(JSON.stringify(r));
  } finally {
    store.close();
  }
}

/** `arbor ingest-items FILE [--db FILE]`: items (ITEM or ITEM,CATEGORY a line) join the store, with or without events. */
export async function ingestItemsCommand(o: Options, [file]: string[]): Promise<void> {
  out(JSON.stringify(await ingestItems(file, { db: o.str('db') })));
}

/** `arbor split --test-users N --valid-users N --seed S` */
export async function splitCommand(o: Options): Promise<void> {
  await withStore(o, async (store) => {
    const r = store.split({ testUsers: o.num('testUsers'), validUsers: o.num('validUsers'), seed: o.num('seed') });
    out(o.bool('json') ? JSON.stringify(r) : `split ${o.str('db')}: ${r.trainUsers} train, ${r.validUsers} validation, ${r.testUsers} test users (seed ${r.seed})`);
  });
}

/** `arbor synth --out FILE [--items N --users N --category-noise P --seed S]` */
export async function synthCommand(o: Options): Promise<void> {
  const file = o.str('out');
  const events = writeSyntheticUserBehaviorCsv({ items: o.num('items'), users: o.num('users'), seed: o.num('seed'), categoryNoise: o.num('categoryNoise') }, file);
  out(`wrote ${file}: ${events} events, ${o.num('users')} users, ${o.num('items')} items (Taobao UserBehavior CSV; ingest with --format userbehavior)`);
}
