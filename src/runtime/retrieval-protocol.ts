/** Messages between the retrieval pool and its workers (structured-cloned; typed arrays stay typed). */
import type { Query } from './retrieval-service.js';

/** An error as it crosses the thread boundary. */
export interface WireError {
  name: string;
  message: string;
}

/** One query's answer or its error. */
export type WireResult = { ok: true; items: Int32Array; scores: Float32Array; pairsScored: number } | { ok: false; error: WireError };

/** Main thread → worker: a batch of queries. */
export interface ToWorker {
  id: number;
  queries: Query[];
}

/** Worker → main thread. */
export type FromWorker =
  | { type: 'ready'; backend: string; ms: number }
  | { type: 'fatal'; error: WireError }
  | { type: 'result'; id: number; results: WireResult[] };
