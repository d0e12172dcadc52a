/**
 * `arbor serve` spawned as a user would run it, on a free loopback port, over
 * a tiny model trained here: valid, malformed, oversized and concurrent
 * requests, answers equal to `arbor retrieve`, JSON-lines logs, and SIGTERM
 * draining a request in flight before exiting 0.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, generateSynthetic } from '../src/data/index.js';
import { createModelFolder, trainModelFolder } from '../src/pipeline/ops.js';
import { initBackend } from '../src/scorer/backend.js';
import { tempDir } from './helpers/training.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'arbor.js');
const { dir, cleanup } = tempDir('serve');
const db = join(dir, 'a.db');
const model = join(dir, 'model');

interface Server {
  url: string;
  proc: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

/** Spawns `arbor serve` on port 0 and waits for its `{"url", "port"}` line on stdout. */
function serve(args: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [bin, 'serve', '--model', model, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  return new Promise((resolve, reject) => {
    proc.stdout!.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) resolve({ url: JSON.parse(out.slice(0, nl)).url, proc, stderr: () => err, exit });
    });
    exit.then((code) => reject(new Error(`arbor serve exited ${code} before listening: ${err}`)));
  });
}

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
async function call(url: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(url, typeof body === 'string' ? { method: 'POST', headers: { 'content-type': 'application/json' }, body } : json(body));
  return { status: r.status, body: await r.json() };
}
const itemsOf = (r: { items: { item: string }[] }) => r.items.map((x) => x.item);

let itemIds: string[] = [];
let server: Server;

before(async () => {
  await initBackend();
  const store = Store.open(db);
  try {
    const ds = generateSynthetic({ items: 300, users: 120, seed: 5 });
    store.insertDataset(ds, 'synthetic');
    itemIds = store.catalogue().itemIds;
    await createModelFolder(store, model, { init: 'category', branching: 2, seed: 5 });
    await trainModelFolder(store, model, { train: { epochs: 1, maxSamplesPerEpoch: 1500 }, embDim: 8, seed: 5, hierarchical: false });
  } finally {
    store.close();
  }
  server = await serve(['--db', db, '--body-limit', '4096', '--max-batch', '2000', '--max-pending', '2000', '-k', '10']);
});

after(async () => {
  if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
  cleanup();
});

test('valid requests: the same answer as `arbor retrieve`; users from the store; health and model summary', async () => {
  const history = itemIds.slice(20, 26);
  const r = await call(`${server.url}/v1/retrieve`, { history: [...history, 'not-an-item'], k: 7, beam: 20 });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.items.length, 7);
  assert.equal(r.body.skippedHistory, 1);
  assert.ok(r.body.pairsScored > 0 && r.body.ms >= 0);
  const cli = spawnSync(process.execPath, [bin, 'retrieve', '--model', model, '--history', history.join(','), '-k', '7', '--beam', '20', '--json'], { encoding: 'utf8' });
  assert.equal(cli.status, 0, cli.stderr);
  const want = JSON.parse(cli.stdout);
  assert.deepEqual(r.body.items, want.items);
  assert.equal(r.body.pairsScored, want.pairsScored);

  const dflt = await call(`${server.url}/v1/retrieve`, { history });
  assert.equal(dflt.body.items.length, 10, 'the server default -k 10 applies');
  const u = await call(`${server.url}/v1/retrieve`, { user: 'u3', k: 5 });
  assert.equal(u.status, 200, JSON.stringify(u.body));
  assert.equal(u.body.items.length, 5);
  const nobody = await call(`${server.url}/v1/retrieve`, { user: 'nobody' });
  assert.equal(nobody.status, 404);
  assert.deepEqual(nobody.body, { error: 'user: "nobody" is not in the store' });

  const health = await (await fetch(`${server.url}/healthz`)).json();
  assert.deepEqual(health, { status: 'ok', pending: 0 });
  const m = (await (await fetch(`${server.url}/v1/model`)).json()) as { format: string; tree: { numItems: number }; training: { epochs: number } };
  assert.equal(m.format, 'arbor-model');
  assert.equal(m.tree.numItems, itemIds.length);
  assert.equal(m.training.epochs, 1);
});

test('malformed and oversized requests: 400 naming the field, 413 over --body-limit; the server keeps serving', async () => {
  const url = `${server.url}/v1/retrieve`;
  assert.deepEqual(await call(url, '{"history": ['), { status: 400, body: { error: 'body: not valid JSON' } });
  assert.deepEqual(await call(url, { history: ['i1'], k: -3 }), { status: 400, body: { error: 'k: must be >= 1, got -3' } });
  assert.deepEqual(await call(url, { histroy: ['i1'] }), { status: 400, body: { error: 'histroy: unknown field' } });
  const badCategory = await call(url, { history: ['i1'], categories: ['no-such-category'] });
  assert.equal(badCategory.status, 400);
  assert.match((badCategory.body as { error: string }).error, /^categories: unknown category "no-such-category" \(the model has \d+ categories, e\.g\. /);
  assert.deepEqual(await call(url, { history: Array.from({ length: 1000 }, (_, i) => itemIds[i % itemIds.length]) }), {
    status: 413,
    body: { error: 'body: larger than the limit of 4096 bytes' },
  });
  const text = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<q/>' });
  assert.equal(text.status, 415);
  assert.deepEqual(await text.json(), { error: 'content-type: must be application/json' });
  assert.equal((await call(url, { history: itemIds.slice(0, 3) })).status, 200);
});

test('concurrent requests: every answer equals the one given alone; batch answers equal single ones', async () => {
  const queries = Array.from({ length: 40 }, (_, i) => ({ history: itemIds.slice(i * 5, i * 5 + 1 + (i % 7)), k: 5 + (i % 4), beam: 16 }));
  const alone = [];
  for (const q of queries) alone.push(await call(`${server.url}/v1/retrieve`, q));
  const together = await Promise.all(queries.map((q) => call(`${server.url}/v1/retrieve`, q)));
  for (let i = 0; i < queries.length; i++) {
    assert.equal(together[i].status, 200);
    assert.deepEqual(together[i].body.items, alone[i].body.items, `query ${i}`);
  }
  const batch = await call(`${server.url}/v1/retrieve:batch`, { queries });
  assert.equal(batch.status, 200);
  assert.deepEqual(
    batch.body.results.map((r: { items: unknown }) => r.items),
    alone.map((a) => a.body.items),
  );
  assert.ok(new Set(alone.map((a) => itemsOf(a.body).join())).size > 1, 'different histories should not all get the same answer');
});

test('overload on the worker pool: past --max-pending, requests get 503 with Retry-After; the rest are answered', async () => {
  const busy = await serve(['--workers', '1', '--max-pending', '2']);
  try {
    const q = { history: itemIds.slice(0, 30), k: 200, beam: 300 };
    const answers = await Promise.all(
      Array.from({ length: 60 }, async () => {
        const r = await fetch(`${busy.url}/v1/retrieve`, json(q));
        return { status: r.status, retry: r.headers.get('retry-after'), body: (await r.json()) as { error?: string; items?: unknown[] } };
      }),
    );
    const ok = answers.filter((a) => a.status === 200);
    const shed = answers.filter((a) => a.status === 503);
    assert.equal(ok.length + shed.length, answers.length, `only 200 and 503 expected: ${answers.map((a) => a.status)}`);
    assert.ok(ok.length > 0 && shed.length > 0, `expected both answers and 503s, got ${ok.length} and ${shed.length}`);
    for (const a of shed) {
      assert.equal(a.retry, '1');
      assert.match(a.body.error!, /overloaded/);
    }
    for (const a of ok) assert.equal(a.body.items!.length, 200);
  } finally {
    busy.proc.kill('SIGTERM');
    assert.equal(await busy.exit, 0);
  }
});

test('logs are JSON lines on stderr, one per request', () => {
  const lines = server.stderr().trim().split('\n');
  const docs = lines.map((l) => JSON.parse(l) as { msg: string; url?: string; statusCode?: number });
  assert.ok(docs.some((d) => d.msg === 'serving'));
  assert.ok(docs.some((d) => d.msg === 'request' && d.url === '/v1/retrieve' && d.statusCode === 413));
});

test('SIGTERM drains: a batch in flight still gets its answer, new connections are refused, exit 0', async () => {
  const queries = Array.from({ length: 1500 }, (_, i) => ({ history: itemIds.slice(i % 250, (i % 250) + 8), k: 10, beam: 40 }));
  server.proc.kill('SIGKILL');
  server = await serve(['--max-batch', '2000', '--max-pending', '2000']);
  const t0 = Date.now();
  const pending = call(`${server.url}/v1/retrieve:batch`, { queries });
  await new Promise((r) => setTimeout(r, 150));
  server.proc.kill('SIGTERM');
  const r = await pending;
  assert.equal(r.status, 200);
  assert.equal(r.body.results.length, queries.length);
  assert.ok(r.body.ms > 150, `the batch took ${r.body.ms} ms: too short to have been in flight at SIGTERM (${Date.now() - t0} ms)`);
  assert.equal(await server.exit, 0, server.stderr());
  const msgs = server.stderr().trim().split('\n').map((l) => JSON.parse(l).msg);
  assert.ok(msgs.indexOf('draining: no new connections, finishing requests in flight') >= 0);
  assert.equal(msgs[msgs.length - 1], 'stopped');
  await assert.rejects(fetch(`${server.url}/healthz`));
});

test('startup errors: bad options exit 2, a missing model or a busy port exit 1, with the reason on stderr', async () => {
  const run = (args: string[]) => spawnSync(process.execPath, [bin, 'serve', ...args], { encoding: 'utf8', timeout: 60_000 });
  const badPort = run(['--model', model, '--port', '70000']);
  assert.equal(badPort.status, 2);
  assert.match(badPort.stderr, /--port must be between 0 and 65535, got 70000/);
  const badBeam = run(['--model', model, '-k', '20', '--beam', '10']);
  assert.equal(badBeam.status, 2);
  assert.match(badBeam.stderr, /--beam must be between 20 and 100000, got 10/);
  const noModel = run(['--model', join(dir, 'none'), '--port', '0']);
  assert.equal(noModel.status, 1);
  assert.match(noModel.stderr, /model folder does not exist/);
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as { port: number }).port;
  try {
    const taken = run(['--model', model, '--port', String(port)]);
    assert.equal(taken.status, 1);
    assert.match(taken.stderr, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: EADDRINUSE`));
  } finally {
    busy.close();
  }
});
