/**
 * Atomic folder writes, shared by the model folder and the training
 * checkpoint inside it. A folder NAME is written into a temporary sibling
 * `.NAME.tmp-PID-TIME`; every file in it and the folder itself are fsynced;
 * then the previous NAME (if any) is renamed aside to `.NAME.old-PID-TIME`,
 * the new one renamed into place, the parent fsynced and the old copy
 * removed. A crash therefore leaves either the old folder or the new one,
 * never a half-written one; `recoverFolder` repairs a kill between the two
 * renames and removes dead writers' leftovers.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { ModelFormatError } from '../core/errors.js';
import { errnoCode } from '../core/fs-errors.js';

/** A sibling folder left by a write: `.NAME.tmp-PID-TIME` (the new folder being written) or `.NAME.old-PID-TIME` (the previous one during the swap). */
interface Leftover {
  path: string;
  kind: 'tmp' | 'old';
  pid: number;
  time: number;
}

function leftovers(target: string): Leftover[] {
  const parent = dirname(target);
  const name = basename(target);
  let entries: string[];
  try {
    entries = readdirSync(parent);
  } catch {
    return [];
  }
  const out: Leftover[] = [];
  for (const e of entries) {
    for (const kind of ['tmp', 'old'] as const) {
      const prefix = `.${name}.${kind}-`;
      if (!e.startsWith(prefix)) continue;
      const m = /^(\d+)-(\d+)$/.exec(e.slice(prefix.length));
      if (m) out.push({ path: join(parent, e), kind, pid: Number(m[1]), time: Number(m[2]) });
    }
  }
  return out;
}

/** True while process `pid` exists (this process counts as alive). */
function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Repairs what a killed writer left beside folder `dir`. The swap renames
 * the old folder aside (`.NAME.old-…`) and then the new one (`.NAME.tmp-…`)
 * into place, so a kill between the two leaves no folder at `dir`: the old
 * folder is moved back (a write counts only once the new folder is in place)
 * and the unfinished new one is removed. Leftovers of processes that still
 * run are left alone (their write is under way; a reader waits up to 2 s
 * for such a swap to finish). A failure is reported against `file` (e.g.
 * the folder's manifest), calling the folder `what`. Safe to call at any time.
 */
export function recoverFolder(dir: string, file: string, what = 'folder'): void {
  const target = resolve(dir);
  for (let waited = 0; ; waited += 50) {
    const left = leftovers(target);
    if (left.length === 0) return;
    const dead = left.filter((l) => !alive(l.pid));
    if (!existsSync(target)) {
      const olds = left.filter((l) => l.kind === 'old').sort((a, b) => b.time - a.time);
      if (olds.length > 0 && alive(olds[0].pid) && olds[0].pid !== process.pid && waited < 2000) {
        sleepMs(50); // another process is between its two renames
        continue;
      }
      const restore = olds.find((l) => !alive(l.pid));
      if (restore) {
        try {
          renameSync(restore.path, target);
        } catch (e) {
          if (!existsSync(target)) {
            throw new ModelFormatError(
              file,
              `the ${what} is missing after an interrupted write; the previous ${what} is in ${restore.path} but could not be moved back (${errnoCode(e) ?? (e as Error).message}): rename it to ${target}`,
            );
          }
        }
      }
    }
    for (const l of dead) {
      if (existsSync(l.path)) {
        try {
          rmSync(l.path, { recursive: true, force: true });
        } catch {
          // a read-only place: leave it; the folder at the path is what counts
        }
      }
    }
    return;
  }
}

/** Writes `data` to a new file at `path` and flushes it to the disk. */
export function writeDurable(path: string, data: Uint8Array | string): void {
  const fd = openSync(path, 'wx');
  try {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** fsync of a folder (its entries); file systems that cannot (EINVAL, EISDIR on some platforms) are skipped. */
export function syncFolder(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = errnoCode(e);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF' && code !== 'EPERM') throw e;
  } finally {
    closeSync(fd);
  }
}

/** fsync of every sub-folder of `root` and `root` itself (files are synced as they are written). */
function syncFolders(root: string): void {
  for (const e of readdirSync(root)) {
    const p = join(root, e);
    if (statSync(p).isDirectory()) syncFolders(p);
  }
  syncFolder(root);
}

/**
 * Writes folder `target` atomically: `fill(tmp)` writes the new content
 * into an empty temporary sibling (with writeDurable, or its own fsync),
 * which then replaces `target` as described above. On failure the
 * temporary folder is removed, the previous `target` is left (or put back)
 * and the system error is rethrown for the caller to name.
 */
export function replaceFolder(target: string, fill: (tmp: string) => void): void {
  const abs = resolve(target);
  const parent = dirname(abs);
  const stamp = `${process.pid}-${Date.now()}`;
  const tmp = join(parent, `.${basename(abs)}.tmp-${stamp}`);
  const old = join(parent, `.${basename(abs)}.old-${stamp}`);
  try {
    mkdirSync(tmp);
    fill(tmp);
    syncFolders(tmp);
    if (existsSync(abs)) renameSync(abs, old);
    renameSync(tmp, abs);
    syncFolder(parent);
  } catch (e) {
    try {
      rmSync(tmp, { recursive: true, force: true });
      if (existsSync(old) && !existsSync(abs)) renameSync(old, abs);
    } catch {
      // recoverFolder finishes this on the next open
    }
    throw e;
  }
  try {
    rmSync(old, { recursive: true, force: true });
  } catch {
    // removed by recoverFolder on the next open
  }
}

/**
 * Removes folder `target` atomically: renamed aside as a `.NAME.tmp-…`
 * leftover (which recoverFolder deletes, never restores), then deleted, so
 * a reader never sees it half-removed. Absent: nothing to do.
 */
export function removeFolder(target: string): void {
  const abs = resolve(target);
  if (!existsSync(abs)) return;
  const gone = join(dirname(abs), `.${basename(abs)}.tmp-${process.pid}-${Date.now()}`);
  renameSync(abs, gone);
  syncFolder(dirname(abs));
  rmSync(gone, { recursive: true, force: true });
}
