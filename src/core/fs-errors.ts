/**
 * System (errno) errors of file operations turned into one-line messages
 * that name the path, say what happened and what to do:
 * `cannot write m/tree.msgpack: the disk is full (ENOSPC): free space on its file system, then retry`.
 */
import { FileError } from './errors.js';

/** What was being done when the error happened (it picks the advice). */
export type FileAction = 'read' | 'write' | 'create' | 'replace' | 'open';

interface Advice {
  what: string;
  todo: string;
}

const ADVICE: Record<string, (action: FileAction) => Advice> = {
  ENOSPC: () => ({ what: 'the disk is full', todo: 'free space on its file system, then retry' }),
  EDQUOT: () => ({ what: 'the disk quota is exhausted', todo: 'free space or raise the quota, then retry' }),
  EFBIG: () => ({ what: 'the file would exceed the file size limit', todo: 'raise the limit (ulimit -f) or write to another file system' }),
  EROFS: () => ({ what: 'the file system is read-only', todo: 'choose a path on a writable file system' }),
  EACCES: (a) => ({ what: 'permission denied', todo: a === 'read' ? 'make the file readable' : 'make the file and its folder writable, or choose another path' }),
  EPERM: (a) => ({ what: 'operation not permitted', todo: a === 'read' ? 'make the file readable' : 'make the file and its folder writable, or choose another path' }),
  ENOENT: (a) => ({ what: a === 'read' || a === 'open' ? 'no such file' : 'its folder does not exist', todo: a === 'read' || a === 'open' ? 'check the path' : 'create the folder first or choose another path' }),
  EISDIR: () => ({ what: 'it is a folder', todo: 'give the path of a file' }),
  ENOTDIR: () => ({ what: 'a part of the path is not a folder', todo: 'check the path' }),
  ENOTEMPTY: () => ({ what: 'the folder is not empty', todo: 'remove it or choose another path' }),
  EEXIST: () => ({ what: 'it already exists', todo: 'remove it or choose another path' }),
  EIO: () => ({ what: 'an I/O error', todo: 'check the disk' }),
  EMFILE: () => ({ what: 'too many open files', todo: 'raise the limit (ulimit -n) and retry' }),
  ENFILE: () => ({ what: 'too many open files in the system', todo: 'retry later' }),
  ENAMETOOLONG: () => ({ what: 'the path is too long', todo: 'choose a shorter path' }),
  ELOOP: () => ({ what: 'too many symbolic links in the path', todo: 'check the path' }),
  EBUSY: () => ({ what: 'the file is busy', todo: 'retry when the other program has finished' }),
};

/** The errno code of a system error (ENOSPC, ...), else undefined. */
export function errnoCode(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** True when `err` is a system error from a file operation (it has an errno code). */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return errnoCode(err) !== undefined;
}

/**
 * A FileError for system error `err` raised while doing `action` on `path`:
 * `cannot write PATH: the disk is full (ENOSPC): free space on its file system, then retry`.
 * `label` replaces "cannot <action>" (e.g. "cannot write model folder").
 */
export function fileError(action: FileAction, path: string, err: unknown, label = `cannot ${action}`, extra = ''): FileError {
  const code = errnoCode(err);
  const advice = code && ADVICE[code] ? ADVICE[code](action) : undefined;
  const what = advice ? `${advice.what} (${code})` : (err as Error)?.message ?? String(err);
  const todo = advice ? advice.todo : 'check the path and the disk';
  return new FileError(path, code, `${label} ${path}: ${what}: ${todo}${extra}`);
}
