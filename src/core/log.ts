/**
 * Logging and progress, on stderr only (stdout is for data).
 * Quiet by default inside the library: callers pass a Logger in.
 */
import { SingleBar } from 'cli-progress';

/** Where library code reports what it is doing. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  /** Starts a progress display for `total` units of work. */
  progress(label: string, total: number): Progress;
}

/** One progress display. */
export interface Progress {
  /** Sets the amount done and optional extra fields shown after the bar. */
  update(done: number, fields?: Record<string, string | number>): void;
  stop(): void;
}

const noProgress: Progress = { update() {}, stop() {} };

/** A logger that drops everything (the library default). */
export const silentLogger: Logger = {
  info() {},
  warn() {},
  progress() {
    return noProgress;
  },
};

/**
 * A logger writing to stderr. A progress bar is drawn only when stderr is a
 * TTY; otherwise progress is logged as occasional plain lines.
 */
export function stderrLogger(opts: { quiet?: boolean } = {}): Logger {
  const tty = Boolean(process.stderr.isTTY) && !process.env.CI;
  const write = (s: string) => process.stderr.write(s + '\n');
  return {
    info(m) {
      if (!opts.quiet) write(m);
    },
    warn(m) {
      write(`warning: ${m}`);
    },
    progress(label, total) {
      if (opts.quiet) return noProgress;
      // total 0: the size is unknown (a pipe), so plain lines showing the amount done
      if (tty && total > 0) {
        const bar = new SingleBar({
          format: `${label} [{bar}] {percentage}% {value}/{total} {extra}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
        });
        bar.start(total, 0, { extra: '' });
        return {
          update(done, fields) {
            bar.update(done, { extra: fields ? formatFields(fields) : '' });
          },
          stop() {
            bar.stop();
          },
        };
      }
      let lastPrinted = 0;
      let lastFields = '';
      const started = Date.now();
      return {
        update(done, fields) {
          lastFields = fields ? formatFields(fields) : '';
          const now = Date.now();
          if (now - lastPrinted >= 5000) {
            lastPrinted = now;
            write(`${label}: ${done}${total > 0 ? `/${total}` : ''} ${lastFields}`.trimEnd());
          }
        },
        stop() {
          write(`${label}: done in ${((Date.now() - started) / 1000).toFixed(1)} s ${lastFields}`.trimEnd());
        },
      };
    },
  };
}

function formatFields(fields: Record<string, string | number>): string {
  return Object.entries(fields)
    .map(([k, v]) => `${k}=${typeof v === 'number' ? (Number.isInteger(v) ? v : v.toPrecision(4)) : v}`)
    .join(' ');
}
