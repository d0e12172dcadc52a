/**
 * The HTTP JSON service (fastify): builds the app, does not listen (the CLI
 * does). Routes:
 *
 * - `POST /v1/retrieve` — one query → `{items: [{item, score}], pairsScored, skippedHistory, ms}`
 * - `POST /v1/retrieve:batch` — `{queries: [...]}` → `{results: [...], ms}`
 * - `GET /healthz` — `{status: "ok", pending}`
 * - `GET /v1/model` — a summary of the model's manifest
 *
 * Every error is `{"error": "..."}` naming the field: 400 bad request, 404
 * unknown user or route, 413 body over the limit or a batch whose beams sum
 * past `maxBatchBeam`, 415 not JSON, 503 when the request's queries would
 * take the service past `maxPending` unanswered queries (load is shed, not
 * queued without bound). So one request's work and memory are bounded by
 * `maxBatchBeam`, and everything admitted by `maxPending` queries.
 */
import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply } from 'fastify';
import type { RetrievalResult } from '../beam/retriever.js';
import type { RetrievalService } from '../runtime/retrieval-service.js';
import { OverloadError } from '../runtime/retrieval-pool.js';
import { NotFoundError, StoreError, UsageError } from '../core/errors.js';
import type { Model } from '../model/folder.js';
import { HttpError } from './http-error.js';
import { QueryResolver, type QueryBody, type QueryDefaults, type UserSource } from '../model/queries.js';
import { batchResultSchema, batchSchema, errorSchema, querySchema, resultSchema } from './schemas.js';
import { schemaErrorMessage } from './schema-errors.js';
import { DEFAULT_MAX_BATCH_BEAM } from './schemas.js';
import { modelSummary } from '../model/summary.js';

/** What the app serves and its limits. */
export interface ServeAppOptions {
  /** Answers the queries (in-process or a worker pool). */
  service: RetrievalService;
  /** The served model (tree for id mapping, manifest for GET /v1/model). */
  model: Model;
  /** Looks `"user"` ids up; absent when the server has no store. */
  users?: UserSource;
  /** k and beam for requests that give none. */
  defaults: QueryDefaults;
  /** Largest request body in bytes; larger bodies get 413. */
  bodyLimit: number;
  /** Most unanswered queries: a request whose queries would go past it gets 503. */
  maxPending: number;
  /** Most queries in one batch request. */
  maxBatch: number;
  /** Largest sum of the queries' beams in one batch request (default DEFAULT_MAX_BATCH_BEAM); larger batches get 413. */
  maxBatchBeam?: number;
  /** Where request and error logs go (pino); none when absent. */
  logger?: FastifyBaseLogger;
}

/** One answer as sent to clients. */
export interface ResultBody {
  items: { item: string; score: number }[];
  pairsScored: number;
  skippedHistory: number;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/** Builds the fastify app (call `listen` on it to serve). */
export function buildApp(o: ServeAppOptions): FastifyInstance {
  const app = Fastify({
    ...(o.logger ? { loggerInstance: o.logger } : { logger: false }),
    // one line per request from the onResponse hook below instead of fastify's two
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: o.bodyLimit,
    return503OnClosing: true,
    clientErrorHandler,
    forceCloseConnections: 'idle',
    ajv: { customOptions: { allowUnionTypes: true, verbose: true, coerceTypes: false, removeAdditional: false, useDefaults: false, allErrors: false } },
    schemaErrorFormatter: (errors, dataVar) => new Error(schemaErrorMessage(errors, dataVar)),
  }) as unknown as FastifyInstance;
  const { service, model } = o;
  const itemIds = model.tree.items.itemIds;
  const resolver = new QueryResolver(model.tree, o.defaults, o.users);
  const summary = modelSummary(model);
  const errors = { '4xx': errorSchema, '5xx': errorSchema };

  const toBody = (r: RetrievalResult, skippedHistory: number): ResultBody => ({
    items: Array.from(r.items, (it, i) => ({ item: itemIds[it], score: round(r.scores[i], 6) })),
    pairsScored: r.pairsScored,
    skippedHistory,
  });
  const maxBatchBeam = o.maxBatchBeam ?? DEFAULT_MAX_BATCH_BEAM;
  /** True (and the reply set to 503) when `queries` more would take the service past maxPending. */
  const shed = (reply: FastifyReply, queries: number): boolean => {
    const pending = service.pending;
    if (pending + queries <= o.maxPending) return false;
    reply.code(503).header('retry-after', '1');
    reply.send({ error: `overloaded: ${pending} queries pending (limit ${o.maxPending})${queries > 1 ? `, this batch brings ${queries}` : ''}; retry later` });
    return true;
  };

  // draining: answers still in flight close their connection, so keep-alive clients do not hold the exit up
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    if (closing) reply.header('connection', 'close');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, url: req.url, statusCode: reply.statusCode, ms: round(reply.elapsedTime, 3) }, 'request');
  });

  // JSON bodies only (fastify would also parse text/plain, which must get 415 like any other type)
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as Buffer));
    } catch (e) {
      done(e as Error, undefined);
    }
  });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const { status, message } = describeError(err, o.bodyLimit);
    if (status >= 500) req.log.error({ err }, 'request failed');
    if (status === 503) reply.header('retry-after', '1');
    reply.code(status).send({ error: message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ error: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  app.post('/v1/retrieve', { schema: { body: querySchema, response: { 200: resultSchema, ...errors } } }, async (req, reply) => {
    if (shed(reply, 1)) return reply;
    const t0 = performance.now();
    const { query, skippedHistory } = resolver.resolve(req.body as QueryBody);
    const r = await service.retrieve(query);
    return { ...toBody(r, skippedHistory), ms: round(performance.now() - t0, 3) };
  });

  // "::" escapes the colon (find-my-way would read ":batch" as a parameter)
  app.post('/v1/retrieve::batch', { schema: { body: batchSchema(o.maxBatch), response: { 200: batchResultSchema, ...errors } } }, async (req, reply) => {
    const t0 = performance.now();
    const resolved = (req.body as { queries: QueryBody[] }).queries.map((q, i) => resolver.resolve(q, `queries[${i}].`));
    const beams = resolved.reduce((sum, r) => sum + r.query.opts.beam!, 0);
    if (beams > maxBatchBeam) {
      throw new HttpError(413, `queries: their beams sum to ${beams} (each query's beam, or 2 × its k when it gives none), over this server's limit of ${maxBatchBeam}; split the batch or ask for smaller k and beam`);
    }
    if (shed(reply, resolved.length)) return reply;
    const results = await service.retrieveBatch(resolved.map((r) => r.query));
    return { results: results.map((r, i) => toBody(r, resolved[i].skippedHistory)), ms: round(performance.now() - t0, 3) };
  });

  app.get('/healthz', async () => ({ status: 'ok', pending: service.pending }));
  app.get('/v1/model', async () => summary);
  return app;
}

/** Status and `{"error"}` message for an error thrown while handling a request. */
function describeError(err: FastifyError, bodyLimit: number): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.statusCode, message: err.message };
  if (err instanceof UsageError) return { status: 400, message: err.message };
  if (err instanceof NotFoundError) return { status: 404, message: err.message };
  if (err instanceof OverloadError) return { status: 503, message: `${err.message}; retry later` };
  // the store behind "user" lookups is locked by another process (an ingest): a passing condition
  if (err instanceof StoreError && err.fault === 'locked') return { status: 503, message: 'user: the store is locked by another process (an ingest?); retry later' };
  if (err.validation) return { status: 400, message: err.message };
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { status: 413, message: `body: larger than the limit of ${bodyLimit} bytes` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return { status: 400, message: 'body: not valid JSON' };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { status: 400, message: 'content-length: does not match the body' };
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { status: 400, message: 'body: empty (expected a JSON object)' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { status: 415, message: 'content-type: must be application/json' };
  }
  const status = err.statusCode ?? 500;
  if (status >= 400 && status < 500) return { status, message: err.message };
  return { status: 500, message: 'internal error (see the server log)' };
}

/**
 * Answers what node's HTTP parser rejects before a request exists (headers
 * over 16 KiB, malformed HTTP, a request timeout) with the service's JSON
 * error shape, and closes the connection (so a keep-alive client does not
 * reuse it).
 */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'headers: the URL and headers are larger than the server accepts (16 KiB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'request: timed out']
        : [400, 'request: malformed HTTP'];
  const body = JSON.stringify({ error: message });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy();
}

/**
 * A request body as JSON: valid UTF-8 (ids are compared as text), valid
 * JSON, and without a "__proto__" key or a "constructor" object holding a
 * "prototype" key anywhere (refused by name instead of being dropped or
 * called invalid JSON). Throws HttpError 400.
 */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) throw new HttpError(400, 'body: empty (expected a JSON object)');
  if (!isUtf8(body)) throw new HttpError(400, 'body: not valid UTF-8');
  const text = body.toString('utf8');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body: not valid JSON');
  }
  if ((text.includes('__proto__') || text.includes('prototype')) && forbiddenKey(doc)) {
    throw new HttpError(400, 'body: a "__proto__" key (or "constructor" with "prototype") is not allowed');
  }
  return doc;
}

/** True when `doc` holds a "__proto__" key or a "constructor" object with a "prototype" key, at any depth (iterative: bodies may nest deeply). */
function forbiddenKey(doc: unknown): boolean {
  const stack: unknown[] = [doc];
  while (stack.length > 0) {
    const v = stack.pop();
    if (!v || typeof v !== 'object') continue;
    if (Array.isArray(v)) {
      for (const x of v) stack.push(x);
      continue;
    }
    for (const key of Object.keys(v)) {
      const child = (v as Record<string, unknown>)[key];
      if (key === '__proto__') return true;
      if (key === 'constructor' && child && typeof child === 'object' && Object.hasOwn(child, 'prototype')) return true;
      stack.push(child);
    }
  }
  return false;
}
