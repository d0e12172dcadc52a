/**
 * The HTTP app in-process, over a hand-made RetrievalService that records
 * what it is asked and can be slow: id mapping both ways, filters passed on,
 * field-naming errors, load shedding (503) and draining on close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { RetrievalResult } from '../src/beam/retriever.js';
import type { Query, RetrievalService } from '../src/runtime/retrieval-service.js';
import { UsageError } from '../src/core/errors.js';
import type { Model } from '../src/model/folder.js';
import { buildApp, type ServeAppOptions } from '../src/serve/index.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { plantedData } from './helpers/training.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers the first k catalogue items with descending scores; records every query; optionally slow or failing. */
class FakeService implements RetrievalService {
  pending = 0;
  seen: Query[] = [];
  closed = false;
  /** When the last answer was produced (Date.now()). */
  answeredAt = 0;
  constructor(
    private readonly delayMs = 0,
    private readonly fail?: Error,
  ) {}
  private answer(q: Query): RetrievalResult {
    if (this.fail) throw this.fail;
    const k = q.opts.k;
    return { items: Int32Array.from({ length: k }, (_, i) => i), scores: Float32Array.from({ length: k }, (_, i) => 1 - i / 8), pairsScored: 7 };
  }
  async retrieve(q: Query): Promise<RetrievalResult> {
    return (await this.retrieveBatch([q]))[0];
  }
  async retrieveBatch(qs: Query[]): Promise<RetrievalResult[]> {
    this.pending += qs.length;
    this.seen.push(...qs);
    try {
      if (this.delayMs) await sleep(this.delayMs);
      const out = qs.map((q) => this.answer(q));
      this.answeredAt = Date.now();
      return out;
    } finally {
      this.pending -= qs.length;
    }
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

// 32 items i0..i31 in 4 categories c0..c3 (item i is in c⌊i/8⌋)
const data = plantedData({ groups: 4, groupSize: 8, users: 1, testUsers: 0, length: 2, seed: 1 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
const model: Model = {
  tree,
  manifest: {
    format: 'arbor-model',
    version: 1,
    createdAt: '2026-01-01T00:00:00.000Z',
    seed: 1,
    config: {},
    tree: { branching: 2, depth: tree.layout.depth, numItems: tree.numItems, init: 'category' },
    files: { 'tree.msgpack': 'ab' },
  },
};
const idx = (id: string) => tree.items.itemIds.indexOf(id);

function app(service: RetrievalService, o: Partial<ServeAppOptions> = {}) {
  return buildApp({ service, model, defaults: { k: 5 }, bodyLimit: 4096, maxPending: 100, maxBatch: 3, ...o });
}
const post = (url: string, payload: unknown) => ({ method: 'POST' as const, url, payload: payload as object });

test('retrieve: ids mapped in and out, unknown history ids skipped and counted, defaults applied', async () => {
  const s = new FakeService();
  const a = app(s);
  const r = await a.inject(post('/v1/retrieve', { history: ['i3', 'nope', 'i9', 12] }));
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  assert.deepEqual(Object.keys(body).sort(), ['items', 'ms', 'pairsScored', 'skippedHistory']);
  assert.equal(body.skippedHistory, 2); // "nope" and 12 (ids are strings: 12 means "12")
  assert.equal(body.pairsScored, 7);
  assert.deepEqual(body.items.map((x: { item: string }) => x.item), [0, 1, 2, 3, 4].map((i) => tree.items.itemIds[i]));
  assert.deepEqual(body.items.map((x: { score: number }) => x.score), [1, 0.875, 0.75, 0.625, 0.5]);
  assert.deepEqual([...s.seen[0].history], [idx('i3'), idx('i9')]);
  assert.deepEqual(s.seen[0].opts, { k: 5, beam: 10, excludeHistory: true });
  // k above the catalogue is clamped; an explicit beam is kept
  await a.inject(post('/v1/retrieve', { history: [], k: 50, beam: 60 }));
  assert.deepEqual(s.seen[1].opts, { k: tree.numItems, beam: 60, excludeHistory: true });
  // a server-wide default beam never goes below the request's k
  const b = app(s, { defaults: { k: 5, beam: 8 } });
  await b.inject(post('/v1/retrieve', { history: [], k: 20 }));
  assert.deepEqual(s.seen[2].opts, { k: 20, beam: 20, excludeHistory: true });
  await b.inject(post('/v1/retrieve', { history: [], k: 4 }));
  assert.deepEqual(s.seen[3].opts, { k: 4, beam: 8, excludeHistory: true });
});

test('filters are passed on: excludeHistory, categories as sorted distinct indices', async () => {
  const s = new FakeService();
  const r = await app(s).inject(post('/v1/retrieve', { history: ['i1'], k: 2, excludeHistory: true, categories: ['c2', 'c0', 'c2'] }));
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(s.seen[0].opts.excludeHistory, true);
  const want = ['c0', 'c2'].map((c) => tree.items.categoryIds.indexOf(c)).sort((x, y) => x - y);
  assert.deepEqual([...(s.seen[0].opts.categories ?? [])], want);
  const none = new FakeService();
  await app(none).inject(post('/v1/retrieve', { history: ['i1'], excludeHistory: false }));
  assert.equal(none.seen[0].opts.excludeHistory, undefined);
  assert.equal(none.seen[0].opts.categories, undefined);
});

test('history is excluded by default; a server started with --include-history includes it unless the request says', async () => {
  const s = new FakeService();
  await app(s).inject(post('/v1/retrieve', { history: ['i1'] }));
  await app(s).inject(post('/v1/retrieve:batch', { queries: [{ history: ['i1'] }, { history: ['i1'], excludeHistory: false }] }));
  assert.deepEqual(s.seen.map((q) => q.opts.excludeHistory), [true, true, undefined]);
  const inc = new FakeService();
  const a = app(inc, { defaults: { k: 5, excludeHistory: false } });
  await a.inject(post('/v1/retrieve', { history: ['i1'] }));
  await a.inject(post('/v1/retrieve', { history: ['i1'], excludeHistory: true }));
  assert.deepEqual(inc.seen.map((q) => q.opts.excludeHistory), [undefined, true]);
});

test('bad requests: 400 naming the field (and echoing the value), nothing reaches the service', async () => {
  const s = new FakeService();
  const a = app(s);
  const cases: [unknown, RegExp][] = [
    [{ history: ['i1'], k: 0 }, /^k: must be >= 1, got 0$/],
    [{ history: ['i1'], k: '5' }, /^k: must be integer, got "5"$/],
    [{ history: ['i1'], k: 2.5 }, /^k: must be integer, got 2.5$/],
    [{ history: ['i1'], k: 10001 }, /^k: must be <= 10000, got 10001$/],
    [{ history: ['i1'], k: 10, beam: 4 }, /^beam: must be >= k \(beam 4, k 10\)$/],
    [{ history: 'i1' }, /^history: must be array, got "i1"$/],
    [{ history: ['i1', { id: 2 }] }, /^history\[1\]: must be string or integer$/],
    [{ history: ['i1'], exclude_history: true }, /^exclude_history: unknown field$/],
    [{ history: ['i1'], excludeHistory: 'yes' }, /^excludeHistory: must be boolean, got "yes"$/],
    [{ history: ['i1'], categories: [] }, /^categories: must NOT have fewer than 1 items$/],
    [{ history: ['i1'], categories: ['c1', 'c9'] }, /^categories: unknown category "c9" \(the model has \d+ categories, e\.g\. "c\d+"(, "c\d+")*\)$/],
    [{}, /^history: required$/],
    [{ user: 'u1' }, /^user: this server has no store/],
    [[1, 2], /^body: must be object$/],
  ];
  for (const [payload, want] of cases) {
    const r = await a.inject(post('/v1/retrieve', payload));
    assert.equal(r.statusCode, 400, `${JSON.stringify(payload)} → ${r.body}`);
    assert.match(r.json().error, want, JSON.stringify(payload));
  }
  const broken = await a.inject({ method: 'POST', url: '/v1/retrieve', headers: { 'content-type': 'application/json' }, payload: '{"history": [' });
  assert.equal(broken.statusCode, 400);
  assert.deepEqual(broken.json(), { error: 'body: not valid JSON' });
  const big = await a.inject(post('/v1/retrieve', { history: Array.from({ length: 2000 }, (_, i) => `i${i % 32}`) }));
  assert.equal(big.statusCode, 413);
  assert.deepEqual(big.json(), { error: 'body: larger than the limit of 4096 bytes' });
  const route = await a.inject({ method: 'GET', url: '/v1/nothing' });
  assert.equal(route.statusCode, 404);
  assert.deepEqual(route.json(), { error: 'no route GET /v1/nothing' });
  assert.equal(s.seen.length, 0);
});

test('user ids: looked up in the store when there is one; unknown users get 404', async () => {
  const s = new FakeService();
  const users = { history: (u: string) => (u === 'u7' ? { items: Int32Array.from([idx('i4'), idx('i5')]), skipped: 0 } : undefined) };
  const a = app(s, { users });
  const r = await a.inject(post('/v1/retrieve', { user: 'u7', k: 1 }));
  assert.equal(r.statusCode, 200, r.body);
  assert.deepEqual([...s.seen[0].history], [idx('i4'), idx('i5')]);
  const unknown = await a.inject(post('/v1/retrieve', { user: 'u8' }));
  assert.equal(unknown.statusCode, 404);
  assert.deepEqual(unknown.json(), { error: 'user: "u8" is not in the store' });
  const both = await a.inject(post('/v1/retrieve', { user: 'u7', history: ['i1'] }));
  assert.equal(both.statusCode, 400);
  assert.match(both.json().error, /^user: give either "history" or "user", not both$/);
});

test('batch: results in order, errors name the query, the batch size is bounded', async () => {
  const s = new FakeService();
  const a = app(s);
  const r = await a.inject(post('/v1/retrieve:batch', { queries: [{ history: ['i1'], k: 1 }, { history: ['x', 'i2'], k: 3, categories: ['c3'] }] }));
  assert.equal(r.statusCode, 200, r.body);
  const body = r.json();
  assert.deepEqual(body.results.map((x: { items: unknown[] }) => x.items.length), [1, 3]);
  assert.deepEqual(body.results.map((x: { skippedHistory: number }) => x.skippedHistory), [0, 1]);
  assert.ok(typeof body.ms === 'number');
  assert.deepEqual([...(s.seen[1].opts.categories ?? [])], [tree.items.categoryIds.indexOf('c3')]);
  const bad = await a.inject(post('/v1/retrieve:batch', { queries: [{ history: [] }, { history: [], categories: ['zz'] }] }));
  assert.equal(bad.statusCode, 400);
  assert.match(bad.json().error, /^queries\[1\]\.categories: unknown category "zz" \(the model has \d+ categories/);
  const badType = await a.inject(post('/v1/retrieve:batch', { queries: [{ history: [] }, { history: [], beam: -1 }] }));
  assert.deepEqual(badType.json(), { error: 'queries[1].beam: must be >= 1, got -1' });
  const tooMany = await a.inject(post('/v1/retrieve:batch', { queries: [{ history: [] }, { history: [] }, { history: [] }, { history: [] }] }));
  assert.equal(tooMany.statusCode, 400);
  assert.deepEqual(tooMany.json(), { error: 'queries: must NOT have more than 3 items' });
  const missing = await a.inject(post('/v1/retrieve:batch', { history: [] }));
  assert.deepEqual(missing.json(), { error: 'queries: required' });
  assert.equal(s.seen.length, 2);
});

test('service errors: a usage error is a 400, anything else a 500 without internals', async () => {
  const usage = await app(new FakeService(0, new UsageError('beam must be a positive integer, got 0'))).inject(post('/v1/retrieve', { history: [] }));
  assert.equal(usage.statusCode, 400);
  assert.deepEqual(usage.json(), { error: 'beam must be a positive integer, got 0' });
  const boom = await app(new FakeService(0, new Error('tensor disposed'))).inject(post('/v1/retrieve', { history: [] }));
  assert.equal(boom.statusCode, 500);
  assert.deepEqual(boom.json(), { error: 'internal error (see the server log)' });
});

test('GET /healthz and /v1/model', async () => {
  const a = app(new FakeService());
  const h = await a.inject({ method: 'GET', url: '/healthz' });
  assert.deepEqual(h.json(), { status: 'ok', pending: 0 });
  const m = (await a.inject({ method: 'GET', url: '/v1/model' })).json();
  assert.equal(m.format, 'arbor-model');
  assert.deepEqual(m.tree, model.manifest.tree);
  assert.equal(m.categories, 4);
  assert.deepEqual(m.files, { 'tree.msgpack': 'ab' });
});

/** Resolves once `cond()` holds (checked every few ms), failing after 5 s. */
async function until(cond: () => boolean): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > 5000) throw new Error('condition not reached in 5 s');
    await sleep(2);
  }
}

test('overload: 503 with retry-after once maxPending queries wait, 200 again when they are answered', async () => {
  const s = new FakeService(150);
  const a = app(s, { maxPending: 3 });
  const slow = [a.inject(post('/v1/retrieve', { history: [] })), a.inject(post('/v1/retrieve:batch', { queries: [{ history: [] }, { history: [] }] }))];
  await until(() => s.pending === 3);
  const shed = await a.inject(post('/v1/retrieve', { history: [] }));
  assert.equal(shed.statusCode, 503);
  assert.equal(shed.headers['retry-after'], '1');
  assert.deepEqual(shed.json(), { error: 'overloaded: 3 queries pending (limit 3); retry later' });
  const shedBatch = await a.inject(post('/v1/retrieve:batch', { queries: [{ history: [] }] }));
  assert.equal(shedBatch.statusCode, 503);
  assert.equal((await a.inject({ method: 'GET', url: '/healthz' })).json().pending, 3);
  for (const r of await Promise.all(slow)) assert.equal(r.statusCode, 200);
  assert.equal((await a.inject(post('/v1/retrieve', { history: [] }))).statusCode, 200);
  assert.equal(s.seen.length, 4);
});

test('close drains: requests in flight over real sockets are answered, then new connections are refused', async () => {
  const s = new FakeService(300);
  const a = app(s);
  await a.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(a.server.address() as AddressInfo).port}`;
  const ask = () => fetch(`${url}/v1/retrieve`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ history: ['i1'], k: 2 }) });
  const inFlight = [ask(), ask()];
  await until(() => s.pending === 2);
  let closedAt = 0;
  const closing = a.close().then(() => (closedAt = Date.now()));
  const answers = await Promise.all(inFlight);
  const receivedAt = Date.now();
  for (const r of answers) {
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { items: unknown[] }).items.length, 2);
  }
  await closing;
  assert.ok(closedAt >= s.answeredAt, 'close resolved before the service answered the requests in flight');
  // keep-alive connections were told to close, so close() did not wait for their timeout
  assert.ok(Date.now() - receivedAt < 2000, `close took ${Date.now() - receivedAt} ms after the answers`);
  await assert.rejects(ask());
});
