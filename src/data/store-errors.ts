/**
 * SQLite errors of a store turned into StoreErrors: one line naming the
 * store file, saying what happened and what to do (locked, disk full,
 * read-only, corrupt, I/O error). Anything else passes through unchanged.
 */
import { ArborError, StoreError, type StoreFault } from '../core/errors.js';

/** The SQLite result code of an error from better-sqlite3 (SQLITE_BUSY, ...), else undefined. */
export function sqliteCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_') ? code : undefined;
}

function classify(code: string): StoreFault | undefined {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_FULL') return 'full';
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') return 'read-only';
  if (code.startsWith('SQLITE_CORRUPT')) return 'corrupt';
  if (code === 'SQLITE_NOTADB') return 'not-a-store';
  if (code.startsWith('SQLITE_CANTOPEN')) return 'cannot-open';
  if (code.startsWith('SQLITE_IOERR')) return 'io';
  return undefined;
}

/**
 * The StoreError for a SQLite error on the store at `path`, or `err`
 * itself when it is not one (ArborErrors, bugs).
 */
export function storeError(path: string, err: unknown): unknown {
  if (err instanceof ArborError) return err;
  const code = sqliteCode(err);
  const fault = code && classify(code);
  if (!code || !fault) return err;
  const detail = `${(err as Error).message} (${code})`;
  switch (fault) {
    case 'locked':
      return new StoreError(path, fault, `store ${path} is locked by another process (${detail}): wait until the other arbor command using it (an ingest or split?) has finished, then retry`);
    case 'full':
      return new StoreError(path, fault, `store ${path}: the disk is full (${detail}): free space on its file system, then retry (this command's changes were not saved)`);
    case 'read-only':
      return new StoreError(path, fault, `store ${path} cannot be written (${detail}): the file, its folder or its file system is read-only; make them writable or give another --db`);
    case 'corrupt':
      return new StoreError(path, fault, `store ${path} is corrupt (${detail}): restore it from a copy, or ingest the data again into a new store`);
    case 'not-a-store':
      return new StoreError(path, fault, `${path} is not an arbor store (${detail}): give the path of a store made by arbor ingest`);
    case 'cannot-open':
      return new StoreError(path, fault, `cannot open store ${path} (${detail}): check that the path is a file and its folder exists and is writable`);
    default:
      return new StoreError(path, fault, `store ${path}: I/O error (${detail}): the disk may be full, or the file larger than the file size limit (ulimit -f); check the disk, then retry`);
  }
}
