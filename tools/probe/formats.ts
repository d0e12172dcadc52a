/**
 * Probe cases for the input formats: malformed, odd and adversarial data
 * files and items files in every format, read through `arbor ingest`.
 * A bad file must stop with `file:line: what: "value"`, exit 1, and leave
 * no store; odd but valid files must be read as documented.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Run } from './harness.js';
import type { Probe } from './probe.js';

type Format = 'userbehavior' | 'movielens' | 'sequence';

interface FormatCase {
  id: string;
  format: Format;
  what: string;
  data: string | Buffer;
  /** Items file (name, content). */
  items?: [string, string | Buffer];
  extra?: string[];
  /** Expected: an error at this line of the data file ('items:N' for the items file), or success with these checks. */
  errorLine?: number | string;
  /** For errors: part of the message. */
  says?: RegExp;
  /** For successes: a check of the store ('' when right). */
  check?: (db: Database.Database) => string;
  expectText?: string;
}

const UB = 'u1,i1,c1,pv,1511544070\nu1,i2,c1,buy,1511544100\nu2,i1,c1,cart,1511544200\n';
const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const count = (table: string, n: number) => (db: Database.Database) => {
  const got = db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  return got === n ? '' : `${table}: ${got} rows, expected ${n}`;
};
const ids = (table: string, want: string[]) => (db: Database.Database) => {
  const got = db.prepare(`SELECT ext FROM ${table} ORDER BY id`).pluck().all() as string[];
  return JSON.stringify(got) === JSON.stringify(want) ? '' : `${table} ids ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`;
};

const CASES: FormatCase[] = [
  // Taobao UserBehavior
  { id: 'F01', format: 'userbehavior', what: 'empty file', data: '', check: count('events', 0), expectText: 'exit 0, 0 rows (an empty log is not an error)' },
  { id: 'F02', format: 'userbehavior', what: 'only blank and whitespace lines', data: '\n  \n\t\n\r\n', check: count('events', 0), expectText: 'exit 0, 0 rows' },
  { id: 'F03', format: 'userbehavior', what: 'four fields', data: 'u1,i1,c1,pv\n', errorLine: 1, says: /expected 5 ","-separated fields/ },
  { id: 'F04', format: 'userbehavior', what: 'six fields', data: UB + 'u1,i1,c1,pv,1,extra\n', errorLine: 4 },
  { id: 'F05', format: 'userbehavior', what: 'unknown behaviour', data: UB + 'u1,i1,c1,click,1\n', errorLine: 4, says: /behavior_type/ },
  { id: 'F06', format: 'userbehavior', what: 'behaviour in capitals', data: 'u1,i1,c1,PV,1\n', errorLine: 1 },
  { id: 'F07', format: 'userbehavior', what: 'empty user id', data: ',i1,c1,pv,1\n', errorLine: 1, says: /user_id must be a non-empty id/ },
  { id: 'F08', format: 'userbehavior', what: 'empty category id', data: 'u1,i1,,pv,1\n', errorLine: 1, says: /category_id/ },
  { id: 'F09', format: 'userbehavior', what: 'id with a space inside', data: 'u 1,i1,c1,pv,1\n', errorLine: 1 },
  { id: 'F10', format: 'userbehavior', what: 'decimal timestamp', data: 'u1,i1,c1,pv,1.5\n', errorLine: 1, says: /timestamp must be an integer/ },
  { id: 'F11', format: 'userbehavior', what: 'timestamp in exponent form', data: 'u1,i1,c1,pv,1e9\n', errorLine: 1 },
  { id: 'F12', format: 'userbehavior', what: 'timestamp beyond 2^53', data: 'u1,i1,c1,pv,90071992547409930\n', errorLine: 1 },
  { id: 'F13', format: 'userbehavior', what: 'negative timestamp (before 1970)', data: 'u1,i1,c1,pv,-5\nu1,i2,c1,pv,3\n', check: count('events', 2), expectText: 'exit 0: a signed integer is a valid time' },
  { id: 'F14', format: 'userbehavior', what: 'timestamp with a plus sign', data: 'u1,i1,c1,pv,+5\n', errorLine: 1 },
  { id: 'F15', format: 'userbehavior', what: 'CRLF line ends', data: UB.replace(/\n/g, '\r\n'), check: ids('users', ['u1', 'u2']), expectText: 'exit 0, the \\r is not part of the timestamp' },
  { id: 'F16', format: 'userbehavior', what: 'no newline after the last row', data: UB.trimEnd(), check: count('events', 3), expectText: 'exit 0, 3 rows' },
  { id: 'F17', format: 'userbehavior', what: 'a UTF-8 byte order mark', data: '\ufeff' + UB, check: ids('users', ['u1', 'u2']), expectText: 'exit 0, the mark is not part of the first user id' },
  { id: 'F18', format: 'userbehavior', what: 'ids that are not UTF-8 (latin1 bytes)', data: bytes('u1,i', [0xe8], ',c1,pv,1\nu1,i', [0xe9], ',c1,pv,2\n'), errorLine: 1, says: /not valid UTF-8 \(byte 0xe8/ },
  { id: 'F19', format: 'userbehavior', what: 'an overlong UTF-8 encoding (0xC0 0x80)', data: bytes('u1,i', [0xc0, 0x80], ',c1,pv,1\n'), errorLine: 1, says: /not valid UTF-8/ },
  { id: 'F20', format: 'userbehavior', what: 'a UTF-16 file (with its byte order mark)', data: Buffer.from('\ufeffu1,i1,c1,pv,1\n', 'utf16le'), errorLine: 1, says: /not valid UTF-8/ },
  { id: 'F21', format: 'userbehavior', what: 'a gzip file given as is', data: Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0x4c, 0x4a, 0x06, 0x00]), errorLine: 1 },
  { id: 'F22', format: 'userbehavior', what: 'random binary bytes', data: Buffer.from(Array.from({ length: 4000 }, (_, i) => (i * 7919 + 13) % 256)), errorLine: 1 },
  { id: 'F23', format: 'userbehavior', what: 'non-ASCII UTF-8 ids (emoji, CJK) kept as given', data: 'ü1,商品,类,pv,1\nü1,🎲,类,pv,2\n', check: ids('items', ['商品', '🎲']), expectText: 'exit 0, ids stored byte for byte' },
  { id: 'F24', format: 'userbehavior', what: 'a NUL byte inside an id', data: 'u1,i\u00001,c1,pv,1\n', errorLine: 1, says: /control character/ },
  { id: 'F25', format: 'userbehavior', what: 'CSV quoting around fields', data: '"u1","i1","c1","pv","1"\n', errorLine: 1 },
  { id: 'F26', format: 'userbehavior', what: 'an id of 100 kB', data: `u1,${'i'.repeat(100_000)},c1,pv,1\n`, check: count('items', 1), expectText: 'exit 0 (no length limit below the line limit)' },
  { id: 'F27', format: 'userbehavior', what: 'the same row twice', data: 'u1,i1,c1,pv,1\nu1,i1,c1,pv,1\n', check: count('events', 1), expectText: 'exit 0, stored once (documented)' },
  { id: 'F28', format: 'userbehavior', what: 'an item listed under two categories', data: 'u1,i1,c1,pv,1\nu1,i1,c2,pv,2\n', check: ids('categories', ['c1']), expectText: 'exit 0, the first category is kept' },
  { id: 'F29', format: 'userbehavior', what: 'a semicolon-separated file', data: 'u1;i1;c1;pv;1\n', errorLine: 1 },
  { id: 'F30', format: 'userbehavior', what: 'a header line', data: 'user_id,item_id,category_id,behavior_type,timestamp\n' + UB, errorLine: 1 },
  // MovieLens
  { id: 'F31', format: 'movielens', what: 'ratings.dat: rating 0', data: '1::10::0::978300760\n', errorLine: 1, says: /rating must be a number in \[0.5, 5\]/ },
  { id: 'F32', format: 'movielens', what: 'ratings.dat: rating 6', data: '1::10::6::978300760\n', errorLine: 1 },
  { id: 'F33', format: 'movielens', what: 'ratings.dat: rating NaN', data: '1::10::NaN::978300760\n', errorLine: 1 },
  { id: 'F34', format: 'movielens', what: 'ratings.dat: rating "4."', data: '1::10::4.::978300760\n', errorLine: 1 },
  { id: 'F35', format: 'movielens', what: 'ratings.dat: half stars', data: '1::10::4.5::978300760\n', check: count('events', 1), expectText: 'exit 0' },
  { id: 'F36', format: 'movielens', what: 'ratings.dat: three fields', data: '1::10::5\n', errorLine: 1 },
  { id: 'F37', format: 'movielens', what: 'ratings.dat after a u.data line (layouts mixed)', data: '1\t10\t5\t978300760\n1::20::5::978300761\n', errorLine: 2 },
  { id: 'F38', format: 'movielens', what: 'u.data separated by spaces', data: '1 10 5 978300760\n', errorLine: 1, says: /tab-separated/ },
  { id: 'F39', format: 'movielens', what: 'u.data: ids that are not UTF-8', data: bytes('1\t', [0xff, 0x41], '\t4\t11\n1\t', [0xfe, 0x41], '\t4\t12\n'), errorLine: 1, says: /not valid UTF-8/ },
  { id: 'F40', format: 'movielens', what: 'ratings.csv: header only', data: 'userId,movieId,rating,timestamp\n', check: count('events', 0), expectText: 'exit 0, 0 rows' },
  { id: 'F41', format: 'movielens', what: 'ratings.csv: header with CRLF', data: 'userId,movieId,rating,timestamp\r\n1,1,4.0,964982703\r\n', check: count('events', 1), expectText: 'exit 0, 1 row' },
  { id: 'F42', format: 'movielens', what: 'ratings.csv: a header with other columns', data: 'user,movie,rating,ts\n1,1,4.0,964982703\n', errorLine: 1 },
  { id: 'F43', format: 'movielens', what: 'ratings.csv: the header again in the middle', data: 'userId,movieId,rating,timestamp\n1,1,4.0,9\nuserId,movieId,rating,timestamp\n', errorLine: 3 },
  { id: 'F44', format: 'movielens', what: '--min-rating 6 keeps nothing', data: '1::10::5::978300760\n', extra: ['--min-rating', '6'], check: count('events', 0), expectText: 'exit 0, 1 row read, 0 kept' },
  { id: 'F45', format: 'movielens', what: 'movies.dat with a duplicate movie id', data: '1::10::5::978300760\n', items: ['movies.dat', '10::A (1995)::Drama\n10::B (1996)::Comedy\n'], errorLine: 'items:2', says: /duplicate movie id/ },
  { id: 'F46', format: 'movielens', what: 'movies.dat with two fields', data: '1::10::5::978300760\n', items: ['movies.dat', '10::A (1995)\n'], errorLine: 'items:1' },
  { id: 'F47', format: 'movielens', what: 'an items file that is none of the three layouts', data: '1::10::5::978300760\n', items: ['movies.txt', 'id,name\n10,A\n'], errorLine: 'items:1', says: /not a MovieLens items file/ },
  { id: 'F48', format: 'movielens', what: 'movies.csv that is not UTF-8', data: 'userId,movieId,rating,timestamp\n1,10,4.0,9\n', items: ['movies.csv', bytes('movieId,title,genres\n10,Caf', [0xe9], ',Drama\n')], errorLine: 'items:2', says: /not valid UTF-8/ },
  { id: 'F49', format: 'movielens', what: 'an empty items file', data: '1::10::5::978300760\n', items: ['movies.dat', ''], errorLine: 'items:1' },
  { id: 'F50', format: 'movielens', what: 'u.item with a genre flag "2"', data: '1\t1\t5\t9\n', items: ['u.item', '1|A (1995)|01-Jan-1995||u|0|0|0|1|0|1|0|0|0|0|0|0|0|0|0|0|0|0|2\n'], errorLine: 'items:1', says: /genre flag/ },
  // sequence
  { id: 'F51', format: 'sequence', what: 'a user with no items', data: 'u1\n', errorLine: 1, says: /user with no items/ },
  { id: 'F52', format: 'sequence', what: 'a user on two lines', data: 'u1 a b\nu2 c\nu1 d\n', errorLine: 3, says: /user already listed on line 1/ },
  { id: 'F53', format: 'sequence', what: 'tabs and runs of spaces between ids', data: 'u1\ta  b\t\tc\n', check: count('events', 3), expectText: 'exit 0, 3 items' },
  { id: 'F54', format: 'sequence', what: 'an item repeated in a line', data: 'u1 a b a\n', check: count('events', 3), expectText: 'exit 0, 3 behaviours (positions differ)' },
  { id: 'F55', format: 'sequence', what: 'ids that are not UTF-8', data: bytes('u', [0xe8], ' a\nu', [0xe9], ' b\n'), errorLine: 1, says: /not valid UTF-8/ },
  { id: 'F56', format: 'sequence', what: 'items JSON that is an array', data: 'u1 a b\n', items: ['attrs.json', '[["a", 1]]'], errorLine: 'items:1', says: /must be a JSON object/ },
  { id: 'F57', format: 'sequence', what: 'items JSON with invalid syntax', data: 'u1 a b\n', items: ['attrs.json', '{\n"a": [1],\n"b": [2\n}'], errorLine: 'items:4', says: /invalid JSON/ },
  { id: 'F58', format: 'sequence', what: 'items JSON nested 100,000 levels', data: 'u1 a b\n', items: ['attrs.json', `{"a": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`], errorLine: 'items:1', says: /nested too deeply to show/ },
  { id: 'F59', format: 'sequence', what: 'items JSON with an attribute that is an object', data: 'u1 a b\n', items: ['attrs.json', '{"a": [{"x": 1}]}'], errorLine: 'items:1' },
  { id: 'F60', format: 'sequence', what: 'items JSON with the same key twice', data: 'u1 a b\n', items: ['attrs.json', '{\n"a": [1],\n"a": [2]\n}'], errorLine: 'items:3', says: /item id given twice/ },
  { id: 'F61', format: 'sequence', what: 'items JSON key that is not UTF-8', data: 'u1 a b\n', items: ['attrs.json', bytes('{\n"a": [1],\n"', [0xe8], '": [2]\n}')], errorLine: 'items:3', says: /not valid UTF-8/ },
  { id: 'F62', format: 'sequence', what: 'items JSON with a BOM', data: 'u1 a b\n', items: ['attrs.json', '\ufeff{"a": [1]}'], check: ids('categories', ['1']), expectText: 'exit 0, the BOM is skipped' },
  { id: 'F63', format: 'sequence', what: 'items JSON holding "__proto__"', data: 'u1 a b\n', items: ['attrs.json', '{"__proto__": [5], "a": [1]}'], check: ids('categories', ['1']), expectText: 'exit 0, "__proto__" is just an id no item uses' },
  { id: 'F64', format: 'userbehavior', what: '--items with a format that takes none', data: UB, items: ['movies.dat', '10::A::Drama\n'], errorLine: 'usage' },
];

/** Runs the format cases. */
export async function formatCases(p: Probe): Promise<void> {
  for (const c of CASES) {
    const dir = p.dir(c.id);
    const data = join(dir, 'data.txt');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(data, c.data);
    const args = ['ingest', 'data.txt', '--format', c.format, '--db', 's.db', ...(c.extra ?? [])];
    if (c.items) {
      writeFileSync(join(dir, c.items[0]), c.items[1]);
      args.push('--items', c.items[0]);
    }
    const db = join(dir, 's.db');
    if (c.errorLine === 'usage') {
      await p.cli(c.id, 'format', c.what, args, { code: 2, text: 'exit 2, a usage error' }, { cwd: dir });
      continue;
    }
    if (c.errorLine !== undefined) {
      const [file, line] = typeof c.errorLine === 'string' ? [c.items![0], c.errorLine.split(':')[1]] : ['data.txt', String(c.errorLine)];
      const pattern = new RegExp(`^arbor: ${file}:${line}: ${c.says ? `.*${c.says.source}` : ''}`);
      await p.cli(c.id, 'format', c.what, args, {
        code: 1,
        pattern,
        text: `exit 1, \`${file}:${line}: what: "value"\`${c.says ? ` (${c.says.source.replace(/\\/g, '')})` : ''}, no store left`,
        after: () => (existsSync(db) ? 'a store file was left behind' : ''),
      }, { cwd: dir });
      continue;
    }
    await p.cli(c.id, 'format', c.what, args, {
      code: 0,
      text: c.expectText ?? 'exit 0',
      after: (_r: Run) => {
        const h = new Database(db, { readonly: true });
        try {
          return c.check ? c.check(h) : '';
        } finally {
          h.close();
        }
      },
    }, { cwd: dir });
  }
}
