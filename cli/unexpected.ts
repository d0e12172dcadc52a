/**
 * The last line of defence of the CLI's error reporting: an error the
 * library did not type. Environment faults that slipped through (a system
 * error from a file operation, a SQLite error, running out of memory) get
 * one line saying what happened and what to do; anything else is a bug in
 * arbor and keeps its stack, so it can be reported.
 */
import { fileError, isSystemError, type FileAction } from '../src/core/fs-errors.js';

const WRITES = new Set(['write', 'mkdir', 'rename', 'unlink', 'rmdir', 'rm', 'open', 'copyfile', 'ftruncate', 'fsync', 'symlink', 'link', 'chmod', 'utime']);

/** The message (without the "arbor: " prefix) for an error that is not an ArborError. */
export function describeUnexpected(e: unknown): string {
  if (isSystemError(e)) {
    const path = e.path ?? (e as { dest?: string }).dest ?? (e.syscall === 'write' ? 'standard output' : '(unknown path)');
    const syscall = e.syscall ?? '';
    const action: FileAction = syscall === 'read' || syscall === 'scandir' || syscall === 'stat' || syscall === 'lstat' ? 'read' : WRITES.has(syscall) ? 'write' : 'open';
    return fileError(action, path, e, `cannot ${syscall || 'use'}`).message;
  }
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    return `store error (${(e as Error).message}, ${code}): check the --db file and its disk, then retry`;
  }
  if (e instanceof RangeError && /Invalid string length|Array buffer allocation failed|Invalid typed array length|Maximum call stack size exceeded/.test(e.message)) {
    return `out of memory (${e.message}): the input, or the sizes the options ask for, need more memory than this process has; use a smaller input or smaller sizes`;
  }
  return `unexpected error (a bug in arbor; please report it with this output): ${(e as Error)?.stack ?? String(e)}`;
}
