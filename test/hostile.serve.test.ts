/**
 * Hostile requests to the HTTP service: a small batch asking for a huge
 * amount of work, batches larger than the pending-query limit, bodies that
 * are not JSON, "__proto__" keys, numbers JSON cannot hold, and startup
 * options that would start a thousand threads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import type { RetrievalResult } from '../src/beam/retriever.js';
import type { Query, RetrievalService } from '../src/runtime/retrieval-service.js';
import { openRetrievalService } from '../src/runtime/retrieval-pool.js';
import { StoreError, UsageError } from '../src/core/errors.js';
import type { Model } from '../src/model/folder.js';
import { buildApp, type ServeAppOptions } from '../src/serve/index.js';
import { buildCategoryTree } from '../src/tree/build.js';
import { plantedData } from './helpers/training.js';
import { BIN } from './helpers/spawn.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers k items per query after `delayMs`; counts queries seen and the most pending at once. */
class FakeService implements RetrievalService {
  pending = 0;
  maxSeenPending = 0;
  seen = 0;
  constructor(private readonly delayMs = 0) {}
  async retrieve(q: Query): Promise<RetrievalResult> {
    return (await this.retrieveBatch([q]))[0];
  }
  async retrieveBatch(qs: Query[]): Promise<RetrievalResult[]> {
    this.pending += qs.length;
    this.maxSeenPending = Math.max(this.maxSeenPending, this.pending);
    this.seen += qs.length;
    try {
      if (this.delayMs) await sleep(this.delayMs);
      return qs.map((q) => ({ items: Int32Array.from({ length: q.opts.k }, (_, i) => i), scores: new Float32Array(q.opts.k), pairsScored: 1 }));
    } finally {
      this.pending -= qs.length;
    }
  }
  async close(): Promise<void> {}
}

const data = plantedData({ groups: 4, groupSize: 8, users: 1, testUsers: 0, length: 2, seed: 1 });
const tree = buildCategoryTree(data.items, { branching: 2, seed: 1 });
const model: Model = {
  tree,
  manifest: {
    format: 'arbor-model', version: 1, createdAt: '2026-01-01T00:00:00.000Z', seed: 1, config: {},
    tree: { branching: 2, depth: tree.layout.depth, numItems: tree.numItems, init: 'category' }, files: {},
  },
};
const app = (service: RetrievalService, o: Partial<ServeAppOptions> = {}) =>
  buildApp({ service, model, defaults: { k: 5 }, bodyLimit: 1 << 20, maxPending: 256, maxBatch: 256, ...o });
const post = (url: string, payload: unknown, contentType = 'application/json') => ({
  method: 'POST' as const,
  url,
  headers: { 'content-type': contentType },
  payload: typeof payload === 'string' ? payload : JSON.stringify(payload),
});

test('a batch whose beams sum past the limit gets 413 before any work; within the limit it is answered', async () => {
  const s = new FakeService();
  const a = app(s, { maxBatchBeam: 1000, maxBatch: 1000, maxPending: 1000 });
  // the hostile request: many queries, each asking for the whole catalogue and more
  const huge = { queries: Array.from({ length: 200 }, () => ({ history: ['i1'], k: 10_000 })) };
  const r = await a.inject(post('/v1/retrieve:batch', huge));
  assert.equal(r.statusCode, 413);
  assert.match(r.json().error, /^queries: their beams sum to 4000000 \(each query's beam, or 2 × its k when it gives none\), over this server's limit of 1000; split the batch/);
  assert.equal(s.seen, 0);
  const ok = await a.inject(post('/v1/retrieve:batch', { queries: Array.from({ length: 50 }, () => ({ history: ['i1'], k: 5, beam: 20 })) }));
  assert.equal(ok.statusCode, 200);
  assert.equal(s.seen, 50);
  const over = await a.inject(post('/v1/retrieve:batch', { queries: Array.from({ length: 51 }, () => ({ history: ['i1'], k: 5, beam: 20 })) }));
  assert.equal(over.statusCode, 413);
});

test('pending is counted in queries: a batch that would take the service past maxPending gets 503, and /healthz never shows more', async () => {
  const s = new FakeService(100);
  const a = app(s, { maxPending: 10, maxBatch: 10 });
  const batch = (n: number) => post('/v1/retrieve:batch', { queries: Array.from({ length: n }, () => ({ history: ['i1'], k: 1 })) });
  const first = a.inject(batch(8));
  await sleep(20);
  const second = await a.inject(batch(3));
  assert.equal(second.statusCode, 503);
  assert.equal(second.headers['retry-after'], '1');
  assert.match(second.json().error, /^overloaded: 8 queries pending \(limit 10\), this batch brings 3; retry later$/);
  const fits = a.inject(batch(2));
  assert.equal((await first).statusCode, 200);
  assert.equal((await fits).statusCode, 200);
  assert.ok(s.maxSeenPending <= 10, `pending reached ${s.maxSeenPending}`);
});

test('text/plain and other non-JSON bodies get 415', async () => {
  const a = app(new FakeService());
  for (const type of ['text/plain', 'text/plain; charset=utf-8', 'application/x-www-form-urlencoded', 'application/xml']) {
    const r = await a.inject(post('/v1/retrieve', '{"history": ["i1"]}', type));
    assert.equal(r.statusCode, 415, type);
    assert.deepEqual(r.json(), { error: 'content-type: must be application/json' });
  }
  assert.equal((await a.inject(post('/v1/retrieve', { history: ['i1'] }, 'application/json; charset=utf-8'))).statusCode, 200);
});

test('"__proto__" keys are refused by name; numbers JSON cannot hold are shown as such; invalid UTF-8 is refused', async () => {
  const a = app(new FakeService());
  const proto = await a.inject(post('/v1/retrieve', '{"history": ["i1"], "__proto__": {"k": 3}}'));
  assert.equal(proto.statusCode, 400);
  assert.deepEqual(proto.json(), { error: 'body: a "__proto__" key (or "constructor" with "prototype") is not allowed' });
  const nested = await a.inject(post('/v1/retrieve:batch', '{"queries": [{"history": ["i1"], "constructor": {"prototype": {}}}]}'));
  assert.equal(nested.statusCode, 400);
  assert.match(nested.json().error, /"__proto__" key \(or "constructor" with "prototype"\)/);
  const big = await a.inject(post('/v1/retrieve', '{"history": ["i1"], "k": 1e400}'));
  assert.equal(big.statusCode, 400);
  assert.deepEqual(big.json(), { error: 'k: must be integer, got a number too large (Infinity)' });
  const bytes = Buffer.concat([Buffer.from('{"history": ["i'), Buffer.from([0xe8]), Buffer.from('"]}')]);
  const bad = await a.inject({ method: 'POST', url: '/v1/retrieve', headers: { 'content-type': 'application/json' }, payload: bytes });
  assert.equal(bad.statusCode, 400);
  assert.deepEqual(bad.json(), { error: 'body: not valid UTF-8' });
  const deep = await a.inject(post('/v1/retrieve', `{"history": ${'['.repeat(200_000)}${']'.repeat(200_000)}}`));
  assert.equal(deep.statusCode, 400);
});

test('headers over 16 KiB get a JSON 431 and the connection is closed, so a keep-alive client\'s next request works', async () => {
  const a = app(new FakeService());
  await a.listen({ port: 0, host: '127.0.0.1' });
  try {
    const url = `http://127.0.0.1:${(a.server.address() as { port: number }).port}`;
    const r = await fetch(`${url}/healthz?x=${'a'.repeat(100_000)}`);
    assert.equal(r.status, 431);
    assert.equal(r.headers.get('connection'), 'close');
    assert.deepEqual(await r.json(), { error: 'headers: the URL and headers are larger than the server accepts (16 KiB)' });
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
  } finally {
    await a.close();
  }
});

test('a store locked by another process behind "user" lookups: 503 with Retry-After, not 500', async () => {
  const locked = { history: () => { throw new StoreError('s.db', 'locked', 'store s.db is locked by another process'); } };
  const a = app(new FakeService(), { users: locked });
  const r = await a.inject(post('/v1/retrieve', { user: 'u1' }));
  assert.equal(r.statusCode, 503);
  assert.equal(r.headers['retry-after'], '1');
  assert.match(r.json().error, /^user: the store is locked by another process/);
});

test('worker counts past twice the cores are usage errors: serve exits 2 at once, the library throws UsageError', async () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--model', '/nonexistent', '--workers', '1000'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^arbor: command line: --workers must be between 0 and \d+ \(at most twice the CPU cores: each worker holds a copy of the model\), got 1000$/m);
  await assert.rejects(openRetrievalService('/nonexistent', { workers: 1000 }), UsageError);
  const batch = spawnSync(process.execPath, [BIN, 'serve', '--model', '/nonexistent', '--max-batch', '1000', '--max-pending', '256'], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(batch.status, 2);
  assert.match(batch.stderr, /--max-batch must be between 1 and 256 \(a batch counts all its queries against --max-pending/);
});
