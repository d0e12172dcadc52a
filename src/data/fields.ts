/**
 * Strict field checks shared by the input formats. Each throws an InputError
 * naming the file, the 1-based line, what is wrong and the offending value.
 */
import { InputError } from '../core/errors.js';

/** Where a field comes from, for error messages. */
export interface Where {
  file: string;
  line: number;
}

/** Splits `line` on `sep` and checks there are exactly `names.length` fields. */
export function splitExact(at: Where, line: string, sep: string, names: readonly string[]): string[] {
  const fields = line.split(sep);
  if (fields.length !== names.length) {
    const sepName = sep === '\t' ? 'tab' : JSON.stringify(sep);
    throw new InputError(at.file, at.line, `expected ${names.length} ${sepName}-separated fields (${names.join(sep)}), got ${fields.length}`, line);
  }
  return fields;
}

/** Whitespace, or a control character (NUL, escape, DEL, ...), none of which an id may hold. */
export const BAD_ID_CHAR = /[\s\x00-\x1f\x7f]/;

/** An external id: non-empty, free of whitespace and control characters. */
export function checkId(at: Where, name: string, value: string): string {
  if (value === '' || /\s/.test(value)) throw new InputError(at.file, at.line, `${name} must be a non-empty id without spaces`, value);
  if (BAD_ID_CHAR.test(value)) throw new InputError(at.file, at.line, `${name} holds a control character (code ${value.match(BAD_ID_CHAR)![0].charCodeAt(0)}); ids may not`, value);
  return value;
}

/** A base-10 integer that fits a double exactly (e.g. a unix timestamp). */
export function parseInteger(at: Where, name: string, value: string): number {
  const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n)) throw new InputError(at.file, at.line, `${name} must be an integer`, value);
  return n;
}

/** A plain decimal number (digits, optional fraction) in [min, max]. */
export function parseDecimal(at: Where, name: string, value: string, min: number, max: number): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : NaN;
  if (!(n >= min && n <= max)) throw new InputError(at.file, at.line, `${name} must be a number in [${min}, ${max}]`, value);
  return n;
}
