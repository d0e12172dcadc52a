/** Retrieval: the Retriever interface, tree beam search and the brute-force oracle. */
export type { Retriever, RetrieveOptions, RetrievalResult } from './retriever.js';
export { BeamSearch, validateQuery } from './beam.js';
export { BruteForce } from './brute.js';
export { topK, sigmoid } from './topk.js';
