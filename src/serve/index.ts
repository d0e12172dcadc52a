/** The HTTP retrieval service (`arbor serve`): routes, request schemas, error mapping and request logging. */
export { buildApp, type ServeAppOptions, type ResultBody } from './app.js';
export { HttpError, badRequest } from './http-error.js';
export { DEFAULT_MAX_BATCH_BEAM, MAX_BEAM, MAX_HISTORY, MAX_K } from './schemas.js';
export { serveLogger, asArborLogger } from './logging.js';
