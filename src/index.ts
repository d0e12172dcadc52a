/**
 * arbor's public API: open a trained model and query it by external ids
 * (openModel), and run the pipeline stages as functions (ingest, split,
 * buildTree, train, evaluate; ingestItems and addItems for a catalogue
 * that changes). Importing this module has no side effects:
 * no tfjs backend starts and no file opens until a function is called.
 */
export { openModel, type OpenModelOptions, type OpenedModel, type RetrieveRequest, type RetrieveResponse } from './api/open-model.js';
export {
  ingest,
  split,
  buildTree,
  train,
  evaluate,
  ingestItems,
  addItems,
  type AddItemsStageOptions,
  type IngestStageOptions,
  type SplitStageOptions,
  type BuildTreeStageOptions,
  type TrainStageOptions,
  type EvaluateStageOptions,
} from './api/stages.js';
export type { ModelSummary } from './model/summary.js';
export type { Manifest } from './model/folder.js';
export type { ModelEvalReport } from './pipeline/ops.js';
export type { AddItemsSummary } from './pipeline/add-items.js';
export type { ItemsInsertReport } from './data/store.js';
export type { TrainSummary } from './trainer/train.js';
export type { IngestReport, InputFormat, SplitReport } from './data/types.js';
export type { BackendChoice } from './scorer/backend.js';
export type { Logger } from './core/log.js';
export { ArborError, UsageError, InputError, ModelFormatError, NotFoundError, StoreError, FileError, CheckpointError } from './core/errors.js';
