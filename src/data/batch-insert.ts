/**
 * Multi-row INSERT statements: rows are collected in one array of bound
 * values and written `rowsPerStatement` at a time by one prepared
 * `INSERT ... VALUES (...), (...), ...`, which costs a fraction of as many
 * one-row statements (each run crosses from JavaScript into SQLite and binds
 * its values once). SQLite applies the rows in order, as single inserts
 * would, so `INSERT OR IGNORE` drops a repeat within a batch too.
 */
import type Database from 'better-sqlite3';

/** Rows per multi-row statement (4 columns: 1024 bound values, well under SQLite's limit). */
export const ROWS_PER_STATEMENT = 256;

/** A buffer of rows for one table, flushed by multi-row statements. */
export class BatchInsert {
  /** Rows waiting to be written. */
  pending = 0;
  private readonly columns: number;
  private readonly rowsPerStatement: number;
  private readonly values: unknown[];
  private readonly many: Database.Statement;
  private readonly one: Database.Statement;
  private readonly before: (() => void) | undefined;

  /**
   * `head` is the statement up to VALUES, e.g.
   * `INSERT OR IGNORE INTO events (user, item, behavior, ts)`, naming
   * `columns` columns (at most 4). `before` runs before any rows are
   * written (e.g. to write the rows they refer to first).
   */
  constructor(db: Database.Database, head: string, columns: number, before?: () => void, rowsPerStatement = ROWS_PER_STATEMENT) {
    this.columns = columns;
    this.before = before;
    this.rowsPerStatement = rowsPerStatement;
    this.values = new Array(columns * rowsPerStatement).fill(null);
    const row = `(${Array(columns).fill('?').join(', ')})`;
    this.many = db.prepare(`${head} VALUES ${Array(rowsPerStatement).fill(row).join(', ')}`);
    this.one = db.prepare(`${head} VALUES ${row}`);
  }

  /**
   * Adds one row (the first `columns` arguments). Returns the rows the
   * database inserted when this filled a statement (0 otherwise).
   */
  add(a: unknown, b: unknown, c?: unknown, d?: unknown): number {
    const at = this.pending * this.columns;
    const v = this.values;
    v[at] = a;
    v[at + 1] = b;
    if (this.columns > 2) v[at + 2] = c;
    if (this.columns > 3) v[at + 3] = d;
    if (++this.pending < this.rowsPerStatement) return 0;
    this.pending = 0;
    this.before?.();
    return this.many.run(v).changes;
  }

  /** Writes the rows still waiting; returns the rows the database inserted. */
  flush(): number {
    if (this.pending === 0) return 0;
    this.before?.();
    let changes = 0;
    const row = new Array(this.columns);
    for (let r = 0; r < this.pending; r++) {
      for (let c = 0; c < this.columns; c++) row[c] = this.values[r * this.columns + c];
      changes += this.one.run(row).changes;
    }
    this.pending = 0;
    return changes;
  }
}
