/**
 * The one insert path of a store: users, categories and items are created as
 * events mention them, with dense ids (next id = count + 1), and events are
 * inserted with INSERT OR IGNORE so the same interaction is never stored twice.
 * Must run inside a transaction the caller owns, and end with
 * {@link EventWriter.finish} before the commit.
 *
 * External ids are interned as bytes ({@link IdInterner}), so a parser can
 * hand over fields straight from its input buffer; rows are written by
 * multi-row statements ({@link BatchInsert}).
 */
import type Database from 'better-sqlite3';
import { ArborError } from '../core/errors.js';
import { BatchInsert } from './batch-insert.js';
import { IdInterner } from './interner.js';

/** Counts of rows one writer created. */
export interface WriteCounts {
  eventsInserted: number;
  usersInserted: number;
  itemsInserted: number;
  categoriesInserted: number;
}

/** Inserts events into a store, keeping ext -> id tables in memory. */
export class EventWriter {
  /** Rows created so far (events: once {@link finish} has run). */
  readonly counts: WriteCounts = { eventsInserted: 0, usersInserted: 0, itemsInserted: 0, categoriesInserted: 0 };
  /** Users in the store before this writer was made: their ids are 1..storedUsers. */
  readonly storedUsers: number;
  private readonly users: IdInterner;
  private readonly items: IdInterner;
  private readonly categories: IdInterner;
  /** Ids of items whose category is still NULL. */
  private readonly uncategorised: Set<number>;
  private readonly newUsers: BatchInsert;
  private readonly newItems: BatchInsert;
  private readonly newCategories: BatchInsert;
  private readonly newEvents: BatchInsert;
  private readonly fillItem: Database.Statement;

  /** Loads the store's current ids. */
  constructor(db: Database.Database) {
    this.users = loadIds(db, 'users');
    this.storedUsers = this.users.size;
    this.items = loadIds(db, 'items');
    this.categories = loadIds(db, 'categories');
    this.uncategorised = new Set(db.prepare('SELECT id FROM items WHERE category IS NULL').pluck().all() as number[]);
    this.newUsers = new BatchInsert(db, 'INSERT INTO users (id, ext)', 2);
    // an item's category must be in its table before the item (foreign key)
    this.newItems = new BatchInsert(db, 'INSERT INTO items (id, ext, category, title)', 4, () => this.newCategories.flush());
    this.newCategories = new BatchInsert(db, 'INSERT INTO categories (id, ext)', 2);
    this.newEvents = new BatchInsert(db, 'INSERT OR IGNORE INTO events (user, item, behavior, ts)', 4);
    this.fillItem = db.prepare('UPDATE items SET category = ?, title = COALESCE(title, ?) WHERE id = ?');
  }

  /**
   * Records one interaction. `category` and `title` describe the item: they
   * are stored when the item is new, or when it exists without a category.
   */
  add(user: string, item: string, behavior: string, ts: number, category: string | null, title: string | null): void {
    this.event(this.user(user), this.item(item, category, title), behavior, ts);
  }

  /** The id of the user `user`, created when new. */
  user(user: string): number {
    const before = this.users.size;
    const id = this.users.internString(user);
    if (id > before) this.createUser(id, user);
    return id;
  }

  /** The external id of user `id`. */
  userText(id: number): string {
    return this.users.text(id);
  }

  /** The id of the user whose id is the UTF-8 bytes `buf[start, end)`, created when new. */
  userBytes(buf: Buffer, start: number, end: number): number {
    const before = this.users.size;
    const id = this.users.intern(buf, start, end);
    if (id > before) this.createUser(id, buf.toString('utf8', start, end));
    return id;
  }

  /** The id of item `item`, created when new; `category` and `title` as for {@link add}. */
  item(item: string, category: string | null, title: string | null): number {
    const before = this.items.size;
    const id = this.items.internString(item);
    if (id > before) this.createItem(id, item, category === null ? null : this.category(category), title);
    else if (category !== null && this.uncategorised.has(id)) this.fill(id, this.category(category), title);
    return id;
  }

  /**
   * The id of the item whose id is `buf[start, end)`, created when new; its
   * category is `buf[catStart, catEnd)` (none when catStart < 0), stored as
   * for {@link add}.
   */
  itemBytes(buf: Buffer, start: number, end: number, catStart: number, catEnd: number): number {
    const before = this.items.size;
    const id = this.items.intern(buf, start, end);
    if (id > before) this.createItem(id, buf.toString('utf8', start, end), catStart < 0 ? null : this.categoryBytes(buf, catStart, catEnd), null);
    else if (catStart >= 0 && this.uncategorised.has(id)) this.fill(id, this.categoryBytes(buf, catStart, catEnd), null);
    return id;
  }

  /** Records one interaction of users and items already resolved to ids. */
  event(user: number, item: number, behavior: string, ts: number): void {
    this.counts.eventsInserted += this.newEvents.add(user, item, behavior, ts);
  }

  /** Writes every row still buffered; call it before the transaction commits. Returns the counts. */
  finish(): WriteCounts {
    this.newCategories.flush();
    this.newItems.flush();
    this.newUsers.flush();
    this.counts.eventsInserted += this.newEvents.flush();
    return this.counts;
  }

  private createUser(id: number, ext: string): void {
    this.newUsers.add(id, ext);
    this.counts.usersInserted++;
  }

  private createItem(id: number, ext: string, category: number | null, title: string | null): void {
    if (category === null) this.uncategorised.add(id);
    this.newItems.add(id, ext, category, title);
    this.counts.itemsInserted++;
  }

  /** Gives item `id` (stored without a category) its category (a rare path: flushes what is buffered first). */
  private fill(id: number, category: number, title: string | null): void {
    this.newCategories.flush();
    this.newItems.flush();
    this.fillItem.run(category, title, id);
    this.uncategorised.delete(id);
  }

  private category(category: string): number {
    const before = this.categories.size;
    const id = this.categories.internString(category);
    if (id > before) this.createCategory(id, category);
    return id;
  }

  private categoryBytes(buf: Buffer, start: number, end: number): number {
    const before = this.categories.size;
    const id = this.categories.intern(buf, start, end);
    if (id > before) this.createCategory(id, buf.toString('utf8', start, end));
    return id;
  }

  private createCategory(id: number, ext: string): void {
    this.newCategories.add(id, ext);
    this.counts.categoriesInserted++;
  }
}

/** The ids of a table, interned in id order; the ids must be 1..count (the store's invariant). */
function loadIds(db: Database.Database, table: 'users' | 'items' | 'categories'): IdInterner {
  const count = db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const ids = new IdInterner(table, Math.max(1024, count));
  for (const [id, ext] of db.prepare(`SELECT id, ext FROM ${table} ORDER BY id`).raw().iterate() as Iterable<[number, string]>) {
    if (ids.internString(ext) !== id) throw new ArborError(`store table ${table} does not hold dense ids 1..${count} (id ${id}, ${JSON.stringify(ext)})`);
  }
  return ids;
}
