/**
 * The check that orders `auto`'s side sources (checkSources): on rows that
 * follow a planted group, the source that agrees with the groups (faithful
 * side vectors, or faithful category labels) rebuilds the trained rows
 * better and goes first; without vectors there is nothing to check.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Rng } from '../src/core/rng.js';
import { AUTO_ORDER, autoOrder, checkSources, type InitInputs } from '../src/model/item-init.js';

const DIM = 8;
const VDIM = 6;
const GROUPS = 6;
const ITEMS = 240;

/** Old items in planted groups: rows and (when faithful) vectors near their group's centre, labels the group (or random). */
function inputs(o: { faithfulLabels: boolean; faithfulVectors: boolean; seed: number }): InitInputs {
  const rng = new Rng(o.seed);
  const centre = Array.from({ length: GROUPS }, () => Array.from({ length: DIM }, () => rng.normal()));
  const vcentre = Array.from({ length: GROUPS }, () => Array.from({ length: VDIM }, () => rng.normal()));
  const oldRows = new Float32Array(ITEMS * DIM);
  const oldCategory = new Int32Array(ITEMS);
  const old = new Float32Array(ITEMS * VDIM);
  for (let i = 0; i < ITEMS; i++) {
    const g = i % GROUPS;
    for (let j = 0; j < DIM; j++) oldRows[i * DIM + j] = centre[g][j] + 0.3 * rng.normal();
    oldCategory[i] = o.faithfulLabels ? g : rng.int(GROUPS);
    for (let j = 0; j < VDIM; j++) old[i * VDIM + j] = o.faithfulVectors ? vcentre[g][j] + 0.3 * rng.normal() : rng.normal();
  }
  return {
    oldRows,
    dim: DIM,
    oldCategory,
    newCategory: new Int32Array(0),
    vectors: { dim: VDIM, old, oldHas: new Uint8Array(ITEMS).fill(1), new: new Float32Array(0), newHas: new Uint8Array(0) },
  };
}

it('the side source that agrees with the trained rows goes first', () => {
  const wrongLabels = checkSources(inputs({ faithfulLabels: false, faithfulVectors: true, seed: 1 }))!;
  assert.equal(wrongLabels.first, 'vectors');
  assert.ok(wrongLabels.vectors > wrongLabels.category + 0.3, JSON.stringify(wrongLabels));
  assert.deepEqual(autoOrder(wrongLabels), ['events', 'vectors', 'category']);
  const wrongVectors = checkSources(inputs({ faithfulLabels: true, faithfulVectors: false, seed: 2 }))!;
  assert.equal(wrongVectors.first, 'category');
  assert.ok(wrongVectors.category > wrongVectors.vectors + 0.3, JSON.stringify(wrongVectors));
  assert.deepEqual(autoOrder(wrongVectors), ['events', 'category', 'vectors']);
  assert.equal(wrongVectors.items, ITEMS);
  // at most maxItems, spread over the catalogue, and the same answer each time
  const few = checkSources(inputs({ faithfulLabels: true, faithfulVectors: false, seed: 2 }), 50)!;
  assert.equal(few.items, 50);
  assert.equal(few.first, 'category');
  assert.deepEqual(checkSources(inputs({ faithfulLabels: true, faithfulVectors: false, seed: 2 }), 50), few);
});

it('without vectors, or without an item to compare on, auto keeps its fixed order', () => {
  const x = inputs({ faithfulLabels: true, faithfulVectors: true, seed: 3 });
  assert.equal(checkSources({ ...x, vectors: undefined }), undefined);
  assert.equal(checkSources({ ...x, vectors: { ...x.vectors!, oldHas: new Uint8Array(ITEMS) } }), undefined);
  // every category a singleton: no category mean without the item itself
  assert.equal(checkSources({ ...x, oldCategory: Int32Array.from({ length: ITEMS }, (_, i) => i) }), undefined);
  assert.deepEqual(autoOrder(undefined), [...AUTO_ORDER]);
});
