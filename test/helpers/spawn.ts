/**
 * Running the built CLI as a user would, for tests of hostile input and
 * faults: plain, with standard input, under a shell (pipes, ulimit), or as
 * an unprivileged user (so read-only files are read-only even when the
 * suite runs as root).
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { chmodSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (dist/test/helpers/ → ../../..). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** The CLI entry point. */
export const BIN = join(ROOT, 'bin', 'arbor.js');

/** What a CLI run returned. */
export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `arbor ARGS`; `input` is written to its standard input (a pipe). */
export function arbor(args: string[], o: { input?: string | Buffer; unprivileged?: boolean; cwd?: string } = {}): Run {
  const opts: SpawnSyncOptions = { encoding: 'utf8', timeout: 120_000, input: o.input, cwd: o.cwd, ...(o.unprivileged ? unprivileged() : {}) };
  const r = spawnSync(process.execPath, [BIN, ...args], opts);
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/**
 * Starts `arbor ARGS` and kills it with SIGKILL once MODEL/checkpoint is on
 * disk; resolves with whether it was killed so, and its stderr.
 */
export function killAtCheckpoint(model: string, args: string[]): Promise<{ killed: boolean; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    let killed = false;
    const poll = setInterval(() => {
      if (existsSync(join(model, 'checkpoint', 'manifest.json'))) {
        killed = child.kill('SIGKILL');
        clearInterval(poll);
      }
    }, 5);
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearInterval(poll);
      resolve({ killed: killed && signal === 'SIGKILL', stderr });
    });
  });
}

/** Runs a POSIX shell script; `$ARBOR` runs the CLI. */
export function shell(script: string, o: { cwd?: string } = {}): Run {
  const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', timeout: 120_000, cwd: o.cwd, env: { ...process.env, ARBOR: `${process.execPath} ${BIN}` } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a bash script (for process substitution); `$ARBOR` runs the CLI. */
export function bash(script: string, o: { cwd?: string } = {}): Run {
  const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', timeout: 120_000, cwd: o.cwd, env: { ...process.env, ARBOR: `${process.execPath} ${BIN}` } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Spawn options that drop root to "nobody", so file permissions apply (empty when not root). */
export function unprivileged(): SpawnSyncOptions {
  return process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
}

/** Makes a test folder reachable by the unprivileged user (mkdtemp makes it 0700). */
export function openUp(dir: string, mode = 0o777): void {
  chmodSync(dir, mode);
}

/** Asserts a CLI error is one line `arbor: ...` without a JavaScript stack. */
export function oneLineError(r: Run): string {
  const lines = r.stderr.trim().split('\n').filter((l) => l.startsWith('arbor: ') && !l.startsWith('arbor: tfjs backend'));
  if (lines.length !== 1) throw new Error(`expected one "arbor: " error line, got:\n${r.stderr}`);
  if (/\n\s+at .+:\d+:\d+\)?$/m.test(r.stderr)) throw new Error(`a JavaScript stack was printed:\n${r.stderr}`);
  return lines[0];
}
