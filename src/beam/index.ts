/** Retrieval: the Retriever interface, tree beam search, the brute-force oracle, and filters (search only: the worker pool and the asynchronous services are in src/runtime). */
export type { Query, Retriever, RetrieveOptions, RetrievalResult } from './retriever.js';
export { NODE_RULE, PATH_RULE, defaultBeam, describePathWeight, isPathWeight } from './retriever.js';
export { BeamSearch, validateQuery } from './beam.js';
export { BruteForce } from './brute.js';
export { QueryFilter, validateCategories } from './filter.js';
export { topK, sigmoid, logSigmoid } from './topk.js';
export { networkSearch, type SearchMethod } from './network-search.js';
