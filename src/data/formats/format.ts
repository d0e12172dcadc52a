/**
 * What every input format provides to the ingest path.
 */
import type { ByteLineHandler, LineHandler, LineRunHandler } from '../files.js';

/** What an items file says about one item (null: not given). */
export interface ItemInfo {
  category: string | null;
  title: string | null;
}

/** The behaviour of rows that carry positions instead of timestamps (sequence files). */
export const UNTIMED_BEHAVIOR = 'seq';

/** Item side information by external item id. */
export type ItemInfoMap = Map<string, ItemInfo>;

/** Receives the rows a data-file parser reads. */
export interface RowSink {
  /** A kept interaction; `category` is set when the row itself names one. */
  event(user: string, item: string, behavior: string, ts: number, category: string | null): void;
  /** A well-formed row dropped by a filter (`minRating`). */
  dropped(): void;
}

/**
 * Receives rows whose fields are still bytes of the input buffer (the fast
 * path, {@link FormatSpec.runParser}): ids are resolved to store ids
 * without making a string per field.
 */
export interface ByteRowSink {
  /** The store id of the user whose id is the UTF-8 bytes `buf[start, end)`. */
  user(buf: Buffer, start: number, end: number): number;
  /** The store id of the item `buf[start, end)`, whose category (from the row) is `buf[catStart, catEnd)`. */
  item(buf: Buffer, start: number, end: number, catStart: number, catEnd: number): number;
  /** A kept interaction, read from line `lineNo`, of ids from {@link user} and {@link item}. */
  event(user: number, item: number, behavior: string, ts: number, lineNo: number): void;
}

/** One input format. */
export interface FormatSpec {
  /** Text encoding of the data file. */
  readonly encoding: BufferEncoding;
  /** Whether the `minRating` option applies. */
  readonly takesMinRating: boolean;
  /**
   * True when rows carry positions instead of timestamps (the sequence
   * format): such a user's behaviours cannot be ordered against rows from
   * another file, so they must all come from one line.
   */
  readonly untimed?: boolean;
  /**
   * A parser for one data file: it is fed the file's non-blank lines in
   * order, reports rows to `sink` and throws InputError on a malformed line.
   */
  parser(file: string, sink: RowSink, minRating: number | undefined): LineHandler;
  /**
   * Optional fast path for formats without an items file: a parser of runs
   * of whole lines as bytes, which reports the lines it fully checks to
   * `sink` and hands every other line (anything unusual, including every
   * malformed one) to `line`, which is the decoding {@link parser}: so
   * errors and results are exactly the parser's.
   */
  runParser?(file: string, sink: ByteRowSink, line: ByteLineHandler): LineRunHandler;
  /** Parses an items file; absent when the format takes none. */
  readItems?(file: string, bytes: Buffer): ItemInfoMap;
}

