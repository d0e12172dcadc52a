/** The data layer: input formats, the SQLite store, the train/test split and the synthetic generator. */
export type {
  Catalogue, DatasetInsertReport, EvalCase, IngestReport, InputFormat, SplitReport, StoreStats, UserRole, UserSequence,
} from './types.js';
export { Store, type SplitOptions, type ItemsInsertReport } from './store.js';
export { parseItemsFile, type ItemRow } from './items-file.js';
export type { IngestOptions } from './ingest.js';
export { INPUT_FORMATS } from './formats/index.js';
export { halfSplit } from './split.js';
export {
  generateSynthetic, writeSyntheticUserBehaviorCsv, writeUserBehaviorCsv, type SyntheticConfig, type SyntheticDataset, type SyntheticOptions,
} from './synthetic.js';
export { readItemVectors, type ItemVectors } from './item-vectors.js';
