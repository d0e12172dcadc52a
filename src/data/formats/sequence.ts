/**
 * Sequence text (Amazon 5-core style): one user a line, `user item1 item2 ...`
 * whitespace separated, oldest first, no timestamps. Each interaction gets
 * behavior "seq" and ts = its 0-based position in the line, so a file must
 * list each user on one line only.
 *
 * Items file: a JSON object mapping item id to a list of attribute ids; the
 * first attribute id (as text) is the item's category.
 */
import { InputError } from '../../core/errors.js';
import { preview } from '../../core/preview.js';
import { BAD_ID_CHAR } from '../fields.js';
import { decodeUtf8 } from '../files.js';
import { UNTIMED_BEHAVIOR, type FormatSpec, type ItemInfoMap } from './format.js';

/** The `sequence` format. */
export const sequenceFormat: FormatSpec = {
  encoding: 'utf8',
  takesMinRating: false,
  untimed: true,
  parser(file, sink) {
    const lineOfUser = new Map<string, number>();
    return (line, lineNo) => {
      const fields = line.trim().split(/\s+/);
      const user = fields[0];
      if (fields.length < 2) throw new InputError(file, lineNo, 'user with no items', line);
      const bad = fields.find((f) => BAD_ID_CHAR.test(f));
      if (bad !== undefined) throw new InputError(file, lineNo, 'an id holds a control character; ids may not', bad);
      const earlier = lineOfUser.get(user);
      if (earlier !== undefined) throw new InputError(file, lineNo, `user already listed on line ${earlier}`, user);
      lineOfUser.set(user, lineNo);
      for (let i = 1; i < fields.length; i++) sink.event(user, fields[i], UNTIMED_BEHAVIOR, i - 1, null);
    };
  },
  readItems: readAttributesJson,
};

function readAttributesJson(file: string, bytes: Buffer): ItemInfoMap {
  const text = decodeUtf8(file, bytes);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const position = /at position (\d+)/.exec((err as Error).message);
    const line = position ? lineAt(text, Number(position[1])) : 1;
    const reason = (err as Error).message.replace(/\s+/g, ' ');
    throw new InputError(file, line, `invalid JSON (${reason})`, text.split('\n')[line - 1]);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new InputError(file, 1, 'items file must be a JSON object mapping item id to a list of attribute ids', text);
  }
  const twice = repeatedTopLevelKey(text);
  if (twice) throw new InputError(file, twice.line, 'item id given twice (JSON keeps only the last)', twice.key);
  const map: ItemInfoMap = new Map();
  for (const [key, value] of Object.entries(data)) {
    const fail = (what: string, shown: string): never => {
      throw new InputError(file, lineOfKey(text, key), what, shown);
    };
    if (key === '' || BAD_ID_CHAR.test(key)) fail('item id must be a non-empty id without spaces or control characters', key);
    if (!Array.isArray(value)) fail(`attributes of item ${JSON.stringify(key)} must be an array`, preview(value));
    const attributes = value as unknown[];
    if (!attributes.every((a) => typeof a === 'string' || (typeof a === 'number' && Number.isFinite(a)))) {
      fail(`attributes of item ${JSON.stringify(key)} must be numbers or strings`, preview(value));
    }
    map.set(key, { category: attributes.length > 0 ? String(attributes[0]) : null, title: null });
  }
  return map;
}

/**
 * The first key written twice in the top-level object of the JSON `text`
 * (JSON.parse silently keeps the last one), with its line; undefined when
 * every key is distinct. `text` must be valid JSON.
 */
function repeatedTopLevelKey(text: string): { key: string; line: number } | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') line++;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && /^\s*:/.test(text.slice(j + 1, j + 64))) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (seen.has(key)) return { key, line };
        seen.add(key);
      }
      i = j;
    }
  }
  return undefined;
}

/** 1-based line of character offset `offset` in `text`. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) line++;
  return line;
}

/** Line where `key` is written as an object key (1 when not found). */
function lineOfKey(text: string, key: string): number {
  const quoted = JSON.stringify(key).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`${quoted}\\s*:`).exec(text);
  return match ? lineAt(text, match.index) : 1;
}
