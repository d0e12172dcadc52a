/** The model folder (manifest, tree and scorer, written atomically, verified on load) and the catalogue and query layer over it. */
export { writeModel, readModel, holdsTrainedScorer, MODEL_FORMAT, MODEL_VERSION, type Manifest, type Model } from './folder.js';
export { EXCLUDE_HISTORY_DEFAULT, ModelCatalogue, QueryResolver, type IndexQuery, type QueryBody, type QueryDefaults, type ResolvedQuery, type UserSource } from './queries.js';
export { TreeDataset, storeToTree, mapItems, mapSequences, mapCases } from './dataset.js';
export { modelSummary, type ModelSummary } from './summary.js';
