/**
 * A store: one SQLite file holding the interactions of one data set, their
 * users, items and categories, and the train/valid/test split.
 *
 * Users, items and categories get dense 0-based indices (SQLite id - 1) that
 * never change, since rows are never deleted. A Store is not safe for
 * concurrent use: one ingest at a time, nothing else while it runs.
 */
import { existsSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { ArborError, UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { ingestFile, type IngestOptions } from './ingest.js';
import { openDatabase, upgradeSchema } from './schema.js';
import { storeError } from './store-errors.js';
import { chooseHeldOut, halfSplit } from './split.js';
import { categoryByItem, type SyntheticDataset } from './synthetic.js';
import type {
  Catalogue, DatasetInsertReport, EvalCase, IngestReport, InputFormat, SplitReport, StoreStats, UserRole, UserSequence,
} from './types.js';
import { EventWriter } from './writer.js';
import type { ItemRow } from './items-file.js';

/** What {@link Store.insertItems} did. */
export interface ItemsInsertReport {
  file: string;
  /** Rows given. */
  rows: number;
  itemsInserted: number;
  categoriesInserted: number;
  /** Items in the store before. */
  itemsBefore: number;
}

const ROLES: readonly UserRole[] = ['train', 'valid', 'test'];

/** Options of {@link Store.split}. */
export interface SplitOptions {
  testUsers: number;
  validUsers: number;
  seed: number;
  /** Only users with at least this many events can be held out (default 2). */
  minEvents?: number;
}

/** An open store file. */
export class Store {
  /** Path of the SQLite file. */
  readonly path: string;
  private readonly db: Database.Database;
  /** True while the file was created by this open and nothing has been saved in it. */
  private unsaved: boolean;
  private busy = false;

  private constructor(path: string, db: Database.Database, created: boolean) {
    this.path = path;
    this.db = db;
    this.unsaved = created;
  }

  /**
   * Opens the store at `path`, creating it unless `mustExist` (then a
   * missing file is an ArborError "store not found: PATH"). A store file
   * this call created is removed again when it cannot be set up (disk full,
   * read-only folder). `busyTimeoutMs`: how long to wait for another
   * process's lock (default 2000).
   */
  static open(path: string, opts: { mustExist?: boolean; busyTimeoutMs?: number } = {}): Store {
    const existed = existsSync(path);
    if (!existed && opts.mustExist) throw new ArborError(`store not found: ${path}: run arbor ingest first, or check --db`);
    try {
      return new Store(path, openDatabase(path, opts.busyTimeoutMs), !existed);
    } catch (err) {
      if (!existed) removeStoreFiles(path);
      throw err;
    }
  }

  /** Closes the file; any later call throws. */
  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Ingests an input file in one transaction (see {@link ingestFile}). Items
   * are created as events mention them; items that appear only in the items
   * file are not inserted. On any error the store is left exactly as it was,
   * and a store file created by this open is closed and deleted; the error is
   * rethrown.
   */
  async ingest(file: string, format: InputFormat, opts: IngestOptions = {}): Promise<IngestReport> {
    this.claim();
    try {
      const report = await ingestFile(this.db, file, format, opts);
      if (!report.alreadyIngested) this.unsaved = false;
      return report;
    } catch (err) {
      this.discardIfUnsaved();
      throw storeError(this.path, err);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Inserts a generated data set in one transaction, through the same path as
   * {@link ingest}: items with their category (super-categories are not
   * stored), and only items some event mentions. `label` is reported as the
   * report's `file`. On error, as for {@link ingest}.
   */
  insertDataset(ds: SyntheticDataset, label: string): DatasetInsertReport {
    this.claim();
    try {
      const categories = categoryByItem(ds);
      const counts = this.db.transaction(() => {
        upgradeSchema(this.db);
        const writer = new EventWriter(this.db);
        for (const e of ds.events) writer.add(e.user, e.item, e.behavior, e.ts, categories.get(e.item) ?? null, null);
        return writer.finish();
      })();
      this.unsaved = false;
      return { file: label, rowsRead: ds.events.length, rowsKept: ds.events.length, ...counts };
    } catch (err) {
      this.discardIfUnsaved();
      throw storeError(this.path, err);
    } finally {
      this.busy = false;
    }
  }

  /**
   * Adds items that need not have events (the catalogue side of cold
   * start), in one transaction: an item new to the store is created with
   * its category; an item already stored without a category gets this one;
   * an item stored with a category keeps it (counted in `kept`). `label`
   * names the source in the report. On error, as for {@link ingest}.
   */
  insertItems(rows: readonly ItemRow[], label: string): ItemsInsertReport {
    this.claim();
    try {
      const before = this.db.prepare('SELECT count(*) FROM items').pluck().get() as number;
      const counts = this.db.transaction(() => {
        upgradeSchema(this.db);
        const writer = new EventWriter(this.db);
        for (const r of rows) writer.item(r.item, r.category, null);
        return writer.finish();
      })();
      this.unsaved = false;
      return { file: label, rows: rows.length, itemsInserted: counts.itemsInserted, categoriesInserted: counts.categoriesInserted, itemsBefore: before };
    } catch (err) {
      this.discardIfUnsaved();
      throw storeError(this.path, err);
    } finally {
      this.busy = false;
    }
  }

  /** Every item with its category, and every category, by index. */
  catalogue(): Catalogue {
    return this.run(() => {
      const db = this.open();
      const rows = db.prepare('SELECT ext, category FROM items ORDER BY id').raw().all() as [string, number | null][];
      const itemCategory = new Int32Array(rows.length);
      rows.forEach(([, category], i) => (itemCategory[i] = category === null ? -1 : category - 1));
      return {
        itemIds: rows.map(([ext]) => ext),
        itemCategory,
        categoryIds: db.prepare('SELECT ext FROM categories ORDER BY id').pluck().all() as string[],
      };
    });
  }

  /**
   * Each user's items ordered by time, ties in ingest order; only users with
   * a role in `roles` (default all), without users that have no events,
   * ordered by user index. With `behaviorWeights` (behaviour type → weight),
   * each sequence also carries every event's weight (types not listed: 1).
   */
  sequences(roles: readonly UserRole[] = ROLES, opts: { behaviorWeights?: ReadonlyMap<string, number> } = {}): UserSequence[] {
    return this.run(() => {
      const db = this.open();
      for (const role of roles) checkRole(role, ROLES);
      if (roles.length === 0) return [];
      const bw = opts.behaviorWeights;
      const users = db.prepare('SELECT ext, role FROM users ORDER BY id').raw().all() as [string, UserRole][];
      const rows = db
        .prepare(
          `SELECT e.user, e.item${bw ? ', e.behavior' : ''} FROM events e JOIN users u ON u.id = e.user
           WHERE u.role IN (${roles.map(() => '?').join(', ')}) ORDER BY e.user, e.ts, e.rowid`,
        )
        .raw()
        .iterate(...roles) as Iterable<[number, number, string?]>;
      const out: UserSequence[] = [];
      let current = -1;
      let items: number[] = [];
      let weights: number[] = [];
      const flush = () => {
        if (current > 0) {
          out.push({ user: users[current - 1][0], role: users[current - 1][1], items: Int32Array.from(items), ...(bw ? { weights: Float32Array.from(weights) } : {}) });
        }
      };
      for (const [user, item, behavior] of rows) {
        if (user !== current) {
          flush();
          current = user;
          items = [];
          weights = [];
        }
        items.push(item - 1);
        if (bw) weights.push(bw.get(behavior!) ?? 1);
      }
      flush();
      return out;
    });
  }

  /** Number of events of each behaviour type among the users of `roles` (default all), most frequent first. */
  behaviorCounts(roles: readonly UserRole[] = ROLES): Map<string, number> {
    return this.run(() => {
      const db = this.open();
      for (const role of roles) checkRole(role, ROLES);
      if (roles.length === 0) return new Map();
      const rows = db
        .prepare(
          `SELECT e.behavior, count(*) AS n FROM events e JOIN users u ON u.id = e.user
           WHERE u.role IN (${roles.map(() => '?').join(', ')}) GROUP BY e.behavior ORDER BY n DESC, e.behavior`,
        )
        .raw()
        .all(...roles) as [string, number][];
      return new Map(rows);
    });
  }

  /**
   * Resets every user to train, then holds out `testUsers` test and
   * `validUsers` validation users drawn uniformly with the seeded Rng among
   * users with at least `minEvents` events. Deterministic for a seed and a
   * store content. UsageError when too few users are eligible.
   */
  split(opts: SplitOptions): SplitReport {
    return this.run(() => {
      const db = this.open();
      const { testUsers, validUsers, seed, minEvents = 2 } = opts;
      assertNonNegativeInteger('testUsers', testUsers);
      assertNonNegativeInteger('validUsers', validUsers);
      assertPositiveInteger('minEvents', minEvents);
      if (!Number.isInteger(seed)) throw new UsageError(`seed must be an integer, got ${JSON.stringify(seed)}`);
      const candidates = db
        .prepare('SELECT user FROM events GROUP BY user HAVING count(*) >= ? ORDER BY user')
        .pluck()
        .all(minEvents) as number[];
      if (testUsers + validUsers > candidates.length) {
        throw new UsageError(
          `cannot hold out ${testUsers} test + ${validUsers} validation users: ` +
            `only ${candidates.length} users have at least ${minEvents} events`,
        );
      }
      const heldOut = chooseHeldOut(candidates, testUsers, validUsers, seed);
      db.transaction(() => {
        db.prepare(`UPDATE users SET role = 'train'`).run();
        const setRole = db.prepare('UPDATE users SET role = ? WHERE id = ?');
        for (const id of heldOut.test) setRole.run('test', id);
        for (const id of heldOut.valid) setRole.run('valid', id);
        db.prepare(`INSERT OR REPLACE INTO meta (key, value) VALUES ('split', ?)`).run(
          JSON.stringify({ testUsers, validUsers, seed, minEvents }),
        );
      })();
      this.unsaved = false;
      const users = db.prepare('SELECT count(*) FROM users').pluck().get() as number;
      return { testUsers, validUsers, trainUsers: users - testUsers - validUsers, seed };
    });
  }

  /** True once {@link split} has been run on this store. */
  hasSplit(): boolean {
    return this.run(() => {
      return this.open().prepare(`SELECT 1 FROM meta WHERE key = 'split'`).get() !== undefined;
    });
  }

  /**
   * The held-out users of `role` under the papers' protocol: the first half
   * of each one's time-sorted items is the history, the distinct items of
   * the second half the truth.
   */
  evalCases(role: 'test' | 'valid'): EvalCase[] {
    checkRole(role, ['test', 'valid']);
    return this.sequences([role]).map(({ user, items }) => ({ user, ...halfSplit(items) }));
  }

  /** All items of the user with external id `extUser`, in time order; undefined for an unknown user. */
  userHistory(extUser: string): Int32Array | undefined {
    return this.run(() => {
      const db = this.open();
      const id = db.prepare('SELECT id FROM users WHERE ext = ?').pluck().get(extUser) as number | undefined;
      if (id === undefined) return undefined;
      const items = db.prepare('SELECT item FROM events WHERE user = ? ORDER BY ts, rowid').pluck().all(id) as number[];
      return Int32Array.from(items, (item) => item - 1);
    });
  }

  /** Row counts, and users by role. */
  stats(): StoreStats {
    return this.run(() => {
      const db = this.open();
      const count = (table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
      const roles: Record<UserRole, number> = { train: 0, valid: 0, test: 0 };
      for (const [role, n] of db.prepare('SELECT role, count(*) FROM users GROUP BY role').raw().all() as [UserRole, number][]) {
        roles[role] = n;
      }
      return { users: count('users'), items: count('items'), categories: count('categories'), events: count('events'), roles };
    });
  }

  /** Runs a read or write, turning SQLite failures into StoreErrors naming the file. */
  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw storeError(this.path, err);
    }
  }

  /** The connection, or an ArborError once closed. */
  private open(): Database.Database {
    if (!this.db.open) throw new ArborError(`store ${this.path} is closed`);
    if (this.busy) throw new ArborError(`store ${this.path} is busy with an ingest`);
    return this.db;
  }

  private claim(): void {
    this.open();
    this.busy = true;
  }

  /** After a failed write: deletes a store file this open created and never saved to. */
  private discardIfUnsaved(): void {
    if (!this.unsaved) return;
    this.close();
    removeStoreFiles(this.path);
  }
}

/** Removes a store file and its journal (best effort: a read-only folder keeps them). */
function removeStoreFiles(path: string): void {
  for (const f of [path, `${path}-journal`]) {
    try {
      rmSync(f, { force: true });
    } catch {
      // nothing more can be done; the error that led here is reported
    }
  }
}

function checkRole(role: string, allowed: readonly string[]): void {
  if (!allowed.includes(role)) throw new UsageError(`role must be one of ${allowed.join(', ')}, got ${JSON.stringify(role)}`);
}
