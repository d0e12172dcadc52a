/**
 * Taobao UserBehavior CSV, no header:
 * `user_id,item_id,category_id,behavior_type,timestamp`, behavior_type one of
 * pv, cart, fav, buy. The item's category comes from the row itself.
 *
 * Besides the line parser, the format has a fast path over bytes
 * ({@link FormatSpec.runParser}) for the 100M-row files it comes in: a line
 * of printable ASCII ids, a known behaviour and a timestamp of at most 15
 * digits is taken straight from the input buffer; any other line goes to
 * the line parser, which accepts it or names what is wrong with it.
 */
import { InputError } from '../../core/errors.js';
import { checkId, parseInteger, splitExact } from '../fields.js';
import type { ByteLineHandler } from '../files.js';
import type { ByteRowSink, FormatSpec } from './format.js';

const FIELDS = ['user_id', 'item_id', 'category_id', 'behavior_type', 'timestamp'] as const;
const BEHAVIORS = new Set(['pv', 'cart', 'fav', 'buy']);

const COMMA = 0x2c;
const NL = 0x0a;
const CR = 0x0d;

/** The `userbehavior` format. */
export const userBehaviorFormat: FormatSpec = {
  encoding: 'utf8',
  takesMinRating: false,
  parser(file, sink) {
    return (line, lineNo) => {
      const at = { file, line: lineNo };
      const [user, item, category, behavior, ts] = splitExact(at, line, ',', FIELDS);
      if (!BEHAVIORS.has(behavior)) {
        throw new InputError(file, lineNo, 'behavior_type must be pv, cart, fav or buy', behavior);
      }
      sink.event(
        checkId(at, 'user_id', user),
        checkId(at, 'item_id', item),
        behavior,
        parseInteger(at, 'timestamp', ts),
        checkId(at, 'category_id', category),
      );
    };
  },
  runParser(_file, sink, line) {
    return (buf, start, end, firstLineNo) => {
      let lineNo = firstLineNo;
      for (let pos = start; pos < end; lineNo++) {
        const next = fastRow(buf, pos, end, lineNo, sink);
        if (next >= 0) pos = next;
        else pos = slowRow(buf, pos, end, lineNo, line);
      }
      return lineNo - firstLineNo;
    };
  },
};

/** Hands the line at `pos` to the line parser; returns where the next line starts. */
function slowRow(buf: Buffer, pos: number, end: number, lineNo: number, line: ByteLineHandler): number {
  let nl = buf.indexOf(NL, pos);
  if (nl === -1 || nl >= end) nl = end;
  line(buf.subarray(pos, nl), lineNo);
  return nl + 1;
}

/** Index of the comma ending the id that starts at `i` (printable ASCII, no space, not empty), or -1. */
function idEnd(buf: Buffer, i: number, end: number): number {
  for (let j = i; j < end; j++) {
    const c = buf[j];
    if (c === COMMA) return j > i ? j : -1;
    if (c <= 0x20 || c >= 0x7f) return -1;
  }
  return -1;
}

/**
 * Reads the line at `pos` when it is plain (see the module comment) and
 * reports it to `sink`; returns where the next line starts, or -1 (nothing
 * reported) for a line the line parser must see.
 */
function fastRow(buf: Buffer, pos: number, end: number, lineNo: number, sink: ByteRowSink): number {
  const userEnd = idEnd(buf, pos, end);
  if (userEnd < 0) return -1;
  const itemEnd = idEnd(buf, userEnd + 1, end);
  if (itemEnd < 0) return -1;
  const categoryEnd = idEnd(buf, itemEnd + 1, end);
  if (categoryEnd < 0) return -1;
  let t = categoryEnd + 1;
  let behavior: string;
  const b = buf[t];
  if (b === 0x70 && t + 2 < end && buf[t + 1] === 0x76 && buf[t + 2] === COMMA) behavior = 'pv';
  else if (b === 0x63 && t + 4 < end && buf[t + 1] === 0x61 && buf[t + 2] === 0x72 && buf[t + 3] === 0x74 && buf[t + 4] === COMMA) behavior = 'cart';
  else if (b === 0x66 && t + 3 < end && buf[t + 1] === 0x61 && buf[t + 2] === 0x76 && buf[t + 3] === COMMA) behavior = 'fav';
  else if (b === 0x62 && t + 3 < end && buf[t + 1] === 0x75 && buf[t + 2] === 0x79 && buf[t + 3] === COMMA) behavior = 'buy';
  else return -1;
  t += behavior.length + 1;
  const negative = t < end && buf[t] === 0x2d;
  if (negative) t++;
  const digits = t;
  let ts = 0;
  for (; t < end; t++) {
    const c = buf[t] - 0x30;
    if (c < 0 || c > 9) break;
    ts = ts * 10 + c;
  }
  // at most 15 digits: exact in a double, like the line parser's Number()
  if (t === digits || t - digits > 15) return -1;
  if (t < end && buf[t] === CR) t++;
  if (t < end) {
    if (buf[t] !== NL) return -1;
    t++;
  }
  sink.event(sink.user(buf, pos, userEnd), sink.item(buf, userEnd + 1, itemEnd, itemEnd + 1, categoryEnd), behavior, negative ? -ts : ts, lineNo);
  return t;
}
