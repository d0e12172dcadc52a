/** The service's logs: JSON lines (pino) on stderr. */
import pino from 'pino';
import type { Logger as ArborLogger, Progress } from '../core/log.js';

/** A pino logger writing JSON lines synchronously to stderr (nothing is lost at exit). */
export function serveLogger(level = 'info'): pino.Logger {
  return pino({ level, timestamp: pino.stdTimeFunctions.isoTime }, pino.destination({ dest: 2, sync: true }));
}

const noProgress: Progress = { update() {}, stop() {} };

/** Library Logger calls (info/warn) as pino lines; no progress displays. */
export function asArborLogger(log: pino.Logger): ArborLogger {
  return {
    info: (m) => log.info(m),
    warn: (m) => log.warn(m),
    progress: () => noProgress,
  };
}
