/**
 * External ids interned as bytes: a hash table from the UTF-8 bytes of an id
 * to a dense number 1, 2, 3, ... in order of first sight. Ingest looks every
 * field of every row up here, so it works on the bytes of the input buffer
 * directly (no string per field) and keeps the keys in one growing byte
 * arena: about 16 bytes plus the id's length per key, against about 80 for a
 * Map of strings.
 */
import { ArborError } from '../core/errors.js';

const EMPTY = 0;
/** Bytes an arena may hold (offsets are 32-bit). */
const MAX_ARENA = 0x7fff_ffff;

/** Dense numbers for byte strings, in order of first sight (ids start at 1). */
export class IdInterner {
  /** What the ids name, for error messages ("user", "item"). */
  readonly what: string;
  /** Number of ids interned; the last one is `size`. */
  size = 0;
  /** Key bytes of every id, back to back. */
  private arena: Uint8Array;
  private used = 0;
  /** offsets[id - 1] .. offsets[id] is the key of `id` in the arena. */
  private offsets: Int32Array;
  /** Hash of each id's key, so the table can grow without rehashing bytes. */
  private hashes: Int32Array;
  /** Open addressing, linear probing: the id in each slot (0 = empty); length a power of two. */
  private table: Int32Array;
  private mask: number;
  /** The id found or made last: rows of one user come together, so it is tried before hashing. */
  private last = 0;
  /** Scratch for encoding strings. */
  private scratch = new Uint8Array(256);
  private readonly encoder = new TextEncoder();

  /** An empty interner; `what` names the ids in errors. */
  constructor(what: string, capacity = 1024) {
    this.what = what;
    let slots = 16;
    while (slots < capacity * 2) slots *= 2;
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
    this.offsets = new Int32Array(capacity + 1);
    this.hashes = new Int32Array(capacity);
    this.arena = new Uint8Array(capacity * 8);
  }

  /** The id of the bytes `buf[start, end)`, interning them when new (the new id is then `size`). */
  intern(buf: Uint8Array, start: number, end: number): number {
    if (this.last !== 0 && this.isKey(this.last, buf, start, end)) return this.last;
    let h = 0x811c9dc5 | 0;
    for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i], 0x01000193);
    const { table, mask } = this;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = table[slot];
      if (id === EMPTY) {
        this.add(buf, start, end, h);
        return (this.last = this.size);
      }
      if (this.hashes[id - 1] === h && this.isKey(id, buf, start, end)) return (this.last = id);
    }
  }

  /** True when the key of `id` is the bytes `buf[start, end)`. */
  private isKey(id: number, buf: Uint8Array, start: number, end: number): boolean {
    const { offsets, arena } = this;
    const at = offsets[id - 1];
    const len = end - start;
    if (offsets[id] - at !== len) return false;
    for (let i = 0; i < len; i++) if (arena[at + i] !== buf[start + i]) return false;
    return true;
  }

  /** The id of the string `text` (as its UTF-8 bytes), interning it when new. */
  internString(text: string): number {
    if (text.length * 3 > this.scratch.length) this.scratch = new Uint8Array(text.length * 3);
    const { written } = this.encoder.encodeInto(text, this.scratch);
    return this.intern(this.scratch, 0, written);
  }

  /** The text of `id` (1..size). */
  text(id: number): string {
    return Buffer.from(this.arena.buffer, this.arena.byteOffset + this.offsets[id - 1], this.offsets[id] - this.offsets[id - 1]).toString('utf8');
  }

  private add(buf: Uint8Array, start: number, end: number, h: number): void {
    const len = end - start;
    const id = this.size + 1;
    if (id > this.hashes.length) this.growIds();
    if (this.used + len > this.arena.length) this.growArena(this.used + len);
    this.arena.set(buf.subarray(start, end), this.used);
    this.used += len;
    this.offsets[id] = this.used;
    this.hashes[id - 1] = h;
    this.size = id;
    if (id * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.place(id, h);
  }

  private place(id: number, h: number): void {
    let slot = h & this.mask;
    while (this.table[slot] !== EMPTY) slot = (slot + 1) & this.mask;
    this.table[slot] = id;
  }

  private rehash(slots: number): void {
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
    for (let id = 1; id <= this.size; id++) this.place(id, this.hashes[id - 1]);
  }

  private growIds(): void {
    const capacity = this.hashes.length * 2;
    const offsets = new Int32Array(capacity + 1);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const hashes = new Int32Array(capacity);
    hashes.set(this.hashes);
    this.hashes = hashes;
  }

  private growArena(needed: number): void {
    if (needed > MAX_ARENA) throw new ArborError(`too many distinct ${this.what} ids: their text exceeds ${MAX_ARENA} bytes`);
    const arena = new Uint8Array(Math.min(MAX_ARENA, Math.max(needed, this.arena.length * 2)));
    arena.set(this.arena.subarray(0, this.used));
    this.arena = arena;
  }
}
