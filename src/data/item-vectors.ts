/**
 * Dense item side vectors (image or text embeddings computed elsewhere) read
 * from a JSON-lines file: one object a line, `{"item": "<external item id>",
 * "vector": [x1, x2, ...]}`; every vector has the same length; blank lines
 * are skipped. A malformed line, a non-finite value, a length that differs
 * from the first line's, or an id given twice stops the read with the file,
 * line and value named. Ids the catalogue lacks are counted (the caller warns);
 * catalogue items without a vector are counted too (the scorer gives them a
 * learned default vector).
 */
import { readFileSync } from 'node:fs';
import { ArborError, InputError } from '../core/errors.js';
import { fileError } from '../core/fs-errors.js';
import { preview } from '../core/preview.js';
import { decodeUtf8 } from './files.js';

/** Vectors laid out in catalogue order. */
export interface ItemVectors {
  /** The file they came from. */
  file: string;
  /** Length of every vector. */
  dim: number;
  /** [numItems, dim], zeros where `has` is 0. */
  data: Float32Array;
  /** 1 for catalogue items that have a vector. */
  has: Uint8Array;
  /** Catalogue items with a vector. */
  matched: number;
  /** Lines whose id is not in the catalogue (skipped). */
  unknownIds: number;
  /** Up to five of those ids, for the warning. */
  unknownExamples: string[];
}

/** Reads `file` and lays its vectors out for the catalogue `itemIds` (index = item). */
export function readItemVectors(file: string, itemIds: readonly string[]): ItemVectors {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw fileError('read', file, e, 'cannot read item vectors');
  }
  const text = decodeUtf8(file, bytes);
  const index = new Map<string, number>();
  itemIds.forEach((id, i) => index.set(id, i));
  const seen = new Set<string>();
  let dim = -1;
  let data = new Float32Array(0);
  const has = new Uint8Array(itemIds.length);
  let matched = 0;
  let unknownIds = 0;
  const unknownExamples: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    const no = i + 1;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch {
      throw new InputError(file, no, 'not valid JSON', line);
    }
    const o = doc as { item?: unknown; vector?: unknown };
    if (!o || typeof o !== 'object' || (typeof o.item !== 'string' && typeof o.item !== 'number') || !Array.isArray(o.vector)) {
      throw new InputError(file, no, 'expected {"item": "id", "vector": [numbers]}', line);
    }
    const id = String(o.item);
    const vec = o.vector as unknown[];
    if (vec.length === 0) throw new InputError(file, no, 'empty vector', line);
    const bad = vec.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
    if (bad >= 0) throw new InputError(file, no, `vector value ${bad} is not a finite number`, preview(vec[bad]));
    if (dim < 0) {
      dim = vec.length;
      data = new Float32Array(itemIds.length * dim);
    } else if (vec.length !== dim) {
      throw new InputError(file, no, `vector of item ${id} has ${vec.length} values, the first line's has ${dim}`, line);
    }
    if (seen.has(id)) throw new InputError(file, no, 'item id given twice', id);
    seen.add(id);
    const it = index.get(id);
    if (it === undefined) {
      unknownIds++;
      if (unknownExamples.length < 5) unknownExamples.push(id);
      continue;
    }
    data.set(vec as number[], it * dim);
    has[it] = 1;
    matched++;
  }
  if (dim < 0) throw new ArborError(`item vectors ${file} holds no vectors`);
  return { file, dim, data, has, matched, unknownIds, unknownExamples };
}
