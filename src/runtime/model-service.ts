/** The one place a loaded model's RetrievalService is created (the library's openModel and `arbor serve`). */
import { openRetrievalService } from './retrieval-pool.js';
import { LocalRetrievalService, type RetrievalService } from './retrieval-service.js';
import { UsageError } from '../core/errors.js';
import { silentLogger, type Logger } from '../core/log.js';
import type { Model } from '../model/folder.js';
import type { BackendChoice } from '../scorer/backend.js';
import { networkSearch } from '../beam/network-search.js';

/** How the service should run. */
export interface ModelServiceOptions {
  /** Worker threads (one tfjs backend each); 0 answers on the calling thread. */
  workers: number;
  /** Most unanswered queries the service holds (worker threads only; default: the pool's). */
  maxPending?: number;
  /** tfjs backend of each worker (default: ARBOR_BACKEND or auto). */
  backend?: BackendChoice;
  logger?: Logger;
}

/**
 * Opens the RetrievalService for the model in `modelDir` (already loaded as
 * `model`): beam search on the calling thread over `model`'s scorer when
 * `workers` is 0, else a pool of `workers` worker threads, each with its own
 * copy of the model and its own backend (the caller may then dispose
 * `model.network`).
 */
export async function openModelService(modelDir: string, model: Model, o: ModelServiceOptions): Promise<RetrievalService> {
  if (!model.network) throw new UsageError(`${modelDir} has no trained scorer: run \`arbor train\` first`);
  const logger = o.logger ?? silentLogger;
  if (o.workers === 0) {
    logger.info('retrieval on the calling thread (workers 0)');
    return new LocalRetrievalService(networkSearch(model.tree, model.network));
  }
  logger.info(`retrieval on ${o.workers} worker thread${o.workers === 1 ? '' : 's'}`);
  return openRetrievalService(modelDir, { workers: o.workers, ...(o.maxPending !== undefined ? { maxPending: o.maxPending } : {}), backend: o.backend, logger });
}
