/**
 * Asynchronous retrieval, the shape the HTTP service and batch retrieval
 * use: one implementation answers in-process, another spreads queries over a
 * pool of worker threads (one tfjs backend each).
 */
import type { Query, RetrievalResult, Retriever } from '../beam/retriever.js';

export type { Query } from '../beam/retriever.js';

/** Answers queries asynchronously. */
export interface RetrievalService {
  /** Answers one query. */
  retrieve(q: Query): Promise<RetrievalResult>;
  /** Answers several queries; results in the same order. */
  retrieveBatch(qs: Query[]): Promise<RetrievalResult[]>;
  /** Queries accepted and not yet answered (for load shedding). */
  readonly pending: number;
  /** Waits for accepted queries, then frees resources. */
  close(): Promise<void>;
}

/** A RetrievalService that runs a Retriever on the calling thread. */
export class LocalRetrievalService implements RetrievalService {
  private inFlight = 0;
  constructor(readonly retriever: Retriever) {}

  get pending(): number {
    return this.inFlight;
  }

  async retrieve(q: Query): Promise<RetrievalResult> {
    this.inFlight++;
    try {
      return this.retriever.retrieve(q.history, q.opts);
    } finally {
      this.inFlight--;
    }
  }

  async retrieveBatch(qs: Query[]): Promise<RetrievalResult[]> {
    this.inFlight += qs.length;
    try {
      const r = this.retriever;
      return r.retrieveBatch ? r.retrieveBatch(qs) : qs.map((q) => r.retrieve(q.history, q.opts));
    } finally {
      this.inFlight -= qs.length;
    }
  }

  async close(): Promise<void> {}
}
