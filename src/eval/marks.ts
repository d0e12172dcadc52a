/** Sets of item indices over a fixed catalogue, and helpers over item lists. */
import { UsageError } from '../core/errors.js';

/** A set of item indices in [0, numItems) that clears in O(1) (generation stamps). */
export class ItemMarks {
  private readonly stamps: Uint32Array;
  private generation = 1;

  /** An empty set over a catalogue of `numItems` items. */
  constructor(numItems: number) {
    this.stamps = new Uint32Array(numItems);
  }

  /** Empties the set. */
  clear(): void {
    this.generation++;
    if (this.generation === 0xffffffff) {
      this.stamps.fill(0);
      this.generation = 1;
    }
  }

  /** Adds an item. */
  add(item: number): void {
    this.stamps[item] = this.generation;
  }

  /** True when the item is in the set. */
  has(item: number): boolean {
    return this.stamps[item] === this.generation;
  }
}

/**
 * The distinct items of a time-ordered list, most recent first, at most `cap`
 * of them. Clears `marks` and leaves exactly the returned items in it.
 */
export function recentDistinct(items: Int32Array, cap: number, marks: ItemMarks): Int32Array {
  marks.clear();
  const out: number[] = [];
  for (let i = items.length - 1; i >= 0 && out.length < cap; i--) {
    const item = items[i];
    if (!marks.has(item)) {
      marks.add(item);
      out.push(item);
    }
  }
  return Int32Array.from(out);
}

/** Throws a UsageError naming `where` unless every item index lies in [0, numItems). */
export function assertItemIndices(items: Int32Array, numItems: number, where: string): void {
  for (const item of items) {
    if (item < 0 || item >= numItems) {
      throw new UsageError(`${where}: item index ${item} is outside the catalogue of ${numItems} items`);
    }
  }
}
