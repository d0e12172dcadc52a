/**
 * Runs a program as a child process and measures it as a user would see it:
 * wall-clock seconds from spawn to exit, and peak resident memory (the
 * kernel's VmHWM of the child, read from /proc every 20 ms, so a peak in
 * the last 20 ms before exit can be missed; 0 where /proc does not exist).
 */
import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';

/** What one run of a program did. */
export interface ProcessRun {
  seconds: number;
  /** Peak resident set size, MiB. */
  peakRssMiB: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Options of {@link measureProcess}. */
export interface MeasureOptions {
  /** Text written to the child's standard input (a pipe), then closed. */
  input?: string;
  /** A file streamed into the child's standard input through a pipe. */
  inputFile?: string;
  cwd?: string;
  /** Also copy the child's standard error to this process's as it comes (progress of long steps). */
  echoStderr?: boolean;
}

/** The VmHWM of process `pid` in KiB, or 0 when it cannot be read. */
function peakKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Runs `command args` to its end; see the module comment. */
export function measureProcess(command: string, args: string[], o: MeasureOptions = {}): Promise<ProcessRun> {
  return new Promise((resolvePromise, reject) => {
    const t0 = performance.now();
    const child = spawn(command, args, { cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let peak = 0;
    const poll = setInterval(() => {
      if (child.pid !== undefined) peak = Math.max(peak, peakKiB(child.pid));
    }, 20);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => {
      err.push(b);
      if (o.echoStderr) process.stderr.write(b);
    });
    child.stdin.on('error', () => {
      // the child may exit before reading all its input; its exit code tells
    });
    if (o.inputFile !== undefined) createReadStream(o.inputFile).pipe(child.stdin);
    else child.stdin.end(o.input ?? '');
    child.on('error', (e) => {
      clearInterval(poll);
      reject(e);
    });
    child.on('exit', (code) => {
      const seconds = (performance.now() - t0) / 1000;
      clearInterval(poll);
      child.on('close', () =>
        resolvePromise({
          seconds,
          peakRssMiB: peak / 1024,
          code,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        }),
      );
    });
  });
}

/** The median of `xs` (NaN for none). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
