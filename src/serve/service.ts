/** The one place the server's RetrievalService is created. */
import { BeamSearch } from '../beam/beam.js';
import { LocalRetrievalService, type RetrievalService } from '../beam/service.js';
import type { Logger } from '../core/log.js';
import type { Model } from '../model/folder.js';
import { NetworkScorer } from '../scorer/session.js';

/** How the service should run. */
export interface ServeServiceOptions {
  /** Worker threads requested (0: one per core). */
  workers: number;
  logger: Logger;
}

/**
 * Opens the RetrievalService behind `arbor serve` for the model in
 * `modelDir` (already loaded as `model`). Today: beam search in-process on
 * the calling thread (`workers` is passed on but not used by it); the
 * worker-thread pool replaces this body when it lands.
 */
export async function openServeService(modelDir: string, model: Model, o: ServeServiceOptions): Promise<RetrievalService> {
  if (!model.network) throw new Error(`${modelDir} has no trained scorer`);
  o.logger.info(`retrieval in-process on the main thread (workers=${o.workers} requested; the worker pool is not wired in yet)`);
  return new LocalRetrievalService(new BeamSearch(model.tree, new NetworkScorer(model.network, model.tree)));
}
