/**
 * Ingesting one input file into a store, in one transaction: either every
 * row goes in or (on any error) nothing does.
 */
import { createHash } from 'node:crypto';
import { basename, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { InputError, UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { STDIN, decodingLines, eachLineOfRun, forEachLineRun, inputSource, readWholeFile, sha256, sha256File, type LineRunHandler } from './files.js';
import { UNTIMED_BEHAVIOR, formatSpec, type ByteRowSink, type ItemInfoMap, type RowSink } from './formats/index.js';
import type { IngestReport, InputFormat } from './types.js';
import { upgradeSchema } from './schema.js';
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
 * Reads `file` (`-`: standard input) in `format` into the store behind `db`.
 * The content's SHA-256, format and options are recorded in `sources`; the
 * same content ingested again with the same format and options changes
 * nothing (`alreadyIngested`). A regular file is hashed before it is read,
 * so a repeat is skipped without parsing it; a pipe or standard input can
 * be read only once, so it is hashed while it is read and a repeat is
 * detected at the end (the transaction is then rolled back). Either way
 * the content is recorded only by the commit that stores its rows.
 *
 * Sequence files have no timestamps (each user's items are numbered 0, 1,
 * ... by position), so a user's sequence must come from one line of one
 * file: a sequence row for a user already in the store, or a timestamped
 * row for a user whose behaviours came from a sequence file, is an
 * InputError. Rolls back and rethrows on any error.
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
  const source = await inputSource(file);
  const options = JSON.stringify({ minRating: opts.minRating ?? null, items: itemsBytes ? sha256(itemsBytes) : null });
  const report: IngestReport = {
    file, format, rowsRead: 0, rowsKept: 0, eventsInserted: 0,
    usersInserted: 0, itemsInserted: 0, categoriesInserted: 0, alreadyIngested: false,
  };
  const seenBefore = (digest: string): boolean => {
    const previous = db.prepare('SELECT format, options FROM sources WHERE sha256 = ?').get(digest) as { format: string; options: string } | undefined;
    return previous?.format === format && previous.options === options;
  };
  if (source.regular && seenBefore(await sha256File(file))) return { ...report, alreadyIngested: true };

  const items: ItemInfoMap | undefined = itemsBytes && spec.readItems?.(opts.items as string, itemsBytes);
  const progress = (opts.logger ?? silentLogger).progress(`ingest ${file === STDIN ? 'standard input' : basename(file)}`, source.size);
  const hash = createHash('sha256');
  db.exec('BEGIN');
  try {
    upgradeSchema(db);
    const writer = new EventWriter(db);
    const untimedUsers = spec.untimed ? undefined : usersWithUntimedEvents(db);
    /** Refuses a row of a user already in the store when either side has no timestamps. */
    const checkStoredUser = (user: number, lineNo: number) => {
      if (spec.untimed) {
        throw new InputError(file, lineNo, 'user already has behaviours in the store from an earlier ingest; a sequence file has no timestamps, so its items cannot be ordered against them: give each user\'s whole sequence on one line of one file', writer.userText(user));
      }
      if (untimedUsers?.has(user)) {
        throw new InputError(file, lineNo, 'user has behaviours from a sequence file in the store, which have no timestamps, so these rows cannot be ordered against them: keep sequence and timestamped data of a user in separate stores', writer.userText(user));
      }
    };
    let lineNo = 0;
    const sink: RowSink = {
      event(user, item, behavior, ts, category) {
        report.rowsRead++;
        report.rowsKept++;
        const userId = writer.user(user);
        if (userId <= writer.storedUsers) checkStoredUser(userId, lineNo);
        const info = items?.get(item);
        writer.event(userId, writer.item(item, category ?? info?.category ?? null, info?.title ?? null), behavior, ts);
      },
      dropped() {
        report.rowsRead++;
      },
    };
    const parse = spec.parser(file, sink, opts.minRating);
    const line = decodingLines(file, spec.encoding, (text, no) => {
      lineNo = no;
      parse(text, no);
    });
    const byteSink: ByteRowSink = {
      user: (buf, start, end) => writer.userBytes(buf, start, end),
      item: (buf, start, end, catStart, catEnd) => writer.itemBytes(buf, start, end, catStart, catEnd),
      event(user, item, behavior, ts, no) {
        report.rowsRead++;
        report.rowsKept++;
        if (user <= writer.storedUsers) checkStoredUser(user, no);
        writer.event(user, item, behavior, ts);
      },
    };
    const onRun: LineRunHandler = spec.runParser && !items
      ? spec.runParser(file, byteSink, line)
      : (buf, start, end, first) => eachLineOfRun(buf, start, end, first, line);
    await forEachLineRun(source, spec.encoding, onRun, {
      hash,
      onBytes: (bytes) => progress.update(bytes, { rows: report.rowsRead }),
    });
    writer.finish();
    const digest = hash.digest('hex');
    if (seenBefore(digest)) {
      db.exec('ROLLBACK');
      return { ...report, alreadyIngested: true };
    }
    db.prepare(
      'INSERT OR REPLACE INTO sources (sha256, path, format, rows, ingested_at, options) VALUES (?, ?, ?, ?, ?, ?)',
    ).run(digest, file === STDIN ? STDIN : resolve(file), format, report.rowsRead, new Date().toISOString(), options);
    db.exec('COMMIT');
    return { ...report, ...writer.counts };
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  } finally {
    progress.stop();
  }
}

/** Ids of the users that have behaviours from a sequence file (empty unless one was ingested). */
function usersWithUntimedEvents(db: Database.Database): Set<number> {
  if (db.prepare(`SELECT 1 FROM sources WHERE format = 'sequence' LIMIT 1`).get() === undefined) return new Set();
  return new Set(db.prepare(`SELECT DISTINCT user FROM events WHERE behavior = '${UNTIMED_BEHAVIOR}'`).pluck().all() as number[]);
}
