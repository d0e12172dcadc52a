/**
 * Implicit complete k-ary tree layout. Nodes are numbered level by level
 * ("codes"): the root is 0, the children of c are k·c+1 … k·c+k, the parent of
 * c is ⌊(c−1)/k⌋. All leaves sit on the last level, `depth`.
 */
import { UsageError } from '../core/errors.js';

/** Geometry of a complete k-ary tree; pure arithmetic, no storage. */
export class TreeLayout {
  /** Children per node (>= 2). */
  readonly branching: number;
  /** Level of the leaves (root is level 0). */
  readonly depth: number;
  /** Code of the first node of each level, plus one past the end (length depth+2). */
  readonly levelStarts: number[];

  constructor(branching: number, depth: number) {
    if (!Number.isInteger(branching) || branching < 2) {
      throw new UsageError(`branching must be an integer >= 2, got ${JSON.stringify(branching)}`);
    }
    if (!Number.isInteger(depth) || depth < 1) throw new UsageError(`tree depth must be >= 1, got ${depth}`);
    if (Math.pow(branching, depth + 1) > 2 ** 31) {
      throw new UsageError(`a tree with branching ${branching} and depth ${depth} has too many nodes`);
    }
    this.branching = branching;
    this.depth = depth;
    this.levelStarts = [];
    let start = 0;
    let size = 1;
    for (let l = 0; l <= depth + 1; l++) {
      this.levelStarts.push(start);
      start += size;
      size *= branching;
    }
  }

  /** The smallest layout whose last level has room for `numItems` leaves. */
  static forItems(numItems: number, branching: number): TreeLayout {
    if (!Number.isInteger(branching) || branching < 2) {
      throw new UsageError(`branching must be an integer >= 2, got ${JSON.stringify(branching)}`);
    }
    if (!Number.isInteger(numItems) || numItems < 2) {
      throw new UsageError(`a tree needs at least 2 items, got ${numItems}`);
    }
    let depth = 1;
    let cap = branching;
    while (cap < numItems) {
      cap *= branching;
      depth++;
    }
    return new TreeLayout(branching, depth);
  }

  /** Total number of node codes. */
  get numNodes(): number {
    return this.levelStarts[this.depth + 1];
  }

  /** Number of internal (non-leaf) node codes: every code below this is internal. */
  get numInternal(): number {
    return this.levelStarts[this.depth];
  }

  /** Number of leaf slots on the last level. */
  get numLeaves(): number {
    return this.levelSize(this.depth);
  }

  /** Nodes on level `l`. */
  levelSize(l: number): number {
    return this.levelStarts[l + 1] - this.levelStarts[l];
  }

  /** Level of a node code. */
  level(code: number): number {
    let l = 0;
    while (code >= this.levelStarts[l + 1]) l++;
    return l;
  }

  /** Parent code (−1 for the root). */
  parent(code: number): number {
    return code === 0 ? -1 : Math.floor((code - 1) / this.branching);
  }

  /** Code of the first child. */
  firstChild(code: number): number {
    return code * this.branching + 1;
  }

  /** Leaf code of leaf slot `i` (0-based position on the last level). */
  leafCode(slot: number): number {
    return this.levelStarts[this.depth] + slot;
  }

  /** Ancestor of a node at level `l` (<= the node's level). */
  ancestorAt(code: number, codeLevel: number, l: number): number {
    let c = code;
    for (let i = codeLevel; i > l; i--) c = Math.floor((c - 1) / this.branching);
    return c;
  }
}
