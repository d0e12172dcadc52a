/** Worker threads and asynchronous services: the retrieval pool over model folders, in-process retrieval services, and the data-parallel trainer's workers. */
export { LocalRetrievalService, type Query, type RetrievalService } from './retrieval-service.js';
export { openRetrievalService, defaultWorkers, maxWorkers, OverloadError, WorkerPool, type PoolOptions } from './retrieval-pool.js';
export { trainParallel, defaultTrainWorkers, inProcessReason } from './train-pool.js';
export { openModelService, type ModelServiceOptions } from './model-service.js';
