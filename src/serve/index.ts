/** The HTTP retrieval service (`arbor serve`). */
export { buildApp, type ServeAppOptions, type ResultBody } from './app.js';
export { HttpError, badRequest } from './http-error.js';
export { QueryResolver, type QueryBody, type QueryDefaults, type ResolvedQuery, type UserSource } from './queries.js';
export { DEFAULT_MAX_BATCH_BEAM, MAX_BEAM, MAX_HISTORY, MAX_K } from './schemas.js';
export { serveLogger, asArborLogger } from './logging.js';
export { openServeService, type ServeServiceOptions } from './service.js';
export { storeUsers } from './users.js';
export { modelSummary, type ModelSummary } from './summary.js';
