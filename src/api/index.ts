/** The library's entry points in external ids: openModel (retrieve, batches, info, close) and the pipeline stages as functions. */
export { openModel, type OpenModelOptions, type OpenedModel, type RetrieveRequest, type RetrieveResponse } from './open-model.js';
export { ingest, split, buildTree, train, evaluate, type IngestStageOptions, type SplitStageOptions, type BuildTreeStageOptions, type TrainStageOptions, type EvaluateStageOptions } from './stages.js';

