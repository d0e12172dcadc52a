/**
 * One worker of the retrieval pool (see retrieval-pool.ts): loads the model folder and
 * its own tfjs backend, then answers batches of queries with the batched beam
 * search. A batch that throws is retried query by query, so one bad query
 * fails alone. Not part of the public API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readModel } from '../model/folder.js';
import { initBackend, type BackendChoice } from '../scorer/backend.js';
import type { RetrievalResult, Retriever } from '../beam/retriever.js';
import type { Query } from './retrieval-service.js';
import type { FromWorker, ToWorker, WireError, WireResult } from './retrieval-protocol.js';
import { networkSearch } from '../beam/network-search.js';

const port = parentPort!;
const { modelDir, backend, method } = workerData as { modelDir: string; backend: BackendChoice; method: 'beam' | 'brute-force' };

function wireError(e: unknown): WireError {
  const err = e as Error;
  return { name: err?.name ?? 'Error', message: err?.message ?? String(e) };
}

function toWire(r: RetrievalResult): WireResult {
  return { ok: true, items: r.items, scores: r.scores, pairsScored: r.pairsScored };
}

async function start(): Promise<Retriever> {
  const started = Date.now();
  const name = await initBackend(backend);
  const model = readModel(modelDir, { requireScorer: true });
  const search: Retriever = networkSearch(model.tree, model.network!, method);
  port.postMessage({ type: 'ready', backend: name, ms: Date.now() - started } satisfies FromWorker);
  return search;
}

start().then(
  (search) => {
    port.on('message', (msg: ToWorker) => {
      const queries: Query[] = msg.queries;
      let results: WireResult[];
      try {
        results = (search.retrieveBatch ? search.retrieveBatch(queries) : queries.map((q) => search.retrieve(q.history, q.opts))).map(toWire);
      } catch {
        results = queries.map((q) => {
          try {
            return toWire(search.retrieve(q.history, q.opts));
          } catch (e) {
            return { ok: false, error: wireError(e) };
          }
        });
      }
      const transfer: ArrayBuffer[] = [];
      for (const r of results) if (r.ok) transfer.push(r.items.buffer as ArrayBuffer, r.scores.buffer as ArrayBuffer);
      port.postMessage({ type: 'result', id: msg.id, results } satisfies FromWorker, transfer);
    });
  },
  (e) => port.postMessage({ type: 'fatal', error: wireError(e) } satisfies FromWorker),
);
