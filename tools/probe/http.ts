/**
 * Probe cases for the HTTP service: malformed, oversized and adversarial
 * requests (bodies, content types, field values, batches, URLs, headers,
 * idle and slow connections), a locked store behind `--db`, and startup
 * options that must be refused. Every answer must be a JSON error with a
 * 4xx/503 status naming the field, and the server must keep serving.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { BIN, clip, copy } from './harness.js';
import type { Probe } from './probe.js';

interface Server {
  url: string;
  port: number;
  proc: ChildProcess;
  stop(): Promise<number | null>;
}

/** Starts `arbor serve ARGS --port 0` and resolves once it listens. */
function startServer(args: string[], cwd: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdout!.on('data', (d) => {
      out += d;
      const line = out.split('\n')[0];
      if (out.includes('\n')) {
        const { url, port } = JSON.parse(line);
        resolve({ url, port, proc, stop: async () => (proc.kill('SIGTERM'), exited) });
      }
    });
    proc.on('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

/** One raw HTTP request; resolves with status and body text. */
function raw(url: string, o: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; chunks?: Buffer[] }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url + o.path, { method: o.method ?? 'POST', headers: o.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    if (o.chunks) for (const c of o.chunks) req.write(c);
    if (o.body !== undefined) req.write(o.body);
    req.end();
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };
const post = (url: string, body: unknown, path = '/v1/retrieve', headers: Record<string, string> = JSON_TYPE) =>
  raw(url, { path, headers, body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body) });

/** Runs the HTTP cases. */
export async function httpCases(p: Probe): Promise<void> {
  const area = 'http';
  const d = p.dir('H');
  copy(p.store, join(d, 's.db'));
  const server = await startServer(['--model', p.model, '--db', 's.db', '--workers', '1', '--body-limit', '65536', '--max-pending', '64'], d);
  const url = server.url;
  const req = async (
    id: string,
    what: string,
    shown: string,
    status: number,
    says: RegExp | undefined,
    send: () => Promise<{ status: number; body: string }>,
  ) => {
    await p.run(id, area, what, shown, `${status}${says ? ` ${says.source.replace(/\\/g, '')}` : ''}, the server keeps serving`, async () => {
      const r = await send();
      let failure = r.status === status ? '' : `status ${r.status}`;
      let error = r.body;
      try {
        error = (JSON.parse(r.body) as { error?: string }).error ?? r.body;
      } catch {
        // not JSON: judged below
      }
      if (!failure && says && !says.test(error)) failure = 'message differs';
      if (!failure && r.status >= 400 && !/^\{"error":"/.test(r.body)) failure = 'not a JSON error';
      const health = await raw(url, { method: 'GET', path: '/healthz' }).catch(() => ({ status: 0, body: '' }));
      if (!failure && health.status !== 200) failure = 'the server stopped answering';
      return [`${r.status} ${clip(r.body, 160)}`, failure];
    });
  };
  const q = (body: unknown, path = '/v1/retrieve') => () => post(url, body, path);
  await req('H01', 'body that is not JSON', `POST /v1/retrieve '{"history": ['`, 400, /body: not valid JSON/, q('{"history": ['));
  await req('H02', 'empty body', 'POST /v1/retrieve with an empty JSON body', 400, /body: empty/, q(''));
  await req('H03', 'Content-Type text/plain', 'POST /v1/retrieve -H content-type:text/plain', 415, /content-type: must be application\/json/, () => post(url, '{"history": []}', '/v1/retrieve', { 'content-type': 'text/plain' }));
  await req('H04', 'no Content-Type', 'POST /v1/retrieve without content-type', 415, /content-type/, () => raw(url, { path: '/v1/retrieve', body: '{"history": []}' }));
  await req('H05', 'a form body', 'POST /v1/retrieve -H content-type:application/x-www-form-urlencoded', 415, undefined, () => post(url, 'history=i1', '/v1/retrieve', { 'content-type': 'application/x-www-form-urlencoded' }));
  await req('H06', 'a multipart body', 'POST /v1/retrieve -H content-type:multipart/form-data', 415, undefined, () => post(url, '--x\r\n\r\n--x--', '/v1/retrieve', { 'content-type': 'multipart/form-data; boundary=x' }));
  await req('H07', 'JSON declared as latin1', 'POST /v1/retrieve -H "content-type: application/json; charset=latin1"', 200, undefined, () => post(url, '{"history": ["i1"], "k": 2}', '/v1/retrieve', { 'content-type': 'application/json; charset=latin1' }));
  await req('H08', 'a "__proto__" key', `{"history": [], "__proto__": {"k": 3}}`, 400, /"__proto__" key/, q('{"history": [], "__proto__": {"k": 3}}'));
  await req('H09', 'a "constructor": {"prototype"} key', `{"queries": [{"history": [], "constructor": {"prototype": {}}}]}`, 400, /"__proto__" key/, q('{"queries": [{"history": [], "constructor": {"prototype": {}}}]}', '/v1/retrieve:batch'));
  await req('H10', 'a misspelt field', '{"histroy": ["i1"]}', 400, /histroy: unknown field/, q({ histroy: ['i1'] }));
  const fields: [string, string, string, RegExp][] = [
    ['H11', 'k 0', '{"history": [], "k": 0}', /k: must be >= 1, got 0/],
    ['H12', 'k -1', '{"history": [], "k": -1}', /k: must be >= 1, got -1/],
    ['H13', 'k 1.5', '{"history": [], "k": 1.5}', /k: must be integer, got 1\.5/],
    ['H14', 'k "3" (a string)', '{"history": [], "k": "3"}', /k: must be integer, got "3"/],
    ['H15', 'k 1e400', '{"history": [], "k": 1e400}', /k: must be integer, got a number too large \(Infinity\)/],
    ['H16', 'k 10001', '{"history": [], "k": 10001}', /k: must be <= 10000/],
    ['H17', 'k null', '{"history": [], "k": null}', /k: must be integer, got null/],
    ['H18', 'k true', '{"history": [], "k": true}', /k: must be integer, got true/],
    ['H19', 'beam below k', '{"history": [], "k": 10, "beam": 5}', /beam: must be >= k \(beam 5, k 10\)/],
    ['H20', 'beam 1e6', '{"history": [], "beam": 1000000}', /beam: must be <= 100000/],
    ['H21', 'history a string', '{"history": "i1,i2"}', /history: must be array/],
    ['H22', 'history holding an object', '{"history": [{"id": "i1"}]}', /history\[0\]: must be string or integer/],
    ['H23', 'history id 1.5', '{"history": [1.5]}', /history\[0\]: must be string or integer, got 1\.5/],
    ['H24', 'categories []', '{"history": [], "categories": []}', /categories: must NOT have fewer than 1 items/],
    ['H25', 'an unknown category', '{"history": [], "categories": ["nope"]}', /categories: unknown category "nope"/],
    ['H26', 'history and user both', '{"history": [], "user": "u1"}', /give either "history" or "user"/],
    ['H27', 'neither history nor user', '{"k": 3}', /history: required \(or give "user"\)/],
    ['H28', 'a body that is a JSON array', '[1, 2]', /must be object/],
    ['H29', 'excludeHistory "yes"', '{"history": [], "excludeHistory": "yes"}', /excludeHistory: must be boolean/],
  ];
  for (const [id, what, body, says] of fields) await req(id, what, body, 400, says, q(body));
  await req('H30', 'history of 10,001 ids', '{"history": [10,001 × "i1"]}', 400, /history: must NOT have more than 10000 items/, q({ history: Array.from({ length: 10_001 }, () => 'i1') }));
  await req('H31', 'unknown, numeric, negative, empty and non-ASCII ids', '{"history": ["nope", 5, -5, "", "商品"], "k": 2}', 200, /"skippedHistory":\d/, q({ history: ['nope', 5, -5, '', '商品'], k: 2 }));
  await req('H32', 'a body that is not UTF-8', 'POST bytes {"history": ["i\\xe8"]}', 400, /body: not valid UTF-8/, q(Buffer.concat([Buffer.from('{"history": ["i'), Buffer.from([0xe8]), Buffer.from('"]}')])));
  await req('H33', 'an unknown user', '{"user": "nobody"}', 404, /user: "nobody" is not in the store/, q({ user: 'nobody' }));
  await req('H34', 'a batch with no queries', '{"queries": []}', 400, /queries: must NOT have fewer than 1 items/, q({ queries: [] }, '/v1/retrieve:batch'));
  await req('H35', 'a batch of 65 queries (more than --max-pending 64)', '{"queries": [65 × {...}]}', 400, /queries: must NOT have more than 64 items/, q({ queries: Array.from({ length: 65 }, () => ({ history: [] })) }, '/v1/retrieve:batch'));
  await req('H36', 'the hostile batch: 64 queries, k = 10,000 each', '{"queries": [64 × {"history": ["i1"], "k": 10000}]}', 413, /beams sum to 1280000 .*limit of 102400/, q({ queries: Array.from({ length: 64 }, () => ({ history: ['i1'], k: 10_000 })) }, '/v1/retrieve:batch'));
  await req('H37', 'a batch whose third query is bad', '{"queries": [{...}, {...}, {"k": 0}]}', 400, /queries\[2\]\.k: must be >= 1/, q({ queries: [{ history: [] }, { history: [] }, { history: [], k: 0 }] }, '/v1/retrieve:batch'));
  await req('H38', 'queries is an object', '{"queries": {"0": {}}}', 400, /queries: must be array/, q({ queries: { 0: {} } }, '/v1/retrieve:batch'));
  await req('H39', 'a body over --body-limit', 'POST 70 kB', 413, /body: larger than the limit of 65536 bytes/, q(`{"history": [${Array.from({ length: 14_000 }, () => '"i1"').join(',')}]}`));
  await req('H40', 'a chunked body over the limit (no content-length)', 'POST chunked 80 kB', 413, /larger than the limit/, () =>
    raw(url, { path: '/v1/retrieve', headers: { ...JSON_TYPE, 'transfer-encoding': 'chunked' }, chunks: Array.from({ length: 20 }, () => Buffer.alloc(4096, 0x20)) }));
  await req('H41', 'JSON nested 30,000 levels', '{"history": [[[[…]]]]}', 400, /history\[0\]: must be string or integer/, q(`{"history": ${'['.repeat(30_000)}${']'.repeat(30_000)}}`));
  await req('H42', 'GET on a POST route', 'GET /v1/retrieve', 404, /no route GET \/v1\/retrieve/, () => raw(url, { method: 'GET', path: '/v1/retrieve' }));
  await req('H43', 'an unknown route', 'POST /v2/anything', 404, /no route/, () => post(url, {}, '/v2/anything'));
  await req('H44', 'a URL of 100 kB', 'GET /healthz?x=<100 kB>', 431, /headers: the URL and headers are larger than the server accepts/, () => raw(url, { method: 'GET', path: `/healthz?x=${'a'.repeat(100_000)}` }).catch(() => ({ status: 431, body: '{"error":"(connection closed)"}' })));
  await p.run('H45', area, '1,000 idle connections, then a request', 'open 1,000 TCP connections that send nothing; GET /healthz', '200 at once: idle connections do not block the server', async () => {
    const sockets: Socket[] = [];
    await Promise.all(Array.from({ length: 1000 }, () => new Promise<void>((r) => {
      const s = connect(server.port, '127.0.0.1', () => r());
      s.on('error', () => r());
      sockets.push(s);
    })));
    const t0 = Date.now();
    const h = await raw(url, { method: 'GET', path: '/healthz' });
    const ms = Date.now() - t0;
    for (const s of sockets) s.destroy();
    return [`${h.status} in ${ms} ms`, h.status === 200 && ms < 2000 ? '' : 'blocked'];
  });
  await p.run('H46', area, 'a client sending its body one byte every 20 ms', 'a slow POST in parallel with normal requests', 'the normal requests are answered meanwhile', async () => {
    const body = Buffer.from('{"history": ["i1"], "k": 2}');
    const slow = new Promise<number>((resolve) => {
      const r = request(url + '/v1/retrieve', { method: 'POST', headers: { ...JSON_TYPE, 'content-length': String(body.length) } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      r.on('error', () => resolve(0));
      let i = 0;
      const t = setInterval(() => {
        r.write(body.subarray(i, i + 1));
        if (++i >= body.length) {
          clearInterval(t);
          r.end();
        }
      }, 20);
    });
    const t0 = Date.now();
    const fast = await post(url, { history: ['i2'], k: 2 });
    const fastMs = Date.now() - t0;
    const slowStatus = await slow;
    return [`fast request ${fast.status} in ${fastMs} ms; slow one ${slowStatus}`, fast.status === 200 && fastMs < 2000 && slowStatus === 200 ? '' : 'blocked'];
  });
  await p.run('H47', area, 'a store locked by another process while serving user lookups', '{"user": "u3"} while another connection holds an exclusive lock on the store', '503 with Retry-After (the store is busy), not 500; 200 again once it is free', async () => {
    const holder = new Database(join(d, 's.db'));
    holder.exec('BEGIN EXCLUSIVE');
    let locked: { status: number; body: string };
    try {
      locked = await post(url, { user: 'u3', k: 2 });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    const after = await post(url, { user: 'u3', k: 2 });
    return [`${locked.status} ${clip(locked.body, 140)}; then ${after.status}`, locked.status === 503 && after.status === 200 ? '' : 'unexpected'];
  });
  await p.run('H48', area, '200 concurrent requests against --max-pending 64', '200 parallel POST /v1/retrieve (k 200, beam 400)', 'only 200 and 503 (with Retry-After); /healthz never above 64 pending', async () => {
    let maxPending = 0;
    const poll = setInterval(async () => {
      const h = await raw(url, { method: 'GET', path: '/healthz' }).catch(() => undefined);
      if (h) maxPending = Math.max(maxPending, JSON.parse(h.body).pending);
    }, 5);
    const answers = await Promise.all(Array.from({ length: 200 }, (_, i) => post(url, { history: [`i${i % 50}`], k: 200, beam: 400 })));
    clearInterval(poll);
    const statuses = new Map<number, number>();
    for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    const ok = [...statuses.keys()].every((s) => s === 200 || s === 503) && maxPending <= 64;
    return [`${[...statuses].map(([s, n]) => `${n} × ${s}`).join(', ')}; most pending seen ${maxPending}`, ok ? '' : 'unexpected'];
  });
  const code = await server.stop();
  await p.run('H49', area, 'SIGTERM after all that', 'kill -TERM <serve>', 'exit 0', () => [`exit ${code}`, code === 0 ? '' : 'not 0']);

  // startup options
  const serve = (id: string, what: string, args: string[], exit: 1 | 2, says: RegExp) =>
    p.cli(id, area, what, ['serve', '--model', p.model, ...args], { code: exit, pattern: says, text: `exit ${exit}: ${says.source.replace(/\\/g, '')}` }, { cwd: d });
  await serve('H50', 'serve --port 70000', ['--port', '70000'], 2, /--port must be between 0 and 65535, got 70000/);
  await serve('H51', 'serve --port -1', ['--port', '-1'], 2, /--port must be between 0 and 65535, got -1/);
  await serve('H52', 'serve --host 999.1.1.1', ['--host', '999.1.1.1', '--port', '0', '--workers', '0'], 1, /cannot listen on 999\.1\.1\.1/);
  await serve('H53', 'serve --body-limit 10', ['--body-limit', '10'], 2, /--body-limit must be between 64 and/);
  await serve('H54', 'serve --max-pending 0', ['--max-pending', '0'], 2, /--max-pending must be >= 1, got 0/);
  await serve('H55', 'serve --max-batch 300 (over --max-pending 256)', ['--max-batch', '300'], 2, /--max-batch must be between 1 and 256/);
  await serve('H56', 'serve --max-batch-beam 0', ['--max-batch-beam', '0'], 2, /--max-batch-beam must be >= 1/);
  await serve('H57', 'serve --workers 1000', ['--workers', '1000'], 2, /--workers must be between 0 and \d+ \(at most twice the CPU cores/);
  await serve('H58', 'serve --workers -1', ['--workers', '-1'], 2, /--workers must be >= 0/);
  await serve('H59', 'serve --log-level loud', ['--log-level', 'loud'], 2, /log-level/);
  const { spawnSync } = await import('node:child_process');
  spawnSync(process.execPath, [BIN, 'build-tree', '--db', p.store, '--out', join(d, 'untrained')], { cwd: d });
  await serve('H60', 'serve a model without a scorer', ['--model', join(d, 'untrained')], 1, /no trained scorer/);
  const corrupt = p.dir('H61');
  copy(p.store, join(corrupt, 'bad.db'));
  const { readFileSync, writeFileSync } = await import('node:fs');
  const b = readFileSync(join(corrupt, 'bad.db'));
  for (let i = 4096 * 4; i < b.length - 4096; i++) b[i] = (i * 131 + 7) & 0xff;
  writeFileSync(join(corrupt, 'bad.db'), b);
  await serve('H61', 'serve --db a corrupt store', ['--db', join(corrupt, 'bad.db'), '--workers', '0'], 1, /is corrupt/);
  const busy = await startServer(['--model', p.model, '--workers', '0'], d);
  await serve('H62', 'serve on a port in use', ['--port', String(busy.port), '--workers', '0'], 1, /cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
  await busy.stop();
}
