/** The HTTP retrieval service (`arbor serve`). */
export { buildApp, type ServeAppOptions, type ResultBody } from './app.js';
export { HttpError, badRequest } from './http-error.js';
export { QueryResolver, type QueryBody, type QueryDefaults, type ResolvedQuery, type UserSource } from '../model/queries.js';
export { DEFAULT_MAX_BATCH_BEAM, MAX_BEAM, MAX_HISTORY, MAX_K } from './schemas.js';
export { serveLogger, asArborLogger } from './logging.js';
export { openModelService as openServeService, type ModelServiceOptions as ServeServiceOptions } from '../api/service.js';
export { storeUsers } from '../pipeline/items.js';
export { modelSummary, type ModelSummary } from '../model/summary.js';
