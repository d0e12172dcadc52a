/**
 * A short, always-safe rendering of a value for error messages: JSON cut
 * to a length, and a placeholder for values nested too deeply to render
 * (JSON.stringify recurses and would overflow the stack on them).
 */

/** JSON of `value`, at most `max` characters (then "…"); never throws. */
export function preview(value: unknown, max = 200): string {
  let s: string;
  try {
    s = JSON.stringify(value) ?? String(value);
  } catch {
    s = Array.isArray(value) ? '[… nested too deeply to show …]' : '{… nested too deeply to show …}';
  }
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
