/**
 * A pool of `worker_threads` for retrieval: tfjs-wasm has no threads in
 * Node, so each worker loads the model folder with its own backend and the
 * pool spreads queries over them. Queries wait in one FIFO queue; a worker
 * that becomes free takes up to `batchSize` of them and answers them as one
 * lockstep batch (see BeamSearch.retrieveBatch), so concurrent single queries
 * are batched as well. The queue is bounded: beyond `maxPending` accepted and
 * unanswered queries, new ones are refused with an OverloadError (a service
 * answers 503) instead of queueing without limit.
 *
 * `openRetrievalService(dir, { workers: 0 })` answers on the calling thread
 * instead (LocalRetrievalService); with workers >= 1 the calling thread stays
 * free (a service keeps serving HTTP while workers compute).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { defaultWorkers, maxWorkers } from './workers.js';
import { ArborError, UsageError, assertNonNegativeInteger, assertPositiveInteger } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import { readModel } from '../model/folder.js';
import { initBackend, type BackendChoice } from '../scorer/backend.js';
import type { FromWorker, ToWorker, WireError } from './retrieval-protocol.js';
import type { RetrievalResult } from '../beam/retriever.js';
import { LocalRetrievalService, type Query, type RetrievalService } from './retrieval-service.js';
import { networkSearch } from '../beam/network-search.js';

/** Refused because the pool already holds `maxPending` unanswered queries. */
export class OverloadError extends ArborError {
  constructor(readonly pending: number, readonly maxPending: number) {
    super(`retrieval is overloaded: ${pending} queries pending (limit ${maxPending})`);
  }
}

/** Options of `openRetrievalService`. */
export interface PoolOptions {
  /** Worker threads; 0 answers on the calling thread. Default: the number of CPU cores. */
  workers?: number;
  /** Most queries a worker answers in one batch (default 16). */
  batchSize?: number;
  /** Most accepted, unanswered queries before new ones are refused (default 10000). */
  maxPending?: number;
  /** Retrieval method the workers run (default "beam"; "brute-force" for benchmarks of the oracle). */
  method?: 'beam' | 'brute-force';
  /** tfjs backend for every worker (default: ARBOR_BACKEND or auto). */
  backend?: BackendChoice;
  logger?: Logger;
}

export { defaultWorkers, maxWorkers } from './workers.js';

/** Opens a retrieval service over a trained model folder (see the module doc). */
export async function openRetrievalService(modelDir: string, opts: PoolOptions = {}): Promise<RetrievalService> {
  const workers = opts.workers ?? defaultWorkers();
  assertNonNegativeInteger('workers', workers);
  if (workers > maxWorkers()) {
    throw new UsageError(`workers must be at most ${maxWorkers()} (twice the ${availableParallelism()} CPU cores; each worker holds a copy of the model), got ${workers}`);
  }
  if (workers === 0) {
    await initBackend(opts.backend);
    const model = readModel(modelDir, { requireScorer: true });
    return new LocalRetrievalService(networkSearch(model.tree, model.network!, opts.method ?? 'beam'));
  }
  return WorkerPool.start(modelDir, { ...opts, workers });
}

interface Task {
  query: Query;
  resolve: (r: RetrievalResult) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  busy: Task[] | undefined;
  batchId: number;
}

function fromWire(e: WireError): Error {
  return e.name === 'UsageError' ? new UsageError(e.message) : new ArborError(e.message);
}

const WORKER_URL = new URL('./retrieval-worker.js', import.meta.url);

/** The worker-thread implementation of RetrievalService. */
export class WorkerPool implements RetrievalService {
  private readonly slots: Slot[] = [];
  private queue: Task[] = [];
  private head = 0;
  private inFlight = 0;
  private closing = false;
  private closed = false;
  private drained: (() => void) | undefined;
  private nextId = 0;

  private constructor(
    private readonly modelDir: string,
    private readonly batchSize: number,
    private readonly maxPending: number,
    private readonly backend: BackendChoice | undefined,
    private readonly method: 'beam' | 'brute-force',
    private readonly logger: Logger,
  ) {}

  /** Starts `workers` threads and resolves once every one has loaded the model (rejects with the first load error). */
  static async start(modelDir: string, opts: PoolOptions & { workers: number }): Promise<WorkerPool> {
    assertPositiveInteger('workers', opts.workers);
    const batchSize = opts.batchSize ?? 16;
    const maxPending = opts.maxPending ?? 10000;
    assertPositiveInteger('batchSize', batchSize);
    assertPositiveInteger('maxPending', maxPending);
    const pool = new WorkerPool(modelDir, batchSize, maxPending, opts.backend, opts.method ?? 'beam', opts.logger ?? silentLogger);
    const started = Date.now();
    try {
      const backends = await Promise.all(Array.from({ length: opts.workers }, () => pool.spawn()));
      pool.logger.info(`retrieval pool: ${opts.workers} worker(s), backend ${backends[0]}, model ${modelDir} loaded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    } catch (e) {
      await pool.terminate();
      throw e;
    }
    return pool;
  }

  /** Worker threads in the pool. */
  get workers(): number {
    return this.slots.length;
  }

  /** Queries accepted and not yet answered (queued or being computed). */
  get pending(): number {
    return this.queue.length - this.head + this.inFlight;
  }

  retrieve(q: Query): Promise<RetrievalResult> {
    return this.retrieveBatch([q]).then((r) => r[0]);
  }

  retrieveBatch(qs: Query[]): Promise<RetrievalResult[]> {
    if (this.closing) return Promise.reject(new ArborError('the retrieval pool is closed'));
    if (this.pending + qs.length > this.maxPending) return Promise.reject(new OverloadError(this.pending, this.maxPending));
    const all = qs.map((query) => new Promise<RetrievalResult>((resolve, reject) => this.queue.push({ query, resolve, reject })));
    this.dispatch();
    return Promise.all(all);
  }

  /** Stops accepting queries, waits for the accepted ones, then ends the workers. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.pending > 0) await new Promise<void>((r) => (this.drained = r));
    await this.terminate();
  }

  private async terminate(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  /** Starts one worker; resolves with its backend name once it has loaded the model. */
  private spawn(): Promise<string> {
    const worker = new Worker(WORKER_URL, { workerData: { modelDir: this.modelDir, backend: this.backend, method: this.method } });
    const slot: Slot = { worker, busy: undefined, batchId: -1 };
    return new Promise<string>((resolve, reject) => {
      let ready = false;
      worker.on('message', (msg: FromWorker) => {
        if (msg.type === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolve(msg.backend);
          this.dispatch();
        } else if (msg.type === 'fatal') {
          reject(fromWire(msg.error));
        } else if (msg.type === 'result' && slot.busy && msg.id === slot.batchId) {
          const tasks = slot.busy;
          slot.busy = undefined;
          this.inFlight -= tasks.length;
          msg.results.forEach((r, i) => {
            if (r.ok) tasks[i].resolve({ items: r.items, scores: r.scores, pairsScored: r.pairsScored });
            else tasks[i].reject(fromWire(r.error));
          });
          this.dispatch();
        }
      });
      worker.on('error', (e) => {
        if (!ready) reject(new ArborError(`retrieval worker failed to start: ${e.message}`));
        else this.lost(slot, e);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new ArborError(`retrieval worker exited with code ${code} while loading ${this.modelDir}`));
        else if (!this.closed) this.lost(slot, new Error(`exited with code ${code}`));
      });
    });
  }

  /** A worker died: fail its queries, replace it. */
  private lost(slot: Slot, e: Error): void {
    const i = this.slots.indexOf(slot);
    if (i < 0) return;
    this.slots.splice(i, 1);
    const tasks = slot.busy ?? [];
    slot.busy = undefined;
    this.inFlight -= tasks.length;
    for (const t of tasks) t.reject(new ArborError(`retrieval worker failed: ${e.message}`));
    this.logger.warn(`retrieval worker failed (${e.message}); starting a new one`);
    if (!this.closed) this.spawn().catch((err) => this.logger.warn(`could not restart a retrieval worker: ${(err as Error).message}`));
    this.dispatch();
  }

  /** Hands queued queries to idle workers. */
  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.busy || this.head >= this.queue.length) continue;
      const tasks = this.queue.slice(this.head, this.head + this.batchSize);
      this.head += tasks.length;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      slot.busy = tasks;
      slot.batchId = this.nextId++;
      this.inFlight += tasks.length;
      const msg: ToWorker = { id: slot.batchId, queries: tasks.map((t) => t.query) };
      slot.worker.postMessage(msg);
    }
    if (this.pending === 0 && this.drained) {
      const d = this.drained;
      this.drained = undefined;
      d();
    }
  }
}
