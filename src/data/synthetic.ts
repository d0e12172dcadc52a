/**
 * Synthetic interaction data with a planted hierarchy, for tests, demos and
 * benchmarks: items belong to categories, categories to super-categories,
 * and users browse a few related categories, favouring popular items.
 */
import { closeSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ArborError, UsageError, assertPositiveInteger } from '../core/errors.js';
import { fileError } from '../core/fs-errors.js';
import { Rng } from '../core/rng.js';
import { cumulative, sampleCumulative, zipfCumulative } from './sampling.js';

/** Options of {@link generateSynthetic}; omitted ones get defaults scaled to the item count. */
export interface SyntheticOptions {
  items: number;
  users: number;
  seed: number;
  /** Default: about (items / 25) / categoriesPerSuper, so categories hold about 25 items. */
  superCategories?: number;
  /** Default: 5 (fewer for under 125 items), or about (items / 25) / superCategories when that is given. */
  categoriesPerSuper?: number;
  /** Shortest user sequence (default 20). */
  minEvents?: number;
  /** Longest user sequence (default 80). */
  maxEvents?: number;
  /** Zipf exponent of item popularity within a category (default 1.0). */
  zipf?: number;
  /** Probability that an event is a globally popular item instead (default 0.05). */
  noise?: number;
  /**
   * Probability that an item's category label is replaced by a uniformly
   * random category (default 0). Behaviour still follows the planted
   * categories, and the events do not depend on this value: the labels are
   * drawn from a stream of their own, so data sets that differ only in it
   * are paired (same users, same events).
   */
  categoryNoise?: number;
}

/** The options actually used. */
export type SyntheticConfig = Required<SyntheticOptions>;

/** A generated data set. Ids look like `i17`, `c3`, `s1`, `u42` (0-based). */
export interface SyntheticDataset {
  /** Every item, index k having id `i<k>`. */
  items: { id: string; category: string; superCategory: string; plantedCategory: string }[];
  /** Events grouped by user, timestamps increasing within each user. */
  events: { user: string; item: string; behavior: string; ts: number }[];
  config: SyntheticConfig;
}

const ITEMS_PER_CATEGORY = 25;
const CATEGORIES_PER_SUPER = 5;
const MAX_INTERESTS = 4;
/** Chance that a further interest comes from the first one's super-category. */
const SAME_SUPER = 0.7;
/** Chance that the next event stays with the current interest. */
const STAY = 0.8;
/** Spread of category sizes (sigma of a log-normal weight). */
const SIZE_SPREAD = 0.8;
const START_TS = 1_500_000_000;

/**
 * Generates a data set, deterministically for `opts.seed`. Every category
 * holds at least one item; a user has 1-4 interest categories (further ones
 * usually from the first one's super-category), a sequence of uniform length
 * in [minEvents, maxEvents] that stays with its current interest with
 * probability 0.8, and draws items by Zipf popularity within the category
 * (or, with probability `noise`, by global popularity). Behavior is "pv".
 */
export function generateSynthetic(opts: SyntheticOptions): SyntheticDataset {
  const plan = planSynthetic(opts);
  const { config, categoryOf, labelOf } = plan;
  const itemIds = Array.from({ length: config.items }, (_, k) => `i${k}`);
  const categoryIds = Array.from({ length: plan.categories }, (_, c) => `c${c}`);
  const superIds = Array.from({ length: config.superCategories }, (_, s) => `s${s}`);
  const items = itemIds.map((id, k) => ({
    id,
    category: categoryIds[labelOf[k]],
    superCategory: superIds[Math.floor(labelOf[k] / config.categoriesPerSuper)],
    plantedCategory: categoryIds[categoryOf[k]],
  }));
  const events: SyntheticDataset['events'] = [];
  for (let u = 0; u < config.users; u++) {
    const user = `u${u}`;
    userEvents(plan, (item, ts) => events.push({ user, item: itemIds[item], behavior: 'pv', ts }));
  }
  return { items, events, config };
}

/** The catalogue of a generated data set and the seeded generator that draws its users, in generation order. */
interface SyntheticPlan {
  config: SyntheticConfig;
  rng: Rng;
  categories: number;
  /** Planted category index of each item (what behaviour follows). */
  categoryOf: Int32Array;
  /** Category label of each item: the planted one, or under `categoryNoise` possibly a random one. */
  labelOf: Int32Array;
  categoryCum: Float64Array;
  /** Items packed by category, each category's in popularity order: category c is byCategory[start[c], start[c + 1]). */
  byCategory: Int32Array;
  start: Int32Array;
  zipfCum: Float64Array;
  globalOrder: Int32Array;
  globalCum: Float64Array;
}

/** Draws the catalogue (items over categories, popularity orders) for `opts`. */
function planSynthetic(opts: SyntheticOptions): SyntheticPlan {
  const config = resolveConfig(opts);
  const { items: nItems, superCategories, categoriesPerSuper, zipf } = config;
  const nCategories = superCategories * categoriesPerSuper;
  const rng = new Rng(config.seed);

  // Items over categories: one each first (so none is empty), the rest by log-normal weights.
  const categoryWeights = new Float64Array(nCategories);
  for (let c = 0; c < nCategories; c++) categoryWeights[c] = Math.exp(SIZE_SPREAD * rng.normal());
  const categoryCum = cumulative(categoryWeights);
  const order = rng.shuffle(range(nItems));
  const categoryOf = new Int32Array(nItems);
  for (let k = 0; k < nItems; k++) categoryOf[order[k]] = k < nCategories ? k : sampleCumulative(categoryCum, nCategories, rng);

  // Each category's items in popularity order (the random `order`), packed by category.
  const start = new Int32Array(nCategories + 1);
  for (let i = 0; i < nItems; i++) start[categoryOf[i] + 1]++;
  for (let c = 0; c < nCategories; c++) start[c + 1] += start[c];
  const byCategory = new Int32Array(nItems);
  const fill = start.slice(0, nCategories);
  for (let k = 0; k < nItems; k++) byCategory[fill[categoryOf[order[k]]]++] = order[k];
  let largest = 0;
  for (let c = 0; c < nCategories; c++) largest = Math.max(largest, start[c + 1] - start[c]);
  const zipfCum = zipfCumulative(largest, zipf);
  const globalOrder = rng.shuffle(range(nItems));
  const globalCum = zipfCumulative(nItems, zipf);
  const labelOf = noisyLabels(categoryOf, nCategories, config.categoryNoise, config.seed);
  return { config, rng, categories: nCategories, categoryOf, labelOf, categoryCum, byCategory, start, zipfCum, globalOrder, globalCum };
}

/** Draws the next user's sequence from `plan`'s generator, handing each event (item index, timestamp) to `emit` in time order. */
function userEvents(plan: SyntheticPlan, emit: (item: number, ts: number) => void): void {
  const { rng, config, categories: nCategories, categoryCum, byCategory, start, zipfCum, globalOrder, globalCum } = plan;
  const { categoriesPerSuper, minEvents, maxEvents, noise, items: nItems } = config;
  const interests = [sampleCumulative(categoryCum, nCategories, rng)];
  const firstSuper = Math.floor(interests[0] / categoriesPerSuper);
  // Draws 0-3 further interests; a repeated category is dropped.
  for (let draws = rng.int(MAX_INTERESTS); draws > 0; draws--) {
    const c = rng.next() < SAME_SUPER
      ? firstSuper * categoriesPerSuper + rng.int(categoriesPerSuper)
      : sampleCumulative(categoryCum, nCategories, rng);
    if (!interests.includes(c)) interests.push(c);
  }
  const length = minEvents + rng.int(maxEvents - minEvents + 1);
  let current = interests[0];
  let ts = START_TS + rng.int(7 * 86400);
  for (let t = 0; t < length; t++) {
    if (t > 0 && rng.next() >= STAY) current = interests[rng.int(interests.length)];
    let item: number;
    if (rng.next() < noise) item = globalOrder[sampleCumulative(globalCum, nItems, rng)];
    else item = byCategory[start[current] + sampleCumulative(zipfCum, start[current + 1] - start[current], rng)];
    ts += 1 + rng.int(3600);
    emit(item, ts);
  }
}

/**
 * Writes the data set that {@link generateSynthetic} makes for `opts` as a
 * Taobao UserBehavior CSV, byte for byte what {@link writeUserBehaviorCsv}
 * writes of it, but user by user: memory holds the catalogue, not the
 * events, so it makes files of any length (100M events and more). Written
 * as {@link writeUserBehaviorCsv} writes (a temporary sibling renamed into
 * place). Returns the number of events written.
 */
export function writeSyntheticUserBehaviorCsv(opts: SyntheticOptions, path: string): number {
  const plan = planSynthetic(opts);
  const { labelOf } = plan;
  let events = 0;
  writeLines(path, (write) => {
    for (let u = 0; u < plan.config.users; u++) {
      const user = `u${u}`;
      userEvents(plan, (item, ts) => {
        write(`${user},i${item},c${labelOf[item]},pv,${ts}`);
        events++;
      });
    }
  });
  return events;
}

/**
 * Writes `ds` as a Taobao UserBehavior CSV (`user,item,category,pv,ts`, no
 * header), every event as a `pv`, so the ingest path can read it back.
 * A file is written to a temporary sibling and renamed into place, so a
 * failure (disk full, read-only folder) leaves no partial file; a link to a
 * file is followed, and a device or pipe (/dev/stdout, a FIFO) is written
 * directly. Failures are FileErrors naming `path`.
 */
export function writeUserBehaviorCsv(ds: SyntheticDataset, path: string): void {
  const categories = categoryByItem(ds);
  writeLines(path, (write) => {
    for (const e of ds.events) {
      const category = categories.get(e.item);
      if (category === undefined) throw new ArborError(`event item ${e.item} is not among the data set's items`);
      write(`${e.user},${e.item},${category},pv,${e.ts}`);
    }
  });
}

/**
 * Writes the lines that `produce` hands to `write` (each ended by `\n`) to
 * `path` through a temporary sibling renamed into place, so a failure
 * (disk full, read-only folder) leaves no partial file; a link to a file is
 * followed, and a device or pipe (/dev/stdout, a FIFO) is written directly.
 * Failures are FileErrors naming `path`; an ArborError from `produce` is
 * rethrown as it is.
 */
function writeLines(path: string, produce: (write: (line: string) => void) => void): void {
  let target = path;
  let direct = false;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    // a device or a pipe (/dev/stdout, a FIFO) is written as it is; a link to a file is followed, not replaced
    direct = !st.isFile();
    target = realpathSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fileError('write', path, e);
  }
  const tmp = direct ? target : join(dirname(target), `.${basename(target)}.tmp-${process.pid}`);
  let fd: number;
  try {
    fd = openSync(tmp, 'w');
  } catch (e) {
    throw fileError('create', path, e);
  }
  let done = false;
  try {
    let lines: string[] = [];
    const flush = () => {
      if (lines.length > 0) writeAll(fd, Buffer.from(lines.join('\n') + '\n'));
      lines = [];
    };
    produce((line) => {
      lines.push(line);
      if (lines.length === 65536) flush();
    });
    flush();
    closeSync(fd);
    if (!direct) renameSync(tmp, target);
    done = true;
  } catch (e) {
    if (e instanceof ArborError) throw e;
    throw fileError('write', path, e);
  } finally {
    if (!done) {
      try {
        closeSync(fd);
      } catch {
        // already closed
      }
      if (!direct) rmSync(tmp, { force: true });
    }
  }
}

/** Salt of the label-noise stream, so the labels never share draws with the events. */
const LABEL_STREAM = 0x5eed1abe;

/** Each item's category label: the planted one, or with probability `p` a uniformly random one (its own seeded stream). */
function noisyLabels(categoryOf: Int32Array, nCategories: number, p: number, seed: number): Int32Array {
  const labels = categoryOf.slice();
  if (p === 0) return labels;
  const rng = new Rng((seed ^ LABEL_STREAM) >>> 0);
  for (let k = 0; k < labels.length; k++) {
    // both draws are made for every item, so the labels at two noise levels differ only where they must
    const flip = rng.next();
    const random = rng.int(nCategories);
    if (flip < p) labels[k] = random;
  }
  return labels;
}

/** Writes all of `data` (writeSync may write less on a full disk; the next call then fails with ENOSPC). */
function writeAll(fd: number, data: Buffer): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}

/** The category of each item of `ds`, by item id. */
export function categoryByItem(ds: SyntheticDataset): Map<string, string> {
  return new Map(ds.items.map((item) => [item.id, item.category]));
}

function resolveConfig(opts: SyntheticOptions): SyntheticConfig {
  assertPositiveInteger('items', opts.items);
  assertPositiveInteger('users', opts.users);
  if (!Number.isInteger(opts.seed)) throw new UsageError(`seed must be an integer, got ${JSON.stringify(opts.seed)}`);
  const wanted = Math.max(1, Math.round(opts.items / ITEMS_PER_CATEGORY));
  const categoriesPerSuper =
    opts.categoriesPerSuper ??
    (opts.superCategories === undefined ? Math.min(CATEGORIES_PER_SUPER, wanted) : Math.max(1, Math.round(wanted / opts.superCategories)));
  assertPositiveInteger('categoriesPerSuper', categoriesPerSuper);
  const superCategories = opts.superCategories ?? Math.max(1, Math.round(wanted / categoriesPerSuper));
  assertPositiveInteger('superCategories', superCategories);
  if (superCategories * categoriesPerSuper > opts.items) {
    throw new UsageError(
      `${superCategories} super-categories x ${categoriesPerSuper} categories need at least as many items, got ${opts.items}`,
    );
  }
  const minEvents = opts.minEvents ?? Math.min(20, opts.maxEvents ?? 20);
  const maxEvents = opts.maxEvents ?? Math.max(80, minEvents);
  assertPositiveInteger('minEvents', minEvents);
  assertPositiveInteger('maxEvents', maxEvents);
  if (maxEvents < minEvents) throw new UsageError(`maxEvents (${maxEvents}) must be >= minEvents (${minEvents})`);
  const zipf = opts.zipf ?? 1.0;
  if (!(zipf >= 0 && Number.isFinite(zipf))) throw new UsageError(`zipf must be a non-negative number, got ${zipf}`);
  const noise = opts.noise ?? 0.05;
  if (!(noise >= 0 && noise <= 1)) throw new UsageError(`noise must be in [0, 1], got ${noise}`);
  const categoryNoise = opts.categoryNoise ?? 0;
  if (!(categoryNoise >= 0 && categoryNoise <= 1)) throw new UsageError(`category noise must be in [0, 1], got ${categoryNoise}`);
  return { items: opts.items, users: opts.users, seed: opts.seed, superCategories, categoriesPerSuper, minEvents, maxEvents, zipf, noise, categoryNoise };
}

function range(n: number): Int32Array {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
}
