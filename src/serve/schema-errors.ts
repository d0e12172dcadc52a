/**
 * Readable messages for request-schema violations: `field: what, got VALUE`,
 * where the field is a path such as `k` or `queries[2].history[0]`.
 */
import type { FastifySchemaValidationError } from 'fastify';

/** `/queries/2/history/0` → `queries[2].history[0]`. */
export function fieldPath(instancePath: string): string {
  let out = '';
  for (const part of instancePath.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(key) ? `[${key}]` : out ? `.${key}` : key;
  }
  return out;
}

/** JSON of a rejected value, cut short when long. */
function shown(value: unknown): string {
  // JSON has no Infinity or NaN (1e400 parses to Infinity and would print as null)
  if (typeof value === 'number' && !Number.isFinite(value)) return value > 0 ? 'a number too large (Infinity)' : value < 0 ? 'a number too small (-Infinity)' : 'NaN';
  const s = JSON.stringify(value) ?? String(value);
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

/**
 * The message of the first violation (ajv stops at the first with allErrors
 * off). With ajv's `verbose` option the error carries the rejected value,
 * which is echoed for type and range errors.
 */
export function schemaErrorMessage(errors: FastifySchemaValidationError[], dataVar: string): string {
  const e = errors[0] as FastifySchemaValidationError & { data?: unknown };
  if (!e) return `${dataVar}: invalid`;
  const at = fieldPath(e.instancePath);
  const join = (child: string) => (at ? `${at}.${child}` : child);
  const got = 'data' in e && !Array.isArray(e.data) && (typeof e.data !== 'object' || e.data === null) ? `, got ${shown(e.data)}` : '';
  switch (e.keyword) {
    case 'additionalProperties':
      return `${join(String(e.params.additionalProperty))}: unknown field`;
    case 'required':
      return `${join(String(e.params.missingProperty))}: required`;
    case 'type':
      return `${at || dataVar}: must be ${String(e.params.type).replace(',', ' or ')}${got}`;
    default:
      return `${at || dataVar}: ${e.message ?? 'invalid'}${got}`;
  }
}
