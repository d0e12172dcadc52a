/**
 * The ingest bench's fallback reference where no sqlite3 program exists:
 * `node dist/bench/ingest-reference.js FILE DB` loads a UserBehavior CSV
 * into a fresh table without indexes, the plain way (lines read with
 * readline, split on commas, one prepared INSERT per row, one
 * transaction), with the store's journal and synchronous settings.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';

const [file, path] = process.argv.slice(2);
const db = new Database(path);
db.pragma('journal_mode = DELETE');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE ub (user_id TEXT, item_id TEXT, category_id TEXT, behavior_type TEXT, timestamp INTEGER)');
const insert = db.prepare('INSERT INTO ub VALUES (?, ?, ?, ?, ?)');
db.exec('BEGIN');
for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
  if (line === '') continue;
  const f = line.split(',');
  insert.run(f[0], f[1], f[2], f[3], Number(f[4]));
}
db.exec('COMMIT');
db.close();
