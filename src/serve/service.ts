/** The one place the server's RetrievalService is created. */
import { BeamSearch } from '../beam/beam.js';
import { openRetrievalService } from '../beam/pool.js';
import { LocalRetrievalService, type RetrievalService } from '../beam/service.js';
import type { Logger } from '../core/log.js';
import type { Model } from '../model/folder.js';
import type { BackendChoice } from '../scorer/backend.js';
import { NetworkScorer } from '../scorer/session.js';

/** How the service should run. */
export interface ServeServiceOptions {
  /** Worker threads (one tfjs backend each); 0 answers on the server's own thread. */
  workers: number;
  /** Most unanswered queries the service holds (the server sheds load before this). */
  maxPending: number;
  /** tfjs backend of each worker (default: ARBOR_BACKEND or auto). */
  backend?: BackendChoice;
  logger: Logger;
}

/**
 * Opens the RetrievalService behind `arbor serve` for the model in
 * `modelDir` (already loaded as `model`): a pool of `workers` worker threads,
 * each with its own copy of the model and its own backend, or beam search on
 * the server's thread when `workers` is 0.
 */
export async function openServeService(modelDir: string, model: Model, o: ServeServiceOptions): Promise<RetrievalService> {
  if (!model.network) throw new Error(`${modelDir} has no trained scorer`);
  if (o.workers === 0) {
    o.logger.info('retrieval on the server thread (--workers 0)');
    return new LocalRetrievalService(new BeamSearch(model.tree, new NetworkScorer(model.network, model.tree)));
  }
  o.logger.info(`retrieval on ${o.workers} worker thread${o.workers === 1 ? '' : 's'}`);
  return openRetrievalService(modelDir, { workers: o.workers, maxPending: o.maxPending, backend: o.backend, logger: o.logger });
}
