/**
 * Ingesting one input file into a store, in one transaction: either every
 * row goes in or (on any error) nothing does.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { forEachLine, readWholeFile, sha256, sha256File } from './files.js';
import { formatSpec, type ItemInfoMap, type RowSink } from './formats/index.js';
import type { IngestReport, InputFormat } from './types.js';
import { EventWriter } from './writer.js';

/** Options of an ingest. */
export interface IngestOptions {
  /** Items file with side information (movielens, sequence formats). */
  items?: string;
  /** Drop ratings below this (movielens format only; default: keep all). */
  minRating?: number;
  /** Receives progress (bytes of the data file read). */
  logger?: Logger;
}

/**
 * Reads `file` in `format` into the store behind `db`. The file's SHA-256,
 * format and options are recorded in `sources`; the same content ingested
 * again with the same format and options is skipped (`alreadyIngested`).
 * Rolls back and rethrows on any error.
 */
export async function ingestFile(
  db: Database.Database,
  file: string,
  format: InputFormat,
  opts: IngestOptions = {},
): Promise<IngestReport> {
  const spec = formatSpec(format);
  if (opts.minRating !== undefined) {
    if (!spec.takesMinRating) throw new UsageError(`minRating applies to the movielens format only, not ${format}`);
    if (!Number.isFinite(opts.minRating)) throw new UsageError(`minRating must be a number, got ${opts.minRating}`);
  }
  if (opts.items !== undefined && !spec.readItems) throw new UsageError(`format ${format} takes no items file`);

  const itemsBytes = opts.items === undefined ? undefined : await readWholeFile(opts.items);
  const digest = await sha256File(file);
  const options = JSON.stringify({ minRating: opts.minRating ?? null, items: itemsBytes ? sha256(itemsBytes) : null });
  const report: IngestReport = {
    file, format, rowsRead: 0, rowsKept: 0, eventsInserted: 0,
    usersInserted: 0, itemsInserted: 0, categoriesInserted: 0, alreadyIngested: false,
  };
  const previous = db.prepare('SELECT format, options FROM sources WHERE sha256 = ?').get(digest) as
    | { format: string; options: string }
    | undefined;
  if (previous?.format === format && previous.options === options) return { ...report, alreadyIngested: true };

  const items: ItemInfoMap | undefined = itemsBytes && spec.readItems?.(opts.items as string, itemsBytes);
  const progress = (opts.logger ?? silentLogger).progress(`ingest ${basename(file)}`, (await stat(file)).size);
  db.exec('BEGIN');
  try {
    const writer = new EventWriter(db);
    const sink: RowSink = {
      event(user, item, behavior, ts, category) {
        report.rowsRead++;
        report.rowsKept++;
        const info = items?.get(item);
        writer.add(user, item, behavior, ts, category ?? info?.category ?? null, info?.title ?? null);
      },
      dropped() {
        report.rowsRead++;
      },
    };
    await forEachLine(file, spec.encoding, spec.parser(file, sink, opts.minRating), (bytes) =>
      progress.update(bytes, { rows: report.rowsRead }),
    );
    db.prepare(
      'INSERT OR REPLACE INTO sources (sha256, path, format, rows, ingested_at, options) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(digest, resolve(file), format, report.rowsRead, new Date().toISOString(), options);
    db.exec('COMMIT');
    return { ...report, ...writer.counts };
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  } finally {
    progress.stop();
  }
}
