/**
 * The hostile-input probe's harness: running the built CLI (plainly, under
 * a shell, with a fault injected, or as an unprivileged user), judging a
 * run against what a user should get (exit code, one line `arbor: ...`,
 * no JavaScript stack), fingerprints of stores and model folders to check
 * "unchanged", and the case record the report is made of.
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

/** Repository root (dist/tools/probe → ../../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The CLI entry point. */
export const BIN = join(ROOT, 'bin', 'arbor.js');
/** The shell command that runs the CLI. */
export const ARBOR = `${process.execPath} ${BIN}`;

/** One run of a command. */
export interface Run {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** One probe case and its outcome. */
export interface CaseResult {
  id: string;
  area: string;
  what: string;
  command: string;
  expected: string;
  observed: string;
  pass: boolean;
  skipped?: string;
}

/** Runs `arbor ARGS` in `cwd`. */
export function arbor(args: string[], o: { cwd: string; input?: string | Buffer; env?: Record<string, string>; unprivileged?: boolean; timeoutMs?: number }): Run {
  const opts: SpawnSyncOptions = {
    cwd: o.cwd,
    input: o.input,
    env: { ...process.env, ...o.env },
    timeout: o.timeoutMs ?? 180_000,
    maxBuffer: 256 << 20,
    ...(o.unprivileged && process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {}),
  };
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], opts);
  return { code: r.status, signal: r.signal, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? ''), ms: Date.now() - t0 };
}

/** Runs a bash script in `cwd`; `$ARBOR` runs the CLI. */
export function sh(script: string, cwd: string, timeoutMs = 180_000): Run {
  const t0 = Date.now();
  const r = spawnSync('bash', ['-c', script], { cwd, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 256 << 20, env: { ...process.env, ARBOR } });
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', ms: Date.now() - t0 };
}

/** Starts `arbor ARGS` and SIGKILLs it after `afterMs`; resolves with the run once it has ended. */
export function killAfter(args: string[], cwd: string, afterMs: number): Promise<Run> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), afterMs);
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** True when this process may mount file systems in a private namespace (root with unshare). */
export function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  return spawnSync('unshare', ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt']).status === 0;
}

/** True when strace can inject faults. */
export function hasStrace(): boolean {
  return spawnSync('strace', ['-V']).status === 0;
}

/** The error lines arbor printed (`arbor: ...`), without informational ones. */
export function errorLines(r: Run): string[] {
  return r.stderr
    .split('\n')
    .filter((l) => l.startsWith('arbor: ') && !/^arbor: (tfjs backend|skipped \d+ history)/.test(l) && !/was already ingested into/.test(l));
}

/** True when stderr holds a JavaScript stack. */
export function hasStack(r: Run): boolean {
  return /\n\s+at .+(:\d+:\d+\)?|\(native\)|<anonymous>\)?)$/m.test(r.stderr);
}

/** A short description of a run: exit status and its error line (or the start of its output). */
export function describe(r: Run): string {
  const status = r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
  const err = errorLines(r);
  const stack = hasStack(r) ? ' + a JavaScript stack' : '';
  const text = err.length > 0 ? err.join(' / ') : r.stdout.trim().split('\n')[0] ?? '';
  return `${status}${stack}${text ? `: ${clip(text, 220)}` : ''}`;
}

/** `s` cut to `n` characters. */
export function clip(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/**
 * Judges a failing run: exit `code`, exactly one error line matching
 * `pattern` (when given), no stack. Returns '' when it holds, else why not.
 */
export function judgeError(r: Run, code: number, pattern?: RegExp): string {
  if (r.code !== code) return `exit ${r.code ?? r.signal}, expected ${code}`;
  const lines = errorLines(r);
  if (lines.length !== 1) return `${lines.length} error lines`;
  if (hasStack(r)) return 'a JavaScript stack';
  if (pattern && !pattern.test(lines[0])) return `message does not match ${pattern}`;
  if (!/: [^:]+$/.test(lines[0]) && lines[0].length < 20) return 'no advice';
  return '';
}

/** Judges a successful run (exit 0, no stack). */
export function judgeOk(r: Run): string {
  if (r.code !== 0) return `exit ${r.code ?? r.signal}`;
  if (hasStack(r)) return 'a JavaScript stack';
  return '';
}

/** A fingerprint of a store's content (every table's rows), or a note when it cannot be read. */
export function storeFingerprint(path: string): string {
  if (!existsSync(path)) return 'absent';
  try {
    // read-write, as the next arbor command opens it: a hot journal left by a killed writer is rolled back first
    const db = new Database(path, { fileMustExist: true });
    try {
      const h = createHash('sha256');
      for (const t of ['meta', 'users', 'categories', 'items', 'events', 'sources']) {
        for (const row of db.prepare(`SELECT * FROM ${t} ORDER BY rowid`).raw().iterate()) h.update(JSON.stringify(row));
      }
      return h.digest('hex').slice(0, 16);
    } finally {
      db.close();
    }
  } catch (e) {
    return `unreadable (${(e as Error).message})`;
  }
}

/** A fingerprint of a model folder (every file's bytes, its training checkpoint left out), or 'absent'. */
export function folderFingerprint(dir: string): string {
  if (!existsSync(dir)) return 'absent';
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      // a training checkpoint (and its write's leftovers) is not part of the model
      if (d === dir && /^\.?checkpoint($|\.(tmp|old)-)/.test(e)) continue;
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else h.update(e).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex').slice(0, 16);
}

/** Entries of `dir` that a model write leaves behind (`.NAME.tmp-…`, `.NAME.old-…`). */
export function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((e) => /\.(tmp|old)-\d+/.test(e));
}

/** Copies a file or folder (fixtures are copied before destructive cases). */
export function copy(from: string, to: string): void {
  cpSync(from, to, { recursive: true });
}
