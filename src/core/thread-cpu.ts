/**
 * CPU time of the calling thread (Linux: /proc/thread-self/stat, user +
 * system, in clock ticks of 10 ms), for telling how much of a thread's wall
 * time it actually ran on a core when the machine is shared. Undefined where
 * /proc is not available.
 */
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's times (USER_HZ, 100 on Linux). */
const TICKS = 100;

/** Seconds of CPU the calling thread has used, or undefined when unknown. */
export function threadCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // fields after the parenthesised command name: state is field 3, utime 14, stime 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    return Number.isFinite(utime) && Number.isFinite(stime) ? (utime + stime) / TICKS : undefined;
  } catch {
    return undefined;
  }
}
