/**
 * The items file of `arbor ingest-items`: the catalogue's items, with or
 * without events, one a line as `ITEM` or `ITEM,CATEGORY` (UTF-8; blank
 * lines and lines starting with `#` are skipped; no header). An item given
 * twice, an empty id or more than two fields is an InputError naming the
 * file, line and value.
 */
import { InputError } from '../core/errors.js';
import { decodeUtf8 } from './files.js';

/** One row of an items file. */
export interface ItemRow {
  item: string;
  /** External category id, or null when the line gives none. */
  category: string | null;
}

/** Parses the bytes of items file `file`. */
export function parseItemsFile(file: string, bytes: Buffer): ItemRow[] {
  const text = decodeUtf8(file, bytes);
  const rows: ItemRow[] = [];
  const seen = new Set<string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].replace(/\r$/, '');
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const fields = t.split(',').map((f) => f.trim());
    if (fields.length > 2) throw new InputError(file, i + 1, 'expected ITEM or ITEM,CATEGORY', line);
    const [item, category] = fields;
    if (item === '') throw new InputError(file, i + 1, 'empty item id', line);
    if (seen.has(item)) throw new InputError(file, i + 1, 'item given twice', item);
    seen.add(item);
    rows.push({ item, category: category === undefined || category === '' ? null : category });
  }
  return rows;
}
