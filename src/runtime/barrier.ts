/**
 * A reusable barrier for worker threads over three int32 cells of a
 * SharedArrayBuffer (arrivals, generation, abort flag), built on Atomics.
 * Every party calls `wait()`; the last to arrive starts the next generation
 * and wakes the others. `abort()` (from any thread, the main thread
 * included) wakes every waiter and makes every later `wait()` throw, so one
 * failing worker cannot leave the others blocked.
 */
import { ArborError } from '../core/errors.js';

const COUNT = 0;
const GEN = 1;
const ABORT = 2;

/** Thrown by `wait()` once the barrier was aborted. */
export class BarrierAborted extends ArborError {
  constructor() {
    super('training was aborted by another thread');
  }
}

/** A barrier for `parties` threads. */
export class Barrier {
  /** Cells for a new barrier (share them with the other threads). */
  static cells(): Int32Array {
    return new Int32Array(new SharedArrayBuffer(3 * 4));
  }

  constructor(
    readonly cells: Int32Array,
    readonly parties: number,
  ) {}

  /** Blocks until all parties have called `wait` (for this generation); throws BarrierAborted after `abort()`. */
  wait(): void {
    const c = this.cells;
    const gen = Atomics.load(c, GEN);
    if (Atomics.load(c, ABORT)) throw new BarrierAborted();
    if (Atomics.add(c, COUNT, 1) === this.parties - 1) {
      Atomics.store(c, COUNT, 0);
      Atomics.add(c, GEN, 1);
      Atomics.notify(c, GEN);
    } else {
      while (Atomics.load(c, GEN) === gen) Atomics.wait(c, GEN, gen);
    }
    if (Atomics.load(c, ABORT)) throw new BarrierAborted();
  }

  /** Wakes every waiter; this and every later `wait()` throws. */
  abort(): void {
    const c = this.cells;
    Atomics.store(c, ABORT, 1);
    Atomics.add(c, GEN, 1);
    Atomics.notify(c, GEN);
  }

  /** True once aborted. */
  get aborted(): boolean {
    return Atomics.load(this.cells, ABORT) === 1;
  }
}
