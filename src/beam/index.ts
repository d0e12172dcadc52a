/** Retrieval: the Retriever interface, tree beam search, the brute-force oracle, filters and services. */
export type { Retriever, RetrieveOptions, RetrievalResult } from './retriever.js';
export { NODE_RULE, PATH_RULE, describePathWeight, isPathWeight } from './retriever.js';
export { BeamSearch, validateQuery } from './beam.js';
export { BruteForce } from './brute.js';
export { QueryFilter, validateCategories } from './filter.js';
export { topK, sigmoid, logSigmoid } from './topk.js';
export { LocalRetrievalService, type Query, type RetrievalService } from './service.js';
export { openRetrievalService, defaultWorkers, maxWorkers, OverloadError, WorkerPool, type PoolOptions } from './pool.js';
