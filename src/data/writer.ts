/**
 * The one insert path of a store: users, categories and items are created as
 * events mention them, with dense ids (next id = count + 1), and events are
 * inserted with INSERT OR IGNORE so the same interaction is never stored twice.
 * Must run inside a transaction the caller owns.
 */
import type Database from 'better-sqlite3';

/** Counts of rows one writer created. */
export interface WriteCounts {
  eventsInserted: number;
  usersInserted: number;
  itemsInserted: number;
  categoriesInserted: number;
}

/** Inserts events into a store, keeping ext -> id maps in memory. */
export class EventWriter {
  /** Rows created so far. */
  readonly counts: WriteCounts = { eventsInserted: 0, usersInserted: 0, itemsInserted: 0, categoriesInserted: 0 };
  private readonly users: Map<string, number>;
  private readonly items: Map<string, number>;
  private readonly categories: Map<string, number>;
  /** Ids of items whose category is still NULL. */
  private readonly uncategorised: Set<number>;
  private readonly insertUser: Database.Statement;
  private readonly insertItem: Database.Statement;
  private readonly insertCategory: Database.Statement;
  private readonly fillItem: Database.Statement;
  private readonly insertEvent: Database.Statement;

  /** Users in the store before this writer was made (their ids are 1..storedUsers). */
  private readonly storedUsers: number;

  /** Loads the store's current ids. */
  constructor(db: Database.Database) {
    this.users = loadIds(db, 'users');
    this.storedUsers = this.users.size;
    this.items = loadIds(db, 'items');
    this.categories = loadIds(db, 'categories');
    this.uncategorised = new Set(db.prepare('SELECT id FROM items WHERE category IS NULL').pluck().all() as number[]);
    this.insertUser = db.prepare('INSERT INTO users (id, ext) VALUES (?, ?)');
    this.insertItem = db.prepare('INSERT INTO items (id, ext, category, title) VALUES (?, ?, ?, ?)');
    this.insertCategory = db.prepare('INSERT INTO categories (id, ext) VALUES (?, ?)');
    this.fillItem = db.prepare('UPDATE items SET category = ?, title = COALESCE(title, ?) WHERE id = ?');
    this.insertEvent = db.prepare('INSERT OR IGNORE INTO events (user, item, behavior, ts) VALUES (?, ?, ?, ?)');
  }

  /** The id of `user` when it was in the store before this writer was made, else undefined. */
  storedUser(user: string): number | undefined {
    const id = this.users.get(user);
    return id !== undefined && id <= this.storedUsers ? id : undefined;
  }

  /**
   * Records one interaction. `category` and `title` describe the item: they
   * are stored when the item is new, or when it exists without a category.
   */
  add(user: string, item: string, behavior: string, ts: number, category: string | null, title: string | null): void {
    let userId = this.users.get(user);
    if (userId === undefined) {
      userId = this.users.size + 1;
      this.insertUser.run(userId, user);
      this.users.set(user, userId);
      this.counts.usersInserted++;
    }
    let itemId = this.items.get(item);
    if (itemId === undefined) {
      itemId = this.items.size + 1;
      this.insertItem.run(itemId, item, category === null ? null : this.categoryId(category), title);
      this.items.set(item, itemId);
      if (category === null) this.uncategorised.add(itemId);
      this.counts.itemsInserted++;
    } else if (category !== null && this.uncategorised.has(itemId)) {
      this.fillItem.run(this.categoryId(category), title, itemId);
      this.uncategorised.delete(itemId);
    }
    this.counts.eventsInserted += this.insertEvent.run(userId, itemId, behavior, ts).changes;
  }

  private categoryId(category: string): number {
    let id = this.categories.get(category);
    if (id === undefined) {
      id = this.categories.size + 1;
      this.insertCategory.run(id, category);
      this.categories.set(category, id);
      this.counts.categoriesInserted++;
    }
    return id;
  }
}

function loadIds(db: Database.Database, table: 'users' | 'items' | 'categories'): Map<string, number> {
  const ids = new Map<string, number>();
  for (const [id, ext] of db.prepare(`SELECT id, ext FROM ${table}`).raw().iterate() as Iterable<[number, string]>) {
    ids.set(ext, id);
  }
  return ids;
}
