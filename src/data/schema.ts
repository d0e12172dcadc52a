/**
 * The SQLite schema of a store, and opening a database file with it.
 */
import Database from 'better-sqlite3';
import { ArborError, StoreError } from '../core/errors.js';
import { storeError } from './store-errors.js';

/**
 * Version written to `meta.schema_version`; bumped on incompatible changes.
 * Version 2 keeps events unique through one index on (user, ts, item,
 * behavior), which also orders each user's events by time; version 1 had a
 * UNIQUE(user, item, behavior, ts) constraint plus an index on (user, ts),
 * two indexes to update per inserted row. Version 1 stores are read as they
 * are and upgraded by their next ingest ({@link upgradeSchema}).
 */
export const SCHEMA_VERSION = 2;

/** Versions this code reads. */
const READABLE_VERSIONS = ['1', String(SCHEMA_VERSION)];

const EVENTS_V2 = `
CREATE TABLE IF NOT EXISTS events (
  user INTEGER NOT NULL, item INTEGER NOT NULL, behavior TEXT NOT NULL, ts INTEGER NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS events_by_user_time ON events(user, ts, item, behavior);
`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL, role TEXT NOT NULL DEFAULT 'train');
CREATE TABLE IF NOT EXISTS categories (id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY, ext TEXT UNIQUE NOT NULL,
  category INTEGER NULL REFERENCES categories(id), title TEXT NULL);
CREATE TABLE IF NOT EXISTS sources (
  sha256 TEXT PRIMARY KEY, path TEXT, format TEXT, rows INTEGER, ingested_at TEXT,
  options TEXT NOT NULL DEFAULT '');
${EVENTS_V2}`;

/** How long a statement waits for another process's lock before failing (ms). */
export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

/**
 * Opens (creating when absent) the SQLite file at `path` and makes sure it
 * holds an arbor store of a schema version this code reads. SQLite failures
 * (locked, disk full, read-only, corrupt) become StoreErrors naming `path`.
 */
export function openDatabase(path: string, busyTimeoutMs = DEFAULT_BUSY_TIMEOUT_MS): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (err) {
    const mapped = storeError(path, err);
    if (mapped instanceof StoreError) throw mapped;
    throw new StoreError(path, 'cannot-open', `cannot open store ${path} (${(err as Error).message}): check the path and that its folder exists`);
  }
  try {
    db.pragma('journal_mode = DELETE');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('cache_size = -131072');
    prepareSchema(db, path);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof ArborError) throw err;
    const mapped = storeError(path, err);
    if (mapped instanceof StoreError) throw mapped;
    throw new ArborError(`${path}: not an arbor store (${(err as Error).message})`);
  }
}

function prepareSchema(db: Database.Database, path: string): void {
  const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).pluck().all() as string[];
  if (tables.length > 0 && !tables.includes('meta')) {
    throw new ArborError(`${path}: not an arbor store (no meta table)`);
  }
  if (tables.length === 0) {
    db.transaction(() => {
      db.exec(SCHEMA);
      db.prepare(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`).run(String(SCHEMA_VERSION));
    })();
    return;
  }
  const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get();
  if (!READABLE_VERSIONS.includes(version as string)) {
    throw new ArborError(`${path}: store schema version ${String(version)}, expected ${READABLE_VERSIONS.join(' or ')}`);
  }
}

/**
 * Brings a store of an older schema version to the current one; a no-op
 * on a current store. Must run inside the caller's write transaction, so
 * a failed write keeps the store at its old version. Version 1 to 2 copies
 * the events (keeping their rowids, so ties stay in ingest order) into a
 * table with one unique index in place of the constraint and the index.
 */
export function upgradeSchema(db: Database.Database): void {
  const version = db.prepare(`SELECT value FROM meta WHERE key = 'schema_version'`).pluck().get();
  if (version === String(SCHEMA_VERSION)) return;
  db.exec(`
ALTER TABLE events RENAME TO events_v1;
DROP INDEX IF EXISTS events_by_user_time;
CREATE TABLE events (
  user INTEGER NOT NULL, item INTEGER NOT NULL, behavior TEXT NOT NULL, ts INTEGER NOT NULL);
INSERT INTO events (rowid, user, item, behavior, ts) SELECT rowid, user, item, behavior, ts FROM events_v1 ORDER BY rowid;
DROP TABLE events_v1;
${EVENTS_V2}`);
  db.prepare(`UPDATE meta SET value = ? WHERE key = 'schema_version'`).run(String(SCHEMA_VERSION));
}
