/**
 * The tree file (`tree.msgpack`): msgpackr with typed arrays kept typed.
 * Layout: `{ header: { format: "arbor-tree", version, branching, depth,
 * numItems, seed, init }, itemLeaf, itemIds, itemCategory, categoryIds }`.
 */
import { readFileSync } from 'node:fs';
import { Packr } from 'msgpackr';
import { ModelFormatError } from '../core/errors.js';
import { TreeLayout } from './layout.js';
import { Tree, type TreeInit } from './tree.js';

/** Format name in the header. */
export const TREE_FORMAT = 'arbor-tree';
/** Current tree file version. */
export const TREE_VERSION = 1;

const packr = new Packr({ moreTypes: true, useRecords: false });

/** Serialises a tree to bytes. */
export function encodeTree(tree: Tree): Buffer {
  return packr.pack({
    header: {
      format: TREE_FORMAT,
      version: TREE_VERSION,
      branching: tree.layout.branching,
      depth: tree.layout.depth,
      numItems: tree.numItems,
      seed: tree.meta.seed,
      init: tree.meta.init,
    },
    itemLeaf: tree.itemLeaf,
    itemIds: tree.items.itemIds,
    itemCategory: tree.items.itemCategory,
    categoryIds: tree.items.categoryIds,
  });
}

/** Parses and validates tree bytes; `file` names the source in errors. */
export function decodeTree(bytes: Uint8Array, file: string): Tree {
  let doc: Record<string, unknown>;
  try {
    doc = packr.unpack(bytes) as Record<string, unknown>;
  } catch (e) {
    throw new ModelFormatError(file, `not a readable tree file (${(e as Error).message})`);
  }
  const h = (doc && typeof doc === 'object' ? doc.header : undefined) as Record<string, unknown> | undefined;
  if (!h || h.format !== TREE_FORMAT) throw new ModelFormatError(file, `not an arbor tree file (format ${JSON.stringify(h?.format)})`);
  if (h.version !== TREE_VERSION) throw new ModelFormatError(file, `tree file version ${JSON.stringify(h.version)} is not supported (expected ${TREE_VERSION})`);
  const { branching, depth, numItems } = h as { branching: number; depth: number; numItems: number };
  const itemLeaf = doc.itemLeaf;
  const itemCategory = doc.itemCategory;
  const itemIds = doc.itemIds;
  const categoryIds = doc.categoryIds;
  if (!(itemLeaf instanceof Int32Array) || itemLeaf.length !== numItems) throw new ModelFormatError(file, `itemLeaf must be ${numItems} int32 values`);
  if (!(itemCategory instanceof Int32Array) || itemCategory.length !== numItems) throw new ModelFormatError(file, `itemCategory must be ${numItems} int32 values`);
  if (!Array.isArray(itemIds) || itemIds.length !== numItems) throw new ModelFormatError(file, `itemIds must list ${numItems} ids`);
  if (!Array.isArray(categoryIds)) throw new ModelFormatError(file, 'categoryIds must be a list');
  checkIds(file, 'itemIds', itemIds);
  checkIds(file, 'categoryIds', categoryIds);
  if (!TREE_INITS.includes(h.init as TreeInit)) throw new ModelFormatError(file, `init must be one of ${TREE_INITS.join(', ')}, got ${JSON.stringify(h.init)}`);
  if (typeof h.seed !== 'number' || !Number.isFinite(h.seed)) throw new ModelFormatError(file, `seed must be a number, got ${JSON.stringify(h.seed)}`);
  for (const c of itemCategory) {
    if (c < -1 || c >= categoryIds.length) throw new ModelFormatError(file, `item category ${c} outside 0..${categoryIds.length - 1}`);
  }
  try {
    const layout = new TreeLayout(branching, depth);
    if (layout.numLeaves < numItems) throw new Error(`${numItems} items do not fit in ${layout.numLeaves} leaves`);
    const fit = TreeLayout.forItems(numItems, branching).depth;
    if (depth !== fit) throw new Error(`depth ${depth}, but ${numItems} items with branching ${branching} need depth ${fit}`);
    return new Tree(layout, { itemIds: itemIds as string[], itemCategory, categoryIds: categoryIds as string[] }, itemLeaf, {
      init: h.init as TreeInit,
      seed: h.seed as number,
    });
  } catch (e) {
    throw new ModelFormatError(file, `inconsistent tree: ${(e as Error).message}`);
  }
}

const TREE_INITS: readonly TreeInit[] = ['category', 'random', 'kmeans', 'learned'];

/** Ids must be distinct strings (two equal ids would make one of the two unreachable by id). */
function checkIds(file: string, name: string, ids: unknown[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (typeof id !== 'string') throw new ModelFormatError(file, `${name}[${i}] must be a string, got ${typeof id}`);
    if (seen.has(id)) throw new ModelFormatError(file, `${name}[${i}] repeats the id ${JSON.stringify(id)}`);
    seen.add(id);
  }
}

/** Reads a tree file. */
export function readTree(file: string): Tree {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ModelFormatError(file, `cannot read tree file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return decodeTree(bytes, file);
}
