/** How many worker threads arbor starts by default and at most (reads only the CPU count, so the CLI can check --workers without loading tfjs). */
import { availableParallelism } from 'node:os';

/** Default worker count: the number of CPU cores. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/**
 * Most worker threads a pool may start: twice the CPU cores. Each worker
 * holds its own copy of the model and its own tfjs backend, and beam search
 * is CPU-bound, so more threads than this only add memory and start-up time.
 */
export function maxWorkers(): number {
  return 2 * availableParallelism();
}
